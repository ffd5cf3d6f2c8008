"""Routing examples from reassignments (改派): where a misrouted case really belonged.

A case sent to the wrong department comes back (退回) and the centre reassigns it: the
``reassign`` case event names the department that should have led it from the start.
These are the centre's own routing corrections, and far more frequent than review
decisions. ``hotline routing harvest-reassignments`` joins each reassigned appeal's last
``reassign`` event with the appeal's text (from ``appeals.received``, while the topic
still holds it) and keeps them in a CSV that ``hotline routing train --corrections``
reads like the reviewers' corrections file (``subject``, ``detail``, ``department_code``).

The file has no ``label`` column on purpose: it says nothing about the category, and
``hotline train`` refuses it rather than learn categories from it.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from models.appeal import Appeal
from models.case_event import CaseEvent
from understand.dataset import escape_formula, read_table

COLUMNS = ("subject", "detail", "department_code", "appeal_id", "event_id", "reassigned_at")


@dataclass(frozen=True)
class Reassignment:
    """An appeal's last reassignment: the department it went to, and when."""

    appeal_id: str
    department_code: str
    event_id: str
    occurred_at: datetime


def latest_reassignments(events: Iterable[CaseEvent]) -> dict[str, Reassignment]:
    """Each appeal's last ``reassign`` event with a target department (by ``occurred_at``;
    on a tie, the later one in ``events``). Other kinds of event, and events without a
    time zone on their time (which the SLA stage rejects too), are ignored."""
    latest: dict[str, Reassignment] = {}
    for e in events:
        if e.kind != "reassign" or not e.target_department or not _aware(e.occurred_at):
            continue
        seen = latest.get(e.appeal_id)
        if seen is None or e.occurred_at >= seen.occurred_at:
            latest[e.appeal_id] = Reassignment(
                e.appeal_id, e.target_department, e.event_id, e.occurred_at
            )
    return latest


def _aware(at: object) -> bool:
    return isinstance(at, datetime) and at.utcoffset() is not None


def harvest_rows(
    reassignments: Mapping[str, Reassignment], appeals: Iterable[Appeal]
) -> tuple[list[dict[str, str]], list[str]]:
    """``(rows, missing)``: a CSV row per reassigned appeal whose text ``appeals`` holds, and
    the ids of those whose text is gone (older than the topic's retention)."""
    texts = {a.appeal_id: (a.title, a.content) for a in appeals if a.appeal_id in reassignments}
    rows = []
    for appeal_id, r in reassignments.items():
        if appeal_id not in texts:
            continue
        title, content = texts[appeal_id]
        rows.append(
            {
                "subject": title or "",
                "detail": content or "",
                "department_code": r.department_code,
                "appeal_id": appeal_id,
                "event_id": r.event_id,
                "reassigned_at": r.occurred_at.isoformat(),
            }
        )
    missing = sorted(set(reassignments) - texts.keys())
    return rows, missing


def merge_rows(
    kept: Iterable[Mapping[str, str]], harvested: Iterable[Mapping[str, str]]
) -> list[dict[str, str]]:
    """One row per appeal: a harvested row replaces a kept one unless the kept one is later
    (the file outlives the topics' retention, so earlier harvests stay)."""
    by_appeal: dict[str, dict[str, str]] = {}
    for row in [*kept, *harvested]:
        seen = by_appeal.get(row["appeal_id"])
        if seen is None or _at(row) >= _at(seen):
            by_appeal[row["appeal_id"]] = dict(row)
    return sorted(by_appeal.values(), key=lambda r: (_at(r), r["appeal_id"]))


def _at(row: Mapping[str, str]) -> datetime:
    return datetime.fromisoformat(row["reassigned_at"])


def read_rows(path: Path) -> list[dict[str, str]]:
    """The rows of an existing harvest file (none if it does not exist), read like every
    CSV people may have re-saved (:func:`understand.dataset.read_table`)."""
    if not path.is_file():
        return []
    table = read_table(path, (), unescape=True)
    return [{c: cells.get(c) or "" for c in COLUMNS} for _, cells in table.rows]


def write_rows(path: Path, rows: Iterable[Mapping[str, str]]) -> None:
    """Write the harvest file whole (to a temporary file, then renamed into place), as the
    corrections file is written for people who open it in Excel: a UTF-8 BOM (else a
    Chinese Windows reads it as GBK) and a ``'`` before a cell Excel would run as a formula
    (:func:`understand.dataset.escape_formula`; :func:`read_rows` and ``routing train``
    take it off again)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(COLUMNS)
        writer.writerows([escape_formula(row.get(c) or "") for c in COLUMNS] for row in rows)
    tmp.replace(path)
