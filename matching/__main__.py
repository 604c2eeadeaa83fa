"""Allow ``python -m matching`` as an alias of the ``grappes`` command."""

from matching.cli.main import main

main()
