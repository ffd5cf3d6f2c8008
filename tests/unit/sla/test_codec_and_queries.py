"""Pure parts of the Redis adapter (packing) and of the queries (levels, views)."""

from __future__ import annotations

from models.case_event import CaseEvent
from sla.events import RING, AssignmentIn, SlaEngine
from sla.queries import case_view, level_of
from sla.redis_store import B_MAX, T_FMT, Codes, dept_bucket, pack_state, unpack_state

from .conftest import at


def _state(engine: SlaEngine, events: int = 0):
    recs = [AssignmentIn("A1", "as1", 1, "zjj", at(2025, 3, 3, 9), category="x/y", district="A3区")]
    recs += [
        CaseEvent(
            event_id=f"e{i}",
            appeal_id="A1",
            kind=kind,
            occurred_at=at(2025, 3, 3, 10 + i),
            department="zjj",
        )
        for i, kind in enumerate(["accept", "pause", "resume", "pause", "resume"][:events])
    ]
    state, outs = engine.replay(recs)
    assert all(o.applied for o in outs)
    return state


def test_pack_roundtrip_and_sizes(engine: SlaEngine) -> None:
    for n in range(6):
        s = _state(engine, n)
        s.fired = 0b101
        times = engine.thresholds(s)
        t, b = pack_state(s, times, Codes(3, 4, 5, 6))
        # both values must stay ≤ 64 bytes or Redis drops the compact listpack encoding
        assert len(t) == T_FMT.size == 48 and len(b) <= B_MAX <= 64
        back, back_times, codes = unpack_state("A1", t, b)
        assert codes == Codes(3, 4, 5, 6) and back_times == times
        back.policy, back.department = s.policy, s.department
        back.district, back.category = s.district, s.category
        assert back == s
    assert len(s.recent) == RING


def test_dept_bucket_is_stable() -> None:
    assert dept_bucket("HL-0123456789abcdef", 64) == dept_bucket("HL-0123456789abcdef", 64)
    assert {dept_bucket(f"HL-{i:016x}", 64) for i in range(2000)} == set(range(64))


def test_levels() -> None:
    fr = (0.5, 0.8, 1.0, 1.25)
    assert [level_of(c, 100, fr) for c in (0, 79, 80, 99, 100, 124, 125)] == [
        "ok",
        "ok",
        "near_due",
        "near_due",
        "overdue",
        "overdue",
        "escalated",
    ]


def test_case_view_remaining(engine: SlaEngine) -> None:
    s = _state(engine, 1)  # accepted at 10:00 Monday
    view = case_view(s, engine, int(at(2025, 3, 7, 17).timestamp()))
    handling = next(c for c in view.clocks if c.kind == "handling")
    # due next Monday 10:00: Friday 17:00–17:30 and Monday 09:00–10:00 are left
    assert handling.remaining == 5400
    assert handling.due_at == int(at(2025, 3, 10, 10).timestamp())
    assert view.level == "near_due"
    view = case_view(s, engine, int(at(2025, 3, 10, 11).timestamp()))
    assert view.level == "overdue"
    assert view.as_dict()["level"] == "overdue"
