"""The corrections file: reviewers' decisions kept as extra training examples.

A CSV shaped like ``appeals_labelled.csv`` (``subject``, ``detail``, ``label``) plus the
decision's provenance columns. ``hotline train`` adds it to the training data when it
exists; a later decision on the same text replaces an earlier one.

Appending is idempotent by ``appeal_id`` and ``decision_id``: a decision redelivered after
a crash between its append and its settlement (at-least-once delivery) finds its row and
adds no second one, so the file stays one row per decision for audits and for ``routing
train``; another appeal's decision that reuses a decision id is still appended.

People open this file in Excel and save it back, which may turn it into GB18030 with
tabs or reorder its columns. Appends follow the file as it is now (its encoding,
delimiter and column order, read like every user-supplied CSV by
:func:`understand.dataset.parse_table`), so the file stays readable as one text. A new
file starts with a UTF-8 BOM (else Excel on a Chinese Windows reads it as GBK), and a
cell Excel would run as a formula is written with a leading ``'``
(:func:`understand.dataset.escape_formula`; the readers take it off again).
"""

from __future__ import annotations

import codecs
import csv
import fcntl
import io
import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING

from understand.dataset import (
    CATEGORIES,
    DECISION_COLUMN,
    REQUIRED_COLUMNS,
    decode_text,
    ends_in_quoted_cell,
    escape_formula,
    incomplete_utf8_tail,
    is_blank,
    parse_header,
    parse_text,
)

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

    Writes a UTF-8 BOM and the header when the file is new (or blank, or a BOM alone);
    writes nothing when a row of the same ``appeal_id`` and ``decision_id`` is already
    there (a redelivered decision; ``decision_id`` alone if the file has no ``appeal_id``
    column); else appends in the file's own encoding, delimiter and column order. A last
    row cut off while being written (e.g. disk full) is closed and the new row starts on a
    line of its own: the readers leave the broken row out and name its line. Cut inside a
    UTF-8 character, the bytes of that character are cut off the file first: no reader
    could decode it (:func:`understand.dataset.incomplete_utf8_tail`). A file
    without the ``subject``, ``detail``, ``label`` or ``decision_id`` column raises
    :class:`understand.dataset.DatasetError`. Safe against concurrent writers on one host:
    the row is on disk (``fsync``) before the ``flock`` is released. Rejects a category
    that is not one of the seven first-level labels.
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
    # unbuffered: every byte is written by os.write before the lock is released
    with path.open("a+b", buffering=0) as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            fh.seek(0)
            data = fh.readall()
            cut = incomplete_utf8_tail(data)
            if cut:  # our own write, cut off inside a character: bytes of no character
                os.ftruncate(fh.fileno(), len(data) - cut)  # "a+b": appends go to the new end
                data = data[:-cut]
                log.warning(
                    "%s ended in %d byte(s) of a UTF-8 character cut off while written: "
                    "removed them",
                    path,
                    cut,
                )
            text, encoding = decode_text(data, path)
            if is_blank(text):  # new, blank lines or a BOM alone: the header must be line 1
                os.ftruncate(fh.fileno(), 0)  # only white space of our own, under the lock
                out = codecs.BOM_UTF8 + _line(COLUMNS, COLUMNS, ",", row).encode("utf-8")
            else:
                out = _appended(text, encoding, path, row)
                if out is None:
                    log.info("review decision %s is already in %s", decision.decision_id, path)
                    return path
            _write_all(fh.fileno(), out)
            os.fsync(fh.fileno())
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)
    return path


def _line(header: tuple[str, ...], names: tuple[str, ...], delimiter: str, row: dict) -> str:
    """``row`` as CSV text in the column order ``names`` (after ``header`` if given), each
    cell escaped against formula injection (:func:`understand.dataset.escape_formula`)."""
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=delimiter)
    if header:
        writer.writerow(header)
    writer.writerow([escape_formula(row.get(name, "")) for name in names])
    return buf.getvalue()


def _appended(text: str, encoding: str, path: Path, row: dict) -> bytes | None:
    """The bytes that append ``row`` to a file of ``text`` (read in ``encoding``), or None
    if its decision is already there: the file's delimiter, column order and encoding (no
    second BOM), after a line break if it lacks one, after a closing quote if it ends
    inside a quoted cell."""
    required = (*REQUIRED_COLUMNS, DECISION_COLUMN)
    names, delimiter = parse_header(text, path, required)
    keys = ("appeal_id", DECISION_COLUMN) if "appeal_id" in names else (DECISION_COLUMN,)
    wanted = tuple(row[k] for k in keys)
    if _may_hold(text, wanted, delimiter):  # rarely: parse it all to be sure
        table = parse_text(text, encoding, path, required, unescape=True)
        broken = {*table.short_rows, table.open_quote}  # cut off: readers leave them out
        if any(
            tuple(cells.get(k) for k in keys) == wanted
            for line, cells in table.rows
            if line not in broken
        ):
            return None
    line = _line((), names, delimiter, row)
    if ends_in_quoted_cell(text, delimiter):
        log.warning("%s ends inside a quoted cell (cut off?): closed it", path)
        line = '"\r\n' + line
    elif not text.endswith(("\n", "\r")):
        line = "\r\n" + line
    return line.encode("utf-8" if encoding == "utf-8-sig" else encoding)


def _may_hold(text: str, ids: tuple[str, ...], delimiter: str) -> bool:
    """False only if no row of ``text`` can have these id cells: one of them is nowhere in
    it (escaping adds a prefix only). An id CSV would quote is always checked."""
    if any(c in i for i in ids for c in ('"', delimiter, "\r", "\n")):
        return True
    return all(i in text for i in ids)


def _write_all(fd: int, data: bytes) -> None:
    """``os.write`` until all of ``data`` is written."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
