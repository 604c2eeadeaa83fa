"""``python -m grappes``: the ``grappes`` command without its console script."""

from grappes.cli.main import main

main()
