"""Appeal text as the router reads it: simplified characters.

Citizens on Hong Kong or Taiwan input methods (or older phones) write 區, 業, 噪音擾民; the
catalogue's keywords, district names and the kind model's n-grams are simplified. The
classifier maps traditional characters itself (``understand.text_normalise``); the router
applies the same character table, so ``A3區小區物業亂收費`` is routed like ``A3区小区物业乱收费``
instead of falling back to manual dispatch. Text without traditional characters is
returned unchanged (one character-class scan, about 1 µs per appeal).
"""

from __future__ import annotations

from understand.text_normalise import to_simplified


def router_text(text: str | None) -> str:
    """``text`` with traditional characters mapped to simplified ones (``""`` for ``None``)."""
    return to_simplified(text) if text else ""
