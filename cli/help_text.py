"""Command help as people read it: docstrings reflowed for ``--help``.

Typer's rich help keeps every line break of a docstring and then wraps each line to the
terminal, so a paragraph wrapped by hand in the source comes out ragged. Here a
paragraph's lines are joined; bullet items (``*``, ``-``, ``•``) and indented blocks keep
their own lines.
"""

from __future__ import annotations

import inspect
import re

import typer

_NEW_LINE = re.compile(r"^(?:[*\-•] |\d+\. )")


def reflow(doc: str) -> str:
    """Join the hand-wrapped lines of each paragraph of ``doc`` (blank lines separate them)."""
    paragraphs = []
    for paragraph in inspect.cleandoc(doc).split("\n\n"):
        lines: list[str] = []
        for line in paragraph.splitlines():
            if lines and not _NEW_LINE.match(line) and not line.startswith("    "):
                lines[-1] += " " + line.strip()
            else:
                lines.append(line.rstrip())
        paragraphs.append("\n".join(lines))
    return "\n\n".join(paragraphs)


def reflow_help(app: typer.Typer) -> None:
    """Reflow the help of every command of ``app`` and of its sub-apps, in place."""
    for info in app.registered_commands:
        doc = info.help or (inspect.getdoc(info.callback) if info.callback else None)
        if doc:
            info.help = reflow(doc)
    for group in app.registered_groups:
        reflow_help(group.typer_instance)
