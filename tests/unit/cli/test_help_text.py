"""--help shows docstring paragraphs reflowed, not wrapped twice."""

from cli.help_text import reflow
from cli.main import app


def test_paragraph_lines_are_joined_and_lists_and_blocks_kept():
    doc = """Summary line.

    A paragraph wrapped
    by hand in the source.

    * one item
      continued
    * two
    1. numbered

        indented block
        second line
    """
    assert reflow(doc) == (
        "Summary line.\n\n"
        "A paragraph wrapped by hand in the source.\n\n"
        "* one item continued\n* two\n1. numbered\n\n"
        "    indented block\n    second line"
    )


def test_every_command_of_the_cli_carries_reflowed_help():
    def commands(typer_app):
        yield from typer_app.registered_commands
        for group in typer_app.registered_groups:
            yield from commands(group.typer_instance)

    infos = list(commands(app))
    assert len(infos) > 20
    for info in infos:
        for paragraph in (info.help or "").split("\n\n"):
            lines = paragraph.splitlines()
            # a hand-wrapped line would end where the next one goes on in lower case
            assert all(not (b[:1].islower()) for b in lines[1:]), (info.name, paragraph)
