"""The ``hotline`` command: one CLI for operators, with ``--help`` on every command."""

from __future__ import annotations

import typer

from cli import demo, intake, stack

app = typer.Typer(
    help="12345 citizen-appeal stream: intake, classification, routing and SLA tracking on Kafka.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(stack.app, name="stack")
app.registered_commands += intake.app.registered_commands + demo.app.registered_commands


def _mount_optional() -> None:
    """Mount command groups of packages that may not be installed in a trimmed build."""
    from cli import routing

    app.add_typer(
        routing.app,
        name="routing",
        help="Dispatch catalogue, routing of one appeal, routing evaluation.",
    )


@app.command("config")
def show_config() -> None:
    """List every HOTLINE_* environment variable, its current value and default."""
    import os

    import config.data  # noqa: F401  (importing registers the settings)
    from config.env import REGISTRY
    from config.intake import IntakeSettings
    from config.stack import StackSettings
    from config.streams import StreamSettings

    StackSettings(), StreamSettings(), IntakeSettings()
    for name, doc in sorted(REGISTRY.items()):
        typer.echo(
            f"{name}={os.environ.get(name, doc.default)}\n    {doc.doc} (default: {doc.default})"
        )


_mount_optional()
