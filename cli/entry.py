"""The ``hotline`` console script: the CLI, with a setting that cannot be read said in one
line (exit 2) even when it is read as the commands are imported, and arguments that are not
text refused the same way."""

from __future__ import annotations

import sys

from config.env import SettingError


def main() -> None:
    """Run the ``hotline`` command."""
    _arguments_are_text(sys.argv[1:])
    try:
        from cli.main import app
    except SettingError as exc:  # module-level settings (config/sla.py's defaults …)
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    app()


def _arguments_are_text(args: list[str]) -> None:
    """Bytes the terminal's encoding could not decode reach Python as lone surrogates, which
    no Chinese text processing can use: say which argument, rather than fail deep inside."""
    for i, arg in enumerate(args, 1):
        try:
            arg.encode("utf-8")
        except UnicodeEncodeError:
            print(
                f"error: argument {i} is not valid text in this terminal's encoding "
                "(a GBK terminal with a UTF-8 locale?): pass the text in UTF-8",
                file=sys.stderr,
            )
            raise SystemExit(2) from None
