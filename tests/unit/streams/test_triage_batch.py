"""The understand stage's CPU step: records in, the exact records to publish out."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import orjson
import pytest

from config.intake import IntakeSettings
from intake import mailbox
from models.appeal import Appeal, RawRef
from models.assignment import Assignment
from models.classification import Classification
from models.emergency import EmergencyTransfer
from models.review import ReviewRequest
from routing.dispatch import for_emergency, route
from samples.appeal_rows import read_rows
from streams.triage_batch import _classifier, triage_records
from triage.outcome import classification_of, decide

TZ = ZoneInfo("Asia/Shanghai")


def _appeal(n: int, subject: str, detail: str) -> Appeal:
    raw = orjson.dumps({"message_id": f"MB-{n}", "user": "U1", "subject": subject,
                        "time": "2020/1/6 12:09:38", "detail": detail})  # fmt: skip
    now = datetime.now(TZ)
    return mailbox.normalise(mailbox.parse(raw), RawRef("t", 0, n), now, IntakeSettings()).appeal


@pytest.fixture(scope="module")
def real_appeals() -> list[Appeal]:
    rows = list(read_rows())[:120]
    return [_appeal(i, r.subject or r.detail[:20], r.detail) for i, r in enumerate(rows)]


def test_bad_records_get_their_error_and_the_rest_go_on(real_appeals):
    good = real_appeals[0]
    out = triage_records([b"{oops", good.dumps(), orjson.dumps({"appeal_id": "x"}), b""])
    assert [t.error_code for t in out] == ["BAD_JSON", None, "MISSING_FIELD", "BAD_JSON"]
    assert out[1].appeal_id == good.appeal_id and out[1].wires
    assert all(not t.wires for i, t in enumerate(out) if i != 1)


def test_batch_gives_the_same_events_as_one_appeal_at_a_time(real_appeals):
    """Batched routing and serialization change nothing: same records as decide() per appeal."""
    out = triage_records([a.dumps() for a in real_appeals])
    classifier = _classifier()
    assignments = reviews = 0
    for appeal, triaged in zip(real_appeals, out, strict=True):
        result = classifier.classify_batch([(appeal.title, appeal.content)])[0]
        now = datetime.now(TZ)
        expected = decide(
            appeal,
            classification_of(appeal, result, classifier.version, now),
            route,
            now,
            for_emergency,
        )
        by_topic = {
            w.topic.rsplit(".", 1)[-1] if "assign." not in w.topic else "own": w
            for w in triaged.wires
        }
        got = Classification.loads(by_topic["classified"].value)
        assert (got.category, got.confidence, got.subcategory) == (
            expected.classification.category, expected.classification.confidence,
            expected.classification.subcategory,
        )  # fmt: skip
        assert triaged.review == (expected.review is not None)
        if expected.assignment is not None:
            assignments += 1
            a = Assignment.loads(by_topic["all"].value)
            assert a.lead_code == expected.assignment.lead_code
            assert a.rule_id == expected.assignment.rule_id
            assert a.assisting == expected.assignment.assisting
            assert by_topic["own"].topic.endswith(f"assign.{a.lead_code}")
            assert by_topic["own"].value == by_topic["all"].value
            assert all(w.key == appeal.appeal_id.encode() for w in triaged.wires)
        else:
            reviews += 1
    assert assignments > 100  # most real appeals are assigned


def test_emergency_transfer_comes_first():
    appeal = _appeal(
        999, "小区着火了", "A市A3区某小区3栋起火，浓烟很大，有人被困在楼上，请马上派人！"
    )
    (triaged,) = triage_records([appeal.dumps()])
    assert triaged.emergency and triaged.emergency.startswith("119")
    first = triaged.wires[0]
    assert first.topic.endswith("appeals.emergency")
    assert EmergencyTransfer.loads(first.value).service == "119"
    assert triaged.wires[1].topic.endswith("appeals.classified")


def test_an_emergency_nothing_in_the_text_routes_goes_to_the_services_department():
    # before, the district government's catch-all took it (and a dispatcher, without one)
    appeal = _appeal(998, "求助", "A3区某小区门口有个人倒在地上没反应了，请派人来看看")
    (triaged,) = triage_records([appeal.dumps()])
    assert triaged.emergency and triaged.emergency.startswith("120")
    assignment = next(Assignment.loads(w.value) for w in triaged.wires if w.topic.endswith("all"))
    assert (assignment.lead_code, assignment.rule_id) == ("a3.wjw", "emergency")
    assert assignment.urgency == "emergency"


def test_a_call_for_help_no_rule_knows_is_reviewed_first_within_the_emergency_wait():
    # no rule reads 拿着铁锤在追; the emergency model does: review, not a transfer
    appeal = _appeal(997, "求助", "停车场有个男的拿着铁锤在追一个女的")
    (triaged,) = triage_records([appeal.dumps()])
    assert triaged.emergency is None and triaged.review and triaged.urgent
    assert not any(w.topic.endswith("appeals.emergency") for w in triaged.wires)
    request = next(
        ReviewRequest.loads(w.value) for w in triaged.wires if w.topic.endswith("review")
    )
    assert request.reason == "possible_emergency" and request.emergency is None
    # an ordinary complaint is not urgent
    (plain,) = triage_records([_appeal(996, "停车", "停车场晚上有人乱停车，堵住出口").dumps()])
    assert not plain.urgent
