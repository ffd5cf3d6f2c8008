"""SCAN patterns for keys under a prefix."""

from __future__ import annotations


def under(prefix: str) -> str:
    """A ``SCAN MATCH`` pattern for every key starting with ``prefix``: its glob characters
    (``* ? [ ] \\``) escaped, so a prefix such as ``centre[1]:`` matches only its own keys."""
    return "".join("\\" + c if c in "*?[]\\" else c for c in prefix) + "*"
