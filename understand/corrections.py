"""The corrections file: reviewers' decisions kept as extra training examples.

A CSV shaped like ``appeals_labelled.csv`` (``subject``, ``detail``, ``label``) plus the
decision's provenance columns. ``hotline train`` adds it to the training data when it
exists; a later decision on the same text replaces an earlier one.
"""

from __future__ import annotations

import csv
import fcntl
import io
import os
from pathlib import Path
from typing import TYPE_CHECKING

from understand.dataset import CATEGORIES

if TYPE_CHECKING:
    from models.review import ReviewDecision

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

    Writes the header when the file is new. Safe against concurrent writers on one host
    (``flock``). Rejects a category that is not one of the seven first-level labels.
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
    with path.open("a", encoding="utf-8", newline="") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            if os.fstat(fh.fileno()).st_size == 0:  # checked under the lock
                fh.write(",".join(COLUMNS) + "\r\n")
            fh.write(buf.getvalue())
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)
    return path
