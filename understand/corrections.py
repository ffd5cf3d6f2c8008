"""The corrections file: reviewers' decisions kept as extra training examples.

A CSV shaped like ``appeals_labelled.csv`` (``subject``, ``detail``, ``label``) plus the
decision's provenance columns. ``hotline train`` adds it to the training data when it
exists; a later decision on the same text replaces an earlier one.

Appending is idempotent by ``decision_id``: a decision redelivered after a crash between
its append and its settlement (at-least-once delivery) finds its row and adds no second
one, so the file stays one row per decision for audits and for ``routing train``.

People open this file in Excel and save it back, which may turn it into GB18030 with
tabs or reorder its columns. Appends follow the file as it is now (its encoding,
delimiter and column order, read like every user-supplied CSV by
:func:`understand.dataset.parse_table`), so the file stays readable as one text.
"""

from __future__ import annotations

import csv
import fcntl
import io
import logging
from pathlib import Path
from typing import TYPE_CHECKING

from understand.dataset import CATEGORIES, REQUIRED_COLUMNS, Table, parse_table

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
    ``decision_id`` is already there (a redelivered decision); else appends in the file's
    own encoding, delimiter and column order. A file without the ``subject``, ``detail``,
    ``label`` or ``decision_id`` column raises :class:`understand.dataset.DatasetError`.
    Safe against concurrent writers on one host (``flock``). Rejects a category that is
    not one of the seven first-level labels.
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
    with path.open("a+b") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            # read and appended under the lock; appends go to the end whatever the position
            fh.seek(0)
            data = fh.read()
            if not data.strip():
                fh.truncate(0)  # new, or blank lines only: a header would not be line 1
                fh.write(_line(COLUMNS, COLUMNS, ",", row).encode("utf-8"))
                return path
            table = parse_table(data, path, (*REQUIRED_COLUMNS, "decision_id"))
            if any(cells.get("decision_id") == decision.decision_id for _, cells in table.rows):
                log.info("review decision %s is already in %s", decision.decision_id, path)
                return path
            fh.write(_appended(table, data, row))
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)
    return path


def _line(header: tuple[str, ...], names: tuple[str, ...], delimiter: str, row: dict) -> str:
    """``row`` as CSV text in the column order ``names`` (after ``header`` if given)."""
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=delimiter)
    if header:
        writer.writerow(header)
    writer.writerow([row.get(name, "") for name in names])
    return buf.getvalue()


def _appended(table: Table, data: bytes, row: dict) -> bytes:
    """The bytes that append ``row`` to a file read as ``table`` (``data``): its delimiter
    and column order, its encoding (no second BOM), after a line break if it lacks one."""
    encoding = "utf-8" if table.encoding == "utf-8-sig" else table.encoding
    text = _line((), table.names, table.delimiter, row)
    if not data.endswith(b"\n"):
        text = "\r\n" + text
    return text.encode(encoding)
