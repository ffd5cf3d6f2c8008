"""``python -m cli`` runs the ``hotline`` command."""

from cli.entry import main

main()
