"""Rebuild every SLA state in Redis from the assignment and case-event streams.

The streams are the source of truth; Redis is a cache of their consequence. Rebuilding
replays the records in order through the same :class:`~sla.events.SlaEngine` as live
processing, in memory, then writes the final states in bulk. Thresholds that live
processing would already have alerted on are marked fired, as the live scanner (which
runs every few seconds) would have: before each record of a case, every threshold of
that case due at the record's time; at the end, every threshold due at ``as_of``. So
the rebuild raises no alert again for the past, and the state equals the live one
(``SlaStore.dump`` compares them). Given the alert ids already on ``sla.alerts``, a due
threshold whose alert was never sent stays pending instead, and is raised after the
rebuild: an alert may come late, but is not lost.

Per case the order is what counts (one Kafka partition per appeal id in both topics);
:func:`merge_streams` interleaves the two topics by record time for a replay.
"""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Container, Iterable
from dataclasses import dataclass, field

from sla.clocks import CaseState, CaseStatus, fire_due, reset_mask
from sla.events import AssignmentIn, CaseEventLike, SlaEngine, record_time
from sla.redis_store import SlaStore

Record = AssignmentIn | CaseEventLike


@dataclass
class Replay:
    """Result of an in-memory replay."""

    states: dict[str, CaseState] = field(default_factory=dict)
    late: set[str] = field(default_factory=set)
    outcomes: Counter[str] = field(default_factory=Counter)
    published: Container[str] | None = None


def merge_streams(assignments: Iterable[Record], events: Iterable[Record]) -> list[Record]:
    """Interleave two time-ordered streams by record time (assignments first on ties)."""

    def keyed(stream: Iterable[Record], rank: int):
        for i, rec in enumerate(stream):
            yield (record_time(rec).timestamp(), rank, i, rec)

    return [r for *_, r in heapq.merge(keyed(assignments, 0), keyed(events, 1))]


def replay(
    engine: SlaEngine,
    records: Iterable[Record],
    as_of: int,
    published: Container[str] | None = None,
) -> Replay:
    """Apply ``records`` in order from nothing, marking thresholds the scanner would have fired.

    With ``published`` (the alert ids on ``sla.alerts``) only thresholds whose alert was
    actually sent count as fired; the others stay due and the live scanner raises them
    after the rebuild (e.g. alerts that fell due while Redis was down).
    """
    out = Replay(published=published)
    for rec in records:
        aid = rec.appeal_id
        old = out.states.get(aid)
        if old is not None:
            try:
                t = engine.wt.epoch(record_time(rec))
            except (ValueError, TypeError, AttributeError):
                t = None
            if t is not None:
                _virtual_scan(engine, old, t, out)
        outcome, new = engine.apply_record(old, rec)
        out.outcomes[str(outcome.kind)] += 1
        if not outcome.applied or new is None:
            continue
        # what the apply script does to the scanner's bits: clear those of replaced clocks
        new.fired &= ~reset_mask(old, new, engine.thresholds(new), engine.fractions)
        if new.status == CaseStatus.CLOSED:
            out.late.discard(aid)
        out.states[aid] = new
    for s in out.states.values():
        _virtual_scan(engine, s, as_of, out)
    return out


def _virtual_scan(engine: SlaEngine, s: CaseState, now: int, out: Replay) -> None:
    if s.status == CaseStatus.CLOSED:
        return
    if fire_due(s, engine.thresholds(s), now, published=out.published).late:
        out.late.add(s.appeal_id)


async def rebuild(
    store: SlaStore,
    records: Iterable[Record],
    as_of: int,
    wipe: bool = True,
    published: Container[str] | None = None,
) -> Replay:
    """Wipe the store's prefix (by default) and rebuild it from ``records`` as of ``as_of``."""
    result = replay(store.engine, records, as_of, published)
    if wipe:
        await store.wipe()
    await store.write_states(result.states.values(), result.late)
    if wipe:  # every deadline is now on this calendar
        await store.r.set(store.calendar_key, store.engine.wt.fingerprint)
    return result
