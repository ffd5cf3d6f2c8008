"""Reading labelled appeals (the shared file and reviewers' corrections) for training."""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import logging
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger(__name__)

#: The seven first-level categories (一级标签) the classifier predicts, in a fixed order.
CATEGORIES = (
    "城乡建设",
    "环境保护",
    "交通运输",
    "教育文体",
    "劳动和社会保障",
    "商贸旅游",
    "卫生计生",
)

REQUIRED_COLUMNS = ("subject", "detail", "label")
#: The competition's own column names, read as ours (its files and Excel exports of them).
COLUMN_ALIASES = {
    "留言编号": "id",
    "留言主题": "subject",
    "留言详情": "detail",
    "一级标签": "label",
    "答复意见": "reply",
}
#: Tried in order: UTF-8 (with or without BOM), then GB18030 (a superset of GBK, what
#: Excel on a Chinese Windows saves as "CSV").
ENCODINGS = ("utf-8-sig", "gb18030")
_DELIMITERS = (",", "\t", ";")
_LINE_END = re.compile("[\r\n]")
#: A cell starting with one of these is a formula to a spreadsheet (OWASP "CSV injection");
#: the corrections file keeps such a cell as text with a leading ``'`` (see
#: :func:`escape_formula`).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
#: The column only the corrections file has: its cells are read unescaped by default.
DECISION_COLUMN = "decision_id"

# The csv module refuses a cell over 131,072 characters by default (a process-wide limit);
# a document pasted into a cell is longer and still one appeal (its head is classified).
# The largest limit a C long holds on every platform.
csv.field_size_limit(min(sys.maxsize, 2**31 - 1))


class DatasetError(ValueError):
    """A CSV that cannot be used; the message names the file (and line)."""


@dataclass(frozen=True)
class LabelledAppeal:
    """One training example: raw subject and detail as citizens wrote them, and its label."""

    subject: str
    detail: str
    label: str
    origin: str = ""  # file it came from, for reporting


@dataclass(frozen=True)
class Table:
    """The data rows of a user-supplied CSV, by our column names, and how it was read."""

    rows: list[tuple[int, dict[str, str]]]  # (line number, cells); blank lines left out
    encoding: str
    delimiter: str
    names: tuple[str, ...] = ()  # the header, by our column names, in the file's order
    short_rows: dict[int, int] = field(default_factory=dict)  # line -> cells, if < header
    open_quote: int | None = None  # line of the last row if the file ends inside its quotes


@dataclass(frozen=True)
class LabelledFile:
    """The rows of one labelled CSV and how its bytes were read."""

    rows: list[LabelledAppeal]
    encoding: str
    delimiter: str


def read_labelled(
    path: Path, origin: str | None = None, *, data: bytes | None = None
) -> list[LabelledAppeal]:
    """Rows of a CSV with at least ``subject``, ``detail``, ``label`` columns.

    See :func:`read_labelled_file` for what is accepted and rejected.
    """
    return read_labelled_file(path, origin, data=data).rows


def read_labelled_file(
    path: Path, origin: str | None = None, *, data: bytes | None = None
) -> LabelledFile:
    """Read a labelled CSV as a user would save it (see :func:`read_table`), or raise
    :class:`DatasetError`.

    Rejected with the line number: a label that is not one of :data:`CATEGORIES` (a typo
    in a reviewer's correction must not create an eighth class). A file without data rows
    is an error too: there is nothing to learn or score. ``data``: the file's bytes when
    the caller has read them already (:func:`read_bytes`), e.g. to hash what it parses.
    """
    table = parse_table(read_bytes(path) if data is None else data, path, REQUIRED_COLUMNS)
    rows = [_labelled(path, line, cells, origin) for line, cells in table.rows]
    if not rows:
        raise DatasetError(f"{path}: no labelled rows")
    return LabelledFile(rows, table.encoding, table.delimiter)


@dataclass(frozen=True)
class Corrections:
    """The usable rows of a corrections file, and what was left out of it."""

    rows: list[LabelledAppeal]
    skipped: list[str] = field(default_factory=list)  # "file:line: why", one per row


def read_corrections(
    path: Path, origin: str = "corrections", *, data: bytes | None = None
) -> Corrections:
    """The reviewers' corrections file (written by :func:`understand.corrections.append_correction`)
    as training rows, or :class:`DatasetError`.

    Read like :func:`read_labelled`, with these differences: a blank file (or a UTF-8 BOM
    alone, Excel's "CSV UTF-8" of an empty sheet) or a header without rows is no
    corrections, not an error; cells are unescaped (:func:`unescape_formula`); a row cut
    off while being written (the file ends inside its quoted cell, or it has fewer cells
    than the header; bytes of a character cut short at its end are dropped,
    :func:`decode_text`) is left out and reported in ``skipped`` (and logged), so one broken
    row neither stops training nor teaches it half a text. ``data``: the file's bytes,
    as :func:`read_labelled_file`.
    """
    table = read_table_unless_blank(path, REQUIRED_COLUMNS, unescape=True, data=data)
    if table is None:
        return Corrections([])
    rows, skipped = [], []
    for line, cells in table.rows:
        if line == table.open_quote:
            why = "a quoted cell is not closed at the end of the file (cut off while written?)"
        elif line in table.short_rows:
            why = f"{table.short_rows[line]} of {len(table.names)} cells (cut off while written?)"
        else:
            rows.append(_labelled(path, line, cells, origin))
            continue
        skipped.append(f"{path}:{line}: row left out: {why}; complete or delete it")
        log.warning("%s", skipped[-1])
    return Corrections(rows, skipped)


def _labelled(path: Path, line: int, cells: dict[str, str], origin: str | None) -> LabelledAppeal:
    """One row as a training example; a label not in :data:`CATEGORIES` is an error."""
    label = cells["label"].strip()
    if label not in CATEGORIES:
        raise DatasetError(
            f"{path}:{line}: unknown label {label!r} (expected one of {', '.join(CATEGORIES)})"
        )
    return LabelledAppeal(cells["subject"], cells["detail"], label, origin or path.name)


def read_table(path: Path, required: tuple[str, ...], *, unescape: bool | None = None) -> Table:
    """A CSV as people save it, or :class:`DatasetError` naming what is wrong.

    Accepted: UTF-8 (BOM or not) or GB18030/GBK bytes; comma, tab or semicolon between
    fields; our column names or the competition's (:data:`COLUMN_ALIASES`), in any order;
    extra columns kept; a short row padded with empty cells. ``required`` columns must
    be in the header. The cells of a corrections file (a ``decision_id`` column) are
    unescaped (:func:`unescape_formula`), or of any file with ``unescape=True`` (one this
    project wrote, e.g. the harvested reassignments).
    """
    return parse_table(read_bytes(path), path, required, unescape=unescape)


def read_table_unless_blank(
    path: Path,
    required: tuple[str, ...],
    *,
    unescape: bool | None = None,
    data: bytes | None = None,
) -> Table | None:
    """:func:`read_table`, or ``None`` for a file with nothing but white space (a UTF-8 BOM
    alone is Excel's "CSV UTF-8" of an empty sheet): a corrections file no one wrote to yet,
    not a file without its columns. ``data``: the file's bytes if already read."""
    text, encoding = decode_text(read_bytes(path) if data is None else data, path)
    if is_blank(text):
        return None
    return parse_text(text, encoding, path, required, unescape=unescape)


def read_bytes(path: Path) -> bytes:
    """The bytes of a user-supplied file, or :class:`DatasetError` saying why not."""
    try:
        return path.read_bytes()
    except OSError as exc:
        raise DatasetError(f"{path}: cannot read ({exc.strerror or exc})") from None


def parse_table(
    data: bytes, source: Path, required: tuple[str, ...], *, unescape: bool | None = None
) -> Table:
    """:func:`read_table` of bytes already read (``source`` names them in errors), for a
    caller that holds the file open, e.g. under a lock. See :func:`parse_text`."""
    text, encoding = decode_text(data, source)
    return parse_text(text, encoding, source, required, unescape=unescape)


def parse_text(
    text: str,
    encoding: str,
    source: Path,
    required: tuple[str, ...],
    *,
    unescape: bool | None = None,
) -> Table:
    """:func:`parse_table` of text already decoded (in ``encoding``).

    ``unescape``: strip the ``'`` that :func:`escape_formula` put before a formula-like
    cell; by default (``None``) when the header has a ``decision_id`` column, i.e. in a
    corrections file, so every reader of it (``routing train --corrections`` too) gets
    the reviewers' text back exactly.
    """
    names, delimiter = parse_header(text, source, required)
    if unescape is None:
        unescape = DECISION_COLUMN in names
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows, short = [], {}
    try:
        next(reader, None)  # the header, read by parse_header
        for row in reader:
            if any(cell.strip() for cell in row):  # else a blank line, e.g. after hand edits
                if len(row) < len(names):
                    short[reader.line_num] = len(row)
                if unescape:
                    row = [unescape_formula(cell) for cell in row]
                cells = dict(zip(names, row + [""] * (len(names) - len(row)), strict=False))
                rows.append((reader.line_num, cells))
    except csv.Error as exc:
        raise DatasetError(f"{source}:{reader.line_num}: cannot read as CSV ({exc})") from None
    open_quote = reader.line_num if ends_in_quoted_cell(text, delimiter) else None
    return Table(rows, encoding, delimiter, names, short, open_quote)


def parse_header(text: str, source: Path, required: tuple[str, ...]) -> tuple[tuple[str, ...], str]:
    """The header of a CSV's ``text`` by our column names, and the delimiter it uses (the
    first of comma, tab, semicolon that splits it into the ``required`` columns), or
    :class:`DatasetError` if a ``required`` column is missing. Reads the first line only."""
    end = _LINE_END.search(text)
    header = text[: end.start()] if end else text
    delimiter = next(
        (d for d in _DELIMITERS if required and _names(header.split(d)) >= set(required)),
        _DELIMITERS[0],
    )
    try:
        cells = next(csv.reader(io.StringIO(header, newline=""), delimiter=delimiter), [])
    except csv.Error as exc:
        raise DatasetError(f"{source}:1: cannot read the header as CSV ({exc})") from None
    names = tuple(_column(n) for n in cells)
    missing = [c for c in required if c not in names]
    if missing:
        raise DatasetError(
            f"{source}: missing column(s) {', '.join(missing)} "
            f"(header read as {list(names)!r}; also accepted: {', '.join(COLUMN_ALIASES)})"
        )
    return names, delimiter


def ends_in_quoted_cell(text: str, delimiter: str) -> bool:
    """Whether CSV ``text`` ends inside a quoted cell (cut off while being written), as
    :mod:`csv` reads it: a ``"`` opens a quoted cell only at the start of a cell, ``""``
    inside it is a quote, any other ``"`` closes it. Visits the quotes only."""
    inside = False
    at = text.find('"')
    while at >= 0:
        if inside:
            if text.startswith('"', at + 1):  # an escaped quote
                at = text.find('"', at + 2)
                continue
            inside = False
        elif at == 0 or text[at - 1] in (delimiter, "\r", "\n"):
            inside = True
        at = text.find('"', at + 1)
    return inside


def is_blank(text: str) -> bool:
    """Whether decoded file ``text`` has nothing but white space (a UTF-8 BOM is gone)."""
    return not text or text.isspace()


def escape_formula(cell: str) -> str:
    """``cell`` as a spreadsheet keeps it text: a ``'`` before a cell that starts with one
    of :data:`FORMULA_STARTS` (after any ``'``, so that :func:`unescape_formula` gives
    every cell back exactly)."""
    return "'" + cell if _formula_like(cell) else cell


def unescape_formula(cell: str) -> str:
    """The text :func:`escape_formula` was given for ``cell``."""
    return cell[1:] if cell.startswith("'") and _formula_like(cell) else cell


def _formula_like(cell: str) -> bool:
    return cell.lstrip("'")[:1] in FORMULA_STARTS


def _names(cells: list[str]) -> set[str]:
    return {_column(c) for c in cells}


def _column(name: str) -> str:
    """Our name for a header cell: the competition's names are aliases, and Latin names
    are read in any case (Subject, LABEL: a spreadsheet's header style)."""
    name = name.strip()
    return COLUMN_ALIASES.get(name, name.lower() if name.isascii() else name)


def decode_text(data: bytes, source: Path) -> tuple[str, str]:
    """The text of a user-supplied file (CSV, notice) and the encoding it was read in (see
    :data:`ENCODINGS`), or :class:`DatasetError` if it is not text.

    UTF-8 whose last character is cut short (:func:`incomplete_utf8_tail`: a write cut
    off, e.g. by a full disk) is read as UTF-8 without those bytes, with a warning: as
    GB18030 it would be mojibake, or no text at all."""
    for encoding in ENCODINGS:
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            if encoding == "utf-8-sig" and (cut := incomplete_utf8_tail(data)):
                log.warning(
                    "%s ends in %d byte(s) of a UTF-8 character cut off (while written?): "
                    "read without them",
                    source,
                    cut,
                )
                return data[:-cut].decode(encoding), encoding
    raise DatasetError(f"{source}: not text in {' or '.join(ENCODINGS)}")


def incomplete_utf8_tail(data: bytes) -> int:
    """How many bytes at the very end of ``data`` are the start of a UTF-8 character cut
    short (1 to 3; a UTF-8 BOM at the start is no text): 0 if ``data`` decodes as UTF-8,
    or fails to anywhere else (e.g. GB18030, which Excel writes)."""
    if not data or data[-1] < 0x80:  # ends in ASCII: no character is cut at the end
        return 0
    body = data[len(codecs.BOM_UTF8) :] if data.startswith(codecs.BOM_UTF8) else data
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        decoder.decode(body, final=False)  # keeps an incomplete last character pending
    except UnicodeDecodeError:
        return 0
    pending, _ = decoder.getstate()
    return len(pending)


def sha256_of_data(blobs: Iterable[bytes]) -> str:
    """SHA-256 over the bytes of the training files, in order, as they were read and parsed
    (a file read a second time may have grown meanwhile): identifies the exact data."""
    digest = hashlib.sha256()
    for blob in blobs:
        digest.update(blob)
    return digest.hexdigest()
