"""A review decision whose assignment meets an outage is applied once the service is back,
not dead-lettered (``streams/agents/review_decisions.py``, with fakes for the broker and
the review queue).

The broker away longer than the producer's retries failed the assignment's send; the
agent's catch-all for bugs made that an ``INTERNAL`` dead letter, and if the broker was
back by then the letter went out and the decision's offset was acknowledged: the appeal
stayed in the review queue, its decision applied never.
"""

from __future__ import annotations

from datetime import datetime
from types import SimpleNamespace

import orjson
import pytest
from aiokafka.errors import KafkaConnectionError, KafkaTimeoutError, RecordTooLargeError
from faust.exceptions import ProducerSendError
from redis.exceptions import ConnectionError as RedisConnectionError

import streams.agents.review_decisions as review_decisions
import understand
from models.appeal import Appeal, RawRef
from routing.catalogue import load_catalogue
from streams import outages

AT = datetime.fromisoformat("2024-03-05T10:15:00+08:00")
APPEAL = Appeal(
    appeal_id="MB-1", channel="mailbox", source_id="1", received_at=AT, appeal_type="投诉",
    title="A3区小区噪音扰民", content="楼下KTV每晚营业到凌晨，噪音扰民。",
    raw=RawRef("raw.mailbox", 0, 1), ingested_at=AT, district="A市A3区",
)  # fmt: skip
DECISION = {"appeal_id": "MB-1", "decision_id": "D-1", "reviewer": "张审核",
            "category": "城乡建设", "decided_at": "2026-11-23T10:00:00+08:00"}  # fmt: skip


class Queue:
    """The review queue: MB-1 waits, no decision applied yet."""

    def __init__(self):
        self.settled: list[tuple[str, str]] = []
        self.claimed: set[tuple[str, str]] = set()

    async def applied(self, decision_id, appeal_id):
        return (decision_id, appeal_id) in self.settled

    async def claim(self, decision_id, appeal_id):
        self.claimed.add((decision_id, appeal_id))

    async def release(self, decision_id, appeal_id):
        self.claimed.discard((decision_id, appeal_id))

    async def get(self, appeal_id):
        return None if self.settled else APPEAL

    async def settle(self, decision_id, appeal_id):
        self.settled.append((decision_id, appeal_id))


def _wrapped_by_faust(cause: Exception) -> ProducerSendError:
    exc = ProducerSendError(f"Error while sending: {cause!r}")
    exc.__cause__ = cause
    return exc


@pytest.fixture
def world(monkeypatch):
    """Publishing that fails as ``world.failures`` say, then succeeds; dead letters and
    corrections kept in lists; no waiting between attempts."""

    async def no_sleep(seconds):
        pass

    async def publish_assignment(assignment, transfer=None):
        if state.failures:
            raise state.failures.pop(0)
        state.published.append(assignment)

    async def dead_letter(event, code, reason, channel, stage="intake", pending=None):
        state.letters.append((str(code), reason))

    def append_correction(decision, title, content, path=None):
        state.corrections.append(decision.decision_id)

    class Unsaved:  # the corrections file takes every correction here
        async def all(self):
            return []

    state = SimpleNamespace(failures=[], published=[], letters=[], corrections=[])
    monkeypatch.setattr(review_decisions, "unsaved_corrections", Unsaved)
    monkeypatch.setattr(outages.asyncio, "sleep", no_sleep)
    monkeypatch.setattr(review_decisions, "publish_assignment", publish_assignment)
    monkeypatch.setattr(review_decisions, "dead_letter", dead_letter)
    monkeypatch.setattr(understand, "append_correction", append_correction)
    return state


async def _apply(queue: Queue) -> None:
    event = SimpleNamespace(value=orjson.dumps(DECISION))
    await outages.until_reachable(
        "review decision", review_decisions._apply_decision, event, load_catalogue(), queue
    )


@pytest.mark.parametrize(
    "outage",
    [
        KafkaTimeoutError(),  # the producer's delivery timeout: the broker stayed away
        KafkaConnectionError("refused"),
        _wrapped_by_faust(KafkaTimeoutError()),
        RedisConnectionError("refused"),
    ],
    ids=["delivery-timeout", "connection", "wrapped-by-faust", "redis"],
)
async def test_an_outage_while_the_assignment_is_sent_is_waited_out(world, outage):
    world.failures = [outage, outage]
    queue = Queue()
    await _apply(queue)
    assert world.letters == []  # not an INTERNAL dead letter
    assert [a.decision_id for a in world.published] == ["D-1"]  # applied once it is back
    assert queue.settled == [("D-1", "MB-1")]  # and the appeal left the queue
    assert world.corrections == ["D-1"]


async def test_a_bug_while_applying_is_still_dead_lettered_for_replay(world):
    world.failures = [RecordTooLargeError("assignment too large")]  # no later attempt passes
    queue = Queue()
    await _apply(queue)
    assert [code for code, _ in world.letters] == ["INTERNAL"]
    assert "RecordTooLargeError" in world.letters[0][1]
    assert world.published == [] and queue.settled == []
    # no correction of a decision never applied (it was written first, and the reviewer's
    # next decision added a second, conflicting row), and the appeal is free for that one
    assert world.corrections == [] and queue.claimed == set()
