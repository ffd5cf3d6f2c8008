"""The ``hotline`` command: one CLI for operators, with ``--help`` on every command."""

from __future__ import annotations

import os

import typer

from cli import deadletter, demo, intake, review, routing, sla, stack, understand
from cli.help_text import reflow_help
from cli.service_errors import guard_services
from config.stack import PROJECT_ROOT

app = typer.Typer(
    help="12345 citizen-appeal stream: intake, classification, routing and SLA tracking on Kafka.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(stack.app, name="stack")
app.add_typer(
    routing.app,
    name="routing",
    help="Dispatch catalogue, routing of one appeal, routing evaluation.",
)
app.add_typer(
    sla.app, name="sla", help="Working-day calendar, deadlines and SLA monitoring queries."
)
app.add_typer(
    deadletter.app,
    name="deadletter",
    help="Dead letters: summary by stage and error code; replay once the cause is fixed.",
)
app.add_typer(
    review.app,
    name="review",
    help="Human review (人工复核): list waiting appeals, decide their category and department.",
)
# top-level commands: worker, replay, tail, topics, schema, demo, train, evaluate
for group in (intake.app, demo.app, understand.app):
    app.registered_commands += group.registered_commands


@app.command("config")
def show_config(
    markdown: bool = typer.Option(False, help="Print the README's configuration table instead"),
) -> None:
    """List every HOTLINE_* environment variable, its current value and default."""
    from config.catalogue import all_settings

    settings = all_settings()
    if markdown:
        typer.echo("| variable | default | meaning |\n|---|---|---|")
    for name, doc in sorted(settings.items()):
        if markdown:
            default = doc.default.replace(str(PROJECT_ROOT), ".").replace(
                str(PROJECT_ROOT.parent), ".."
            )
            default = default.replace("|", "\\|")
            typer.echo(f"| `{name}` | `{default}` | {doc.doc} |")
        else:
            typer.echo(
                f"{name}={os.environ.get(name, doc.default)}\n    {doc.doc} (default: {doc.default})"
            )


guard_services(app)
reflow_help(app)  # last: every command and sub-app is registered by now
