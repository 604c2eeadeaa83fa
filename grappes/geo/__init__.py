"""Where things are: French territories, coordinate systems and distances."""
