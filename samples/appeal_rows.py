"""Read the shared appeals CSV files (UTF-8, header row) as plain rows."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from config.data import DATA_DIR


@dataclass(frozen=True)
class AppealRow:
    """One real appeal: id, subject (may be empty), detail, time text (may be empty)."""

    id: str
    subject: str
    detail: str
    time: str
    user: str = ""
    label: str = ""


def read_rows(path: Path | None = None, limit: int | None = None) -> Iterator[AppealRow]:
    """Rows of ``appeals_labelled.csv`` (or any CSV with subject and detail columns, read
    as :func:`understand.dataset.read_table` reads a user's file: UTF-8 or GB18030, comma,
    tab or semicolon, the competition's column names too). A file that cannot be used
    raises :class:`~understand.dataset.DatasetError` naming it: a file without those
    columns used to be replayed as appeals with no text."""
    from understand.dataset import DatasetError, read_table

    path = path or DATA_DIR / "appeals_labelled.csv"
    if not path.exists():
        raise DatasetError(
            f"{path} not found: set HOTLINE_DATA_DIR to the folder with the shared data"
        )
    table = read_table(path, ("subject", "detail"))
    if not table.rows:
        raise DatasetError(f"{path}: no data rows")
    for i, (_, row) in enumerate(table.rows):
        if limit is not None and i >= limit:
            return
        yield AppealRow(
            id=row.get("id") or str(i), subject=(row.get("subject") or "").strip(),
            detail=(row.get("detail") or "").strip(), time=(row.get("time") or "").strip(),
            user=(row.get("user") or "").strip(), label=(row.get("label") or "").strip(),
        )  # fmt: skip
