"""The in-memory replay behind the rebuild marks what the live scanner would have fired."""

from __future__ import annotations

from models.case_event import CaseEvent
from sla.clocks import fire_due
from sla.events import AssignmentIn, SlaEngine
from sla.rebuild import merge_streams, replay

from .conftest import at


def test_replay_fires_past_thresholds_once(engine: SlaEngine) -> None:
    recs = [
        AssignmentIn("A1", "as1", 1, "zjj", at(2025, 3, 3, 9), district="A3区"),
        CaseEvent(
            event_id="e1",
            appeal_id="A1",
            kind="accept",
            occurred_at=at(2025, 3, 3, 12),
            department="zjj",
        ),
    ]
    res = replay(engine, recs, as_of=int(at(2025, 3, 3, 12).timestamp()))
    s = res.states["A1"]
    # before the accept at 12:00 the sign-for clock (due 11:00) fired 50/80/100 %;
    # its bits were cleared when the handling clock replaced it
    assert s.fired == 0
    assert res.late == {"A1"}  # it reached warn80 and stays a candidate while open
    assert dict(res.outcomes) == {"applied": 2}


def test_merge_streams_orders_by_time() -> None:
    a = [
        AssignmentIn("A1", "as1", 1, "zjj", at(2025, 3, 3, 9)),
        AssignmentIn("A2", "as2", 1, "zjj", at(2025, 3, 3, 11)),
    ]
    e = [CaseEvent(event_id="e1", appeal_id="A1", kind="accept", occurred_at=at(2025, 3, 3, 10))]
    assert [getattr(r, "assignment_id", None) or r.event_id for r in merge_streams(a, e)] == [
        "as1",
        "e1",
        "as2",
    ]


def test_replay_leaves_unpublished_alerts_due(engine: SlaEngine) -> None:
    """Thresholds whose alerts never reached sla.alerts are raised after the rebuild."""
    recs = [AssignmentIn("A1", "as1", 1, "zjj", at(2025, 3, 3, 9), district="A3区")]
    as_of = int(at(2025, 3, 3, 12).timestamp())  # sign-for (due 11:00): 50, 80, 100 % due
    everything = replay(engine, recs, as_of).states["A1"]
    times = engine.thresholds(everything)

    nothing_sent = replay(engine, recs, as_of, published=set())
    s = nothing_sent.states["A1"]
    assert s.fired == 0 and nothing_sent.late == set()
    scan = fire_due(s, times, as_of, mark=False)
    labels = [f.threshold.label for f in scan.fired]
    assert {"warn50", "warn80", "overdue"} <= set(labels)  # all still to be raised live
    assert scan.late  # and the case is late once they are

    first = scan.fired[0].alert_id
    one_sent = replay(engine, recs, as_of, published={first}).states["A1"]
    assert bin(one_sent.fired).count("1") == 1
    assert [f.alert_id for f in fire_due(one_sent, times, as_of, mark=False).fired] == [
        f.alert_id for f in scan.fired[1:]
    ]
    # with every alert sent, the same state as the plain replay
    sent = {f.alert_id for f in scan.fired}
    assert replay(engine, recs, as_of, published=sent).states["A1"].fired == everything.fired
