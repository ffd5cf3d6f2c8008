"""The corrections file: reviewers' decisions kept as extra training examples.

A CSV shaped like ``appeals_labelled.csv`` (``subject``, ``detail``, ``label``) plus the
decision's provenance columns. ``hotline train`` adds it to the training data when it
exists; a later decision on the same text replaces an earlier one.

Appending is idempotent by ``decision_id``: a decision redelivered after a crash between
its append and its settlement (at-least-once delivery) finds its row and adds no second
one, so the file stays one row per decision for audits and for ``routing train``.
"""

from __future__ import annotations

import csv
import fcntl
import io
import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING

from understand.dataset import CATEGORIES

if TYPE_CHECKING:
    from models.review import ReviewDecision

log = logging.getLogger(__name__)

COLUMNS = (
    "subject",
    "detail",
    "label",
    "subcategory",
    "appeal_id",
    "decision_id",
    "reviewer",
    "department_code",
    "decided_at",
    "note",
)


def append_correction(
    decision: ReviewDecision, title: str, content: str, path: Path | None = None
) -> Path:
    """Append ``decision`` with the appeal's text to the corrections file; returns its path.

    Writes the header when the file is new; writes nothing when a row of the same
    ``decision_id`` is already there (a redelivered decision). Safe against concurrent
    writers on one host (``flock``). Rejects a category that is not one of the seven
    first-level labels.
    """
    if decision.category not in CATEGORIES:
        raise ValueError(f"unknown category {decision.category!r}; expected one of {CATEGORIES}")
    if path is None:
        from config.understand import CORRECTIONS_PATH

        path = CORRECTIONS_PATH
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    row = {
        "subject": title or "",
        "detail": content or "",
        "label": decision.category,
        "subcategory": decision.subcategory or "",
        "appeal_id": decision.appeal_id,
        "decision_id": decision.decision_id,
        "reviewer": decision.reviewer,
        "department_code": decision.department_code or "",
        "decided_at": decision.decided_at.isoformat(),
        "note": decision.note or "",
    }
    buf = io.StringIO()
    csv.DictWriter(buf, fieldnames=COLUMNS).writerow(row)
    with path.open("a+", encoding="utf-8", newline="") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            # both checked under the lock; appends go to the end whatever the read position
            if os.fstat(fh.fileno()).st_size == 0:
                fh.write(",".join(COLUMNS) + "\r\n")
            elif _has_decision(fh, decision.decision_id):
                log.info("review decision %s is already in %s", decision.decision_id, path)
                return path
            fh.write(buf.getvalue())
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)
    return path


def _has_decision(fh: io.TextIOBase, decision_id: str) -> bool:
    """Whether an open corrections file (read from the start) has a row of ``decision_id``.

    Decisions come at a reviewer's pace, so reading the file for each one is cheap."""
    fh.seek(0)
    return any(row.get("decision_id") == decision_id for row in csv.DictReader(fh))
