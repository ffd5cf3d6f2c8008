"""Reading labelled appeals (the shared file and reviewers' corrections) for training."""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass
from pathlib import Path

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


@dataclass(frozen=True)
class LabelledFile:
    """The rows of one labelled CSV and how its bytes were read."""

    rows: list[LabelledAppeal]
    encoding: str
    delimiter: str


def read_labelled(path: Path, origin: str | None = None) -> list[LabelledAppeal]:
    """Rows of a CSV with at least ``subject``, ``detail``, ``label`` columns.

    See :func:`read_labelled_file` for what is accepted and rejected.
    """
    return read_labelled_file(path, origin).rows


def read_labelled_file(path: Path, origin: str | None = None) -> LabelledFile:
    """Read a labelled CSV as a user would save it (see :func:`read_table`), or raise
    :class:`DatasetError`.

    Rejected with the line number: a label that is not one of :data:`CATEGORIES` (a typo
    in a reviewer's correction must not create an eighth class). A file without data rows
    is an error too: there is nothing to learn or score.
    """
    table = read_table(path, REQUIRED_COLUMNS)
    rows = []
    for line, cells in table.rows:
        label = cells["label"].strip()
        if label not in CATEGORIES:
            raise DatasetError(
                f"{path}:{line}: unknown label {label!r} (expected one of {', '.join(CATEGORIES)})"
            )
        rows.append(LabelledAppeal(cells["subject"], cells["detail"], label, origin or path.name))
    if not rows:
        raise DatasetError(f"{path}: no labelled rows")
    return LabelledFile(rows, table.encoding, table.delimiter)


def read_table(path: Path, required: tuple[str, ...]) -> Table:
    """A CSV as people save it, or :class:`DatasetError` naming what is wrong.

    Accepted: UTF-8 (BOM or not) or GB18030/GBK bytes; comma, tab or semicolon between
    fields; our column names or the competition's (:data:`COLUMN_ALIASES`), in any order;
    extra columns kept; a short row padded with empty cells. ``required`` columns must
    be in the header.
    """
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DatasetError(f"{path}: cannot read ({exc.strerror or exc})") from None
    return parse_table(data, path, required)


def parse_table(data: bytes, source: Path, required: tuple[str, ...]) -> Table:
    """:func:`read_table` of bytes already read (``source`` names them in errors), for a
    caller that holds the file open, e.g. under a lock."""
    text, encoding = decode_text(data, source)
    header = text.split("\n", 1)[0]
    delimiter = next(
        (d for d in _DELIMITERS if required and _names(header.split(d)) >= set(required)),
        _DELIMITERS[0],
    )
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    names = [_column(n) for n in next(reader, [])]
    missing = [c for c in required if c not in names]
    if missing:
        raise DatasetError(
            f"{source}: missing column(s) {', '.join(missing)} "
            f"(header read as {names!r}; also accepted: {', '.join(COLUMN_ALIASES)})"
        )
    rows = []
    for row in reader:
        if any(cell.strip() for cell in row):  # else a blank line, e.g. after hand edits
            cells = dict(zip(names, row + [""] * (len(names) - len(row)), strict=False))
            rows.append((reader.line_num, cells))
    return Table(rows, encoding, delimiter, tuple(names))


def _names(cells: list[str]) -> set[str]:
    return {_column(c) for c in cells}


def _column(name: str) -> str:
    """Our name for a header cell: the competition's names are aliases, and Latin names
    are read in any case (Subject, LABEL: a spreadsheet's header style)."""
    name = name.strip()
    return COLUMN_ALIASES.get(name, name.lower() if name.isascii() else name)


def decode_text(data: bytes, source: Path) -> tuple[str, str]:
    """The text of a user-supplied file (CSV, notice) and the encoding it was read in (see
    :data:`ENCODINGS`), or :class:`DatasetError` if it is not text."""
    for encoding in ENCODINGS:
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    raise DatasetError(f"{source}: not text in {' or '.join(ENCODINGS)}")


def sha256_of(paths: list[Path]) -> str:
    """SHA-256 over the bytes of ``paths`` in order: identifies the exact training data."""
    digest = hashlib.sha256()
    for path in paths:
        with path.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()
