"""The understand agent through a Redis step that fails: nothing is sent twice, and an
error nobody anticipated leaves the batch unacknowledged (``streams/agents/understand_route.py``
with fakes for the stream, the triage pool, Redis and the producer).

A retry of the whole chunk sent its dead letters again at every attempt (26 letters for
20 bad appeals after a 20 s outage), and an unexpected error crashed the agent, whose
batch faust then acknowledged: appeals lost with their offsets committed.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from types import SimpleNamespace

import pytest
from redis._parsers import BaseParser
from redis.exceptions import ConnectionError as RedisConnectionError

import streams.agents.understand_route as understand_route
import streams.dead_letters as dead_letters
from streams import outages, topics
from streams.outcome_wires import Wire
from streams.triage_batch import Triaged
from tests.unit.streams.test_shutdown import FakeConsumer, _message

TOPIC = "appeals.received"
REVIEW_TOPIC = topics.reviews.get_topic_name()
ASSIGNED = topics.assignments.get_topic_name()
#: a batch of five: two records that are no appeal, one for review, two dispatched
RESULTS = [
    Triaged(None, error_code="BAD_JSON", error="appeal is not JSON"),
    Triaged("MB-review", "mailbox", [Wire(REVIEW_TOPIC, b"MB-review", b"{}")], review=True),
    Triaged("MB-1", "mailbox", [Wire(ASSIGNED, b"MB-1", b"{}")]),
    Triaged(None, error_code="MISSING_FIELD", error="appeal has no title"),
    Triaged("MB-2", "mailbox", [Wire(ASSIGNED, b"MB-2", b"{}")]),
]


class FakeStream:
    """``take_events`` as faust's: the batch is acknowledged when the body is left, by
    an exception too (its ``finally``)."""

    def __init__(self, consumer: FakeConsumer, n: int):
        self.consumer = consumer
        self.events = [
            SimpleNamespace(value=b"{}", message=_message(offset, TOPIC)) for offset in range(n)
        ]

    async def take_events(self, max_, within):
        try:
            yield list(self.events)
        finally:
            for event in self.events:
                event.message.ack(self.consumer)


class FakePool:
    def __init__(self, processes, chunk_timeout=None):
        pass

    async def start(self):
        pass

    async def run_chunks(self, values):
        yield 0, RESULTS[: len(values)]

    def stop(self):
        pass


def _failing(n: int, exc: Exception, result=None):
    """An async function that raises ``exc`` on its first ``n`` calls; its calls."""
    calls = []

    async def step(*args):
        calls.append(args)
        if len(calls) <= n:
            raise exc
        return result(*args) if callable(result) else result

    return step, calls


class World:
    """The agent's Redis and producer, faked; what was sent."""

    def __init__(self, monkeypatch, park_fails=0, count_fails=0, park_error=None):
        self.letters: list[str] = []  # dead letters' keys, as sent
        self.wires: list[bytes] = []  # records' keys, as sent
        self.counted: Counter = Counter()
        error = park_error or RedisConnectionError("Error 111 connecting to 127.0.0.1:6379")
        self.park, self.parks = _failing(park_fails, error, lambda recs, *_: [a for a, _ in recs])
        self.count, self.counts = _failing(
            count_fails, RedisConnectionError("Connection reset by peer"), self.counted.update
        )
        counters = SimpleNamespace(add=self.count)
        monkeypatch.setattr(dead_letters, "intake_counters", lambda: counters)
        monkeypatch.setattr(understand_route, "intake_counters", lambda: counters, raising=False)
        reviews = SimpleNamespace(put_records=self.park)
        monkeypatch.setattr(understand_route, "pending_reviews", lambda: reviews)
        monkeypatch.setattr(understand_route, "review_deadlines", lambda parked: {})
        monkeypatch.setattr(topics.dead_letters, "send", self._send_letter)
        monkeypatch.setattr(understand_route, "enqueue_wires", self._enqueue)
        monkeypatch.setattr(understand_route, "TriagePool", FakePool)

    @staticmethod
    def _done():
        future = asyncio.get_running_loop().create_future()
        future.set_result(None)
        return future

    async def _send_letter(self, key, value):
        self.letters.append(key)
        return self._done()

    async def _enqueue(self, wires):
        out = []
        for w in wires:
            self.wires.append(w.key)
            out.append(self._done())
        return out


@pytest.fixture(autouse=True)
def no_sleep(monkeypatch):
    async def sleep(seconds):
        pass

    monkeypatch.setattr(outages.asyncio, "sleep", sleep)
    monkeypatch.setattr(outages, "_stop_requested", False)
    monkeypatch.setattr(outages, "_waiting", {})


LETTERS = [f"{TOPIC}/0/0", f"{TOPIC}/0/3"]


@pytest.mark.parametrize(
    "park_error",
    [
        RedisConnectionError("Error 111 connecting to 127.0.0.1:6379"),
        BaseParser.parse_error("OOM command not allowed when used memory > 'maxmemory'."),
    ],
    ids=["unreachable", "out-of-memory"],
)
async def test_review_parking_failing_once_sends_each_dead_letter_once(monkeypatch, park_error):
    world = World(monkeypatch, park_fails=1, park_error=park_error)
    consumer = FakeConsumer()
    stream = FakeStream(consumer, len(RESULTS))
    consumer.unacked = {e.message for e in stream.events}
    await understand_route.understand_and_route.fun(stream)
    assert len(world.parks) == 2  # retried
    assert world.letters == LETTERS
    assert world.counted == {"unknown.dead_lettered": 2}
    assert world.wires == [b"MB-review", b"MB-1", b"MB-2"]
    assert consumer.committable == [0, 1, 2, 3, 4]


async def test_a_dead_letter_whose_count_fails_is_not_sent_again(monkeypatch):
    """Redis fails after the first letter went to the broker: only its count is redone."""
    world = World(monkeypatch, count_fails=1)
    consumer = FakeConsumer()
    stream = FakeStream(consumer, len(RESULTS))
    await understand_route.understand_and_route.fun(stream)
    assert world.letters == LETTERS
    assert world.counted == {"unknown.dead_lettered": 2}
    assert world.wires == [b"MB-review", b"MB-1", b"MB-2"]


async def test_an_unexpected_error_stops_the_worker_with_the_batch_unacknowledged(
    monkeypatch, caplog
):
    """A Redis reply nobody anticipated (a key of the wrong type): no outage, no dead
    letter: the batch is withheld and the worker crashed, not the agent restarted."""
    bug = BaseParser.parse_error(
        "WRONGTYPE Operation against a key holding the wrong kind of value"
    )
    World(monkeypatch, park_fails=1, park_error=bug)
    consumer = FakeConsumer()
    stream = FakeStream(consumer, len(RESULTS))
    consumer.unacked = {e.message for e in stream.events}
    crashed = asyncio.Event()
    reasons = []

    async def crash(exc):
        reasons.append(exc)
        crashed.set()

    app = SimpleNamespace(consumer=consumer, crash=crash)
    monkeypatch.setattr("streams.agent_guard._app", lambda: app)
    agent = asyncio.create_task(understand_route.understand_and_route.fun(stream))
    await asyncio.wait([agent, asyncio.ensure_future(crashed.wait())], timeout=2,
                       return_when=asyncio.FIRST_COMPLETED)  # fmt: skip
    if agent.done():
        agent.result()  # raises what escaped the agent (faust would ack and restart it)
    assert reasons == [bug]
    assert "understand failed unexpectedly" in caplog.text
    assert "5 records not acknowledged (appeals.received: 5)" in caplog.text
    assert "WRONGTYPE" in caplog.text and "Traceback" in caplog.text
    await asyncio.sleep(0.05)
    assert not agent.done()  # waits for the stopping worker, nothing acknowledged
    agent.cancel()
    with pytest.raises(asyncio.CancelledError):
        await agent
    assert consumer.committable == []  # take_events' acknowledgement committed nothing
