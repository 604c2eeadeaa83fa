"""Allow ``python -m matching`` as an alias of the ``grappes`` command."""

from matching.cli import main

main()
