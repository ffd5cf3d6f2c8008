"""``python -m cli`` runs the ``hotline`` command."""

from cli.main import app

app()
