"""grappes: build ESMS groupings (grappes) for the ESMS numérique programme from FINESS data."""

__version__ = "0.1.0"
