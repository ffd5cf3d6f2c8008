"""Find the city and district (county-level unit) an appeal is about.

Place names in the shared data are masked by letter and number: cities are ``A市``,
``B市`` …; districts, counties and county-level cities are ``A3区``, ``A7县``, ``A9市``
and belong to the city with the same letter. Real deployments add their own names to
``KNOWN_DISTRICTS`` (a data change, not a code change).

Names are read in traditional characters (``A3區``, ``A7縣``) and in full-width letters and
digits (``Ａ３区``, an input method's full-width mode) too: the intake reads the raw text,
and a district it misses there is lost, as the router then takes the stored ``A市`` as given.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from understand.text_normalise import to_simplified

_DISTRICT = re.compile(r"(?<![A-Za-z0-9])([A-Z])([0-9]{1,2})([区县市])")
_CITY = re.compile(r"(?<![A-Za-z0-9])([A-Z])市")

#: Extra real-world names → (city, district); empty for the masked data.
KNOWN_DISTRICTS: dict[str, tuple[str, str]] = {}

_FULL_WIDTH = re.compile("[\uff10-\uff19\uff21-\uff3a]")
_TO_ASCII = {c: c - 0xFEE0 for c in (*range(0xFF10, 0xFF1A), *range(0xFF21, 0xFF3B))}


def _plain(text: str) -> str:
    """``text`` with simplified characters and ASCII upper-case letters and digits."""
    # masked names (A3區) differ from simplified only in 區/縣; real names may in any char
    if KNOWN_DISTRICTS or "區" in text or "縣" in text:
        text = to_simplified(text)
    return text.translate(_TO_ASCII) if _FULL_WIDTH.search(text) else text


@dataclass(frozen=True)
class District:
    """A county-level unit and its city, e.g. ``A市`` / ``A3区``."""

    city: str
    district: str | None

    @property
    def name(self) -> str:
        """Full name as 12345 staff write it, e.g. ``A市A3区``."""
        return f"{self.city}{self.district or ''}"


def extract_district(*texts: str | None) -> District | None:
    """Return the district the texts talk about, or the city alone, or ``None``.

    Texts are searched in order (address, title, content): the first text with a
    district mention decides, and within it the most mentioned district wins (ties go
    to the first mention). A city named without a district yields a city-only result.
    """
    plain = [_plain(text) for text in texts if text]
    for text in plain:
        found = [(f"{m.group(1)}市", m.group()) for m in _DISTRICT.finditer(text)]
        for name, place in KNOWN_DISTRICTS.items():
            if name in text:
                found.append(place)
        if found:
            counts = Counter(found)
            city, district = max(found, key=lambda d: (counts[d], -found.index(d)))
            return District(city=city, district=district)
    for text in plain:
        if m := _CITY.search(text):
            return District(city=f"{m.group(1)}市", district=None)
    return None
