"""Find the city and district (county-level unit) an appeal is about.

Place names in the shared data are masked by letter and number: cities are ``A市``,
``B市`` …; districts, counties and county-level cities are ``A3区``, ``A7县``, ``A9市``
and belong to the city with the same letter. Real deployments add their own names to
``KNOWN_DISTRICTS`` (a data change, not a code change).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

_DISTRICT = re.compile(r"(?<![A-Za-z0-9])([A-Z])(\d{1,2})([区县市])")
_CITY = re.compile(r"(?<![A-Za-z0-9])([A-Z])市")

#: Extra real-world names → (city, district); empty for the masked data.
KNOWN_DISTRICTS: dict[str, tuple[str, str]] = {}


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
    for text in texts:
        if not text:
            continue
        found = [m.group(1) + m.group(2) + m.group(3) for m in _DISTRICT.finditer(text)]
        for name, place in KNOWN_DISTRICTS.items():
            if name in text:
                found.append(place[1])
        if found:
            counts = Counter(found)
            best = max(found, key=lambda d: (counts[d], -found.index(d)))
            return District(city=f"{best[0]}市", district=best)
    for text in texts:
        if text and (m := _CITY.search(text)):
            return District(city=f"{m.group(1)}市", district=None)
    return None
