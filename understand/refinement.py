"""What the text adds to a first-level category: sub-category, topic and emergency.

The classifier picks the first-level category; the second and third levels (from the
taxonomy's keywords) and the emergency flag come from the text alone. They decide a
case's time limits (the outage policy reads the topic, the emergency policy the flag),
so an appeal a reviewer categorised gets them the same way as one that passed on its own.
"""

from __future__ import annotations

from dataclasses import dataclass

from understand.emergency import EmergencyMatch, detect_emergency
from understand.features import PreparedAppeal, prepare
from understand.taxonomy import match_subcategory


@dataclass(frozen=True, slots=True)
class Refinement:
    """Second-level category (二级), third-level topic (三级) and emergency of one appeal."""

    subcategory: str | None
    topic: str | None
    emergency: EmergencyMatch | None


def refine_prepared(
    doc: PreparedAppeal, category: str, subcategory: str | None = None
) -> Refinement:
    """:func:`refine` of an appeal :func:`understand.features.prepare` already processed."""
    text = doc.text or doc.body
    level2, level3 = match_subcategory(category, text, doc.tokens)
    if subcategory and subcategory != level2:
        # a second level given by a person stands; a topic found under another one does not
        # belong to it
        level2, level3 = subcategory, None
    return Refinement(level2, level3, detect_emergency(text))


def refine(
    title: str | None, content: str | None, category: str, subcategory: str | None = None
) -> Refinement:
    """Sub-category, topic and emergency of an appeal in ``category``.

    ``subcategory``, when given (a reviewer's choice), is kept; the topic is then found
    only when the text points to that same second level.
    """
    return refine_prepared(prepare(title, content), category, subcategory)
