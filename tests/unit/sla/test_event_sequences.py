"""Random record sequences against the SLA engine: the rules every outcome must keep.

Each seed builds one case's log: an assignment, then case events and later hops of every
kind with odd fields (no department, negative or huge extensions, unknown kinds), times
that mostly move on but sometimes stand still or go back. What must hold for any log:

* the engine never raises: bad input is an outcome;
* a record that is not applied returns the very state it was given, unchanged;
* an applied record bumps the version once, moves ``last_at`` to its time, caches the
  thresholds the state really has, and survives the Redis codec;
* sent again at once, an applied record is a duplicate (at-least-once delivery);
* the whole log delivered again after the fact applies nothing a second time, as long
  as no second holds more than ``RING`` applied records of the case (the documented
  limit of the recent-ids ring).
"""

from __future__ import annotations

import random
from collections import Counter
from datetime import timedelta

import pytest

from models.case_event import CaseEvent
from sla.events import RING, AssignmentIn, SlaEngine, record_time
from sla.redis_store import Codes, pack_state, unpack_state

from .conftest import at

#: case event kinds (and one unknown), weighted so that handling gets far enough for
#: extensions, replies and reopening to apply often
KINDS = {
    "accept": 4, "return": 1, "reassign": 1, "extend_request": 3, "extend_approve": 3,
    "pause": 1, "resume": 1, "reply": 2, "close": 1, "reopen": 1, "transfer": 0.3,
}  # fmt: skip
DEPARTMENTS = ["zjj", "cgj", "jyj", None, ""]
#: seconds between records: standing still, small and large steps, going back
STEPS = [0, 0, 1, 60, 3600, 86_400, 3 * 86_400, -60]


def _log(seed: int) -> list[AssignmentIn | CaseEvent]:
    rnd = random.Random(seed)
    when = at(2025, 3, 3, 10) + timedelta(minutes=rnd.randrange(60 * 24 * 300))
    records: list[AssignmentIn | CaseEvent] = [
        AssignmentIn("A1", "as1", 1, "zjj", when, category="城乡建设/物业管理/物业服务")
    ]
    hop, current = 1, "zjj"
    for i in range(rnd.randint(3, 40)):
        when += timedelta(seconds=rnd.choice(STEPS))
        if rnd.random() < 0.06:
            hop = max(0, hop + rnd.choice([0, 1, 1, -1]))
            current = rnd.choice(DEPARTMENTS[:3])
            records.append(AssignmentIn("A1", f"as{hop}-{i}", hop, current, when))
            continue
        kind = rnd.choices(list(KINDS), list(KINDS.values()))[0]
        target = rnd.choice(DEPARTMENTS)
        if kind == "reassign" and target:
            current = target
        records.append(
            CaseEvent(
                event_id=f"e{i}",
                appeal_id="A1",
                kind=kind,
                occurred_at=when,
                # mostly the department that holds the case, so that most events apply
                department=current if rnd.random() < 0.75 else rnd.choice(DEPARTMENTS),
                extension_days=rnd.choice([None, 0, 1, 2, 3, 20, -1]),
                target_department=target,
            )
        )
    return records


def _check_codec(state) -> None:
    t, b = pack_state(state, state.times, Codes(1, 2, 3, 4))
    back, times, codes = unpack_state(state.appeal_id, t, b)
    assert times == state.times and codes == Codes(1, 2, 3, 4)
    back.policy, back.department = state.policy, state.department
    back.district, back.category = state.district, state.category
    assert back == state


@pytest.mark.parametrize("seed", range(300))
def test_any_log_keeps_the_outcome_rules(engine: SlaEngine, seed: int) -> None:
    records = _log(seed)
    state, applied = None, []
    for rec in records:
        before = state.copy() if state is not None else None
        out, new = engine.apply_record(state, rec)
        if not out.applied:
            assert new is state and new == before, (rec, out)
            continue
        applied.append(rec)
        assert new.version == (before.version if before else 0) + 1
        assert new.last_at == max(
            before.last_at if before else 0, engine.wt.epoch(record_time(rec))
        )
        assert new.times == engine.thresholds(new), rec
        _check_codec(new)
        again, same = engine.apply_record(new, rec)
        assert not again.applied and same is new, (rec, again)
        state = new
    assert applied, "every log starts with a valid assignment"

    per_second = Counter(engine.wt.epoch(record_time(r)) for r in applied)
    if max(per_second.values()) > RING:
        return  # beyond the ring's documented reach
    for rec in records:
        out, state = engine.apply_record(state, rec)
        assert not (out.applied and rec in applied), (rec, out)
