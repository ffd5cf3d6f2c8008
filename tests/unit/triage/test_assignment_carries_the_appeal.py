"""A department's assignment carries the (masked) appeal, so its own topic is enough."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from models.appeal import Appeal, RawRef
from models.assignment import Assignment
from models.review import ReviewDecision
from routing.dispatch import route
from triage.outcome import after_review, assignment_of

TZ = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 12, 2, 9, 0, tzinfo=TZ)
APPEAL = Appeal(
    appeal_id="WX-1", channel="wechat", source_id="1", title="A3区杜鹃路井盖丢了",
    content="A3区杜鹃路井盖丢了，电话138****5678", received_at=T0, ingested_at=T0,
    appeal_type="投诉", raw=RawRef(topic="raw.wechat", partition=0, offset=7),
    address="A市A3区杜鹃路5号", district="A市A3区", contact_ref="C-abc",
    attachments=["media-1"],
)  # fmt: skip


def _carries_the_appeal(assignment: Assignment) -> None:
    back = Assignment.loads(assignment.dumps())  # as the department's system reads it
    assert (back.title, back.content, back.address) == (
        APPEAL.title,
        APPEAL.content,
        APPEAL.address,
    )
    assert (back.channel, back.received_at) == ("wechat", T0)
    assert back.attachments == ["media-1"] and back.contact_ref == "C-abc"
    assert "raw" not in back.asdict()  # where the unmasked record sits stays out


def test_a_dispatched_assignment_carries_the_masked_appeal():
    decision = route(APPEAL.title, APPEAL.content, "城乡建设", None, APPEAL.district)
    _carries_the_appeal(assignment_of(APPEAL, decision, "城乡建设", None, 0.9, T0))


def test_a_reviewed_assignment_carries_it_too():
    decision = ReviewDecision(
        appeal_id="WX-1", decision_id="D-1", reviewer="张审核", category="城乡建设", decided_at=T0
    )
    _carries_the_appeal(after_review(APPEAL, decision, route, T0))
