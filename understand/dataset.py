"""Reading labelled appeals (the shared file and reviewers' corrections) for training."""

from __future__ import annotations

import csv
import hashlib
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


@dataclass(frozen=True)
class LabelledAppeal:
    """One training example: raw subject and detail as citizens wrote them, and its label."""

    subject: str
    detail: str
    label: str
    origin: str = ""  # file it came from, for reporting


def read_labelled(path: Path, origin: str | None = None) -> list[LabelledAppeal]:
    """Rows of a CSV with at least ``subject``, ``detail``, ``label`` columns.

    Rows whose label is not one of :data:`CATEGORIES` are rejected with the line number, so
    a typo in a reviewer's correction cannot silently create an eighth class.
    """
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in REQUIRED_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise ValueError(f"{path}: missing column(s) {', '.join(missing)}")
        rows = []
        for line, row in enumerate(reader, start=2):
            label = (row["label"] or "").strip()
            if label not in CATEGORIES:
                raise ValueError(f"{path}:{line}: unknown label {label!r}")
            rows.append(
                LabelledAppeal(
                    row["subject"] or "", row["detail"] or "", label, origin or path.name
                )
            )
    return rows


def sha256_of(paths: list[Path]) -> str:
    """SHA-256 over the bytes of ``paths`` in order: identifies the exact training data."""
    digest = hashlib.sha256()
    for path in paths:
        with path.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()
