"""An error nobody anticipated in an agent's loop body stops the worker with the records
in hand unacknowledged (``streams/agent_guard.py``), instead of faust acknowledging the
batch and restarting the agent: records lost with their offsets committed."""

from __future__ import annotations

import asyncio
import logging
from types import SimpleNamespace

import pytest

import streams.agents.intake_direct as intake_direct
import streams.agents.intake_wechat as intake_wechat
import streams.agents.review_decisions as review_decisions
import streams.agents.sla_clocks as sla_clocks
import streams.intake_step as intake_step
from streams import agent_guard
from tests.unit.streams.test_shutdown import FakeConsumer, _message


class FakeApp:
    def __init__(self, consumer: FakeConsumer):
        self.consumer = consumer
        self.crashed: list[BaseException] = []
        self.crashing = asyncio.Event()

    async def crash(self, exc: BaseException) -> None:
        self.crashed.append(exc)
        self.crashing.set()


@pytest.fixture
def app(monkeypatch):
    consumer = FakeConsumer()
    app = FakeApp(consumer)
    monkeypatch.setattr(agent_guard, "_app", lambda: app)
    return app


async def test_a_body_that_returns_changes_nothing(app):
    async with agent_guard.stop_worker_on_error("mailbox intake"):
        pass
    assert app.crashed == []


async def test_an_unexpected_error_withholds_every_record_in_hand_and_crashes_the_app(app, caplog):
    batch = [_message(7), _message(8)]
    other = _message(3, "assignments.all")  # another agent's, in hand too
    app.consumer.unacked = {*batch, other}
    bug = KeyError("district")

    async def body():
        async with agent_guard.stop_worker_on_error("mailbox intake"):
            raise bug

    with caplog.at_level(logging.CRITICAL):
        task = asyncio.create_task(body())
        await asyncio.wait_for(app.crashing.wait(), 1)
    assert app.crashed == [bug]
    assert ("mailbox intake failed unexpectedly (KeyError: 'district'): 3 records not "
            "acknowledged (assignments.all: 1, raw.mailbox: 2), they will be redone after "
            "restart; the worker stops") in caplog.text  # fmt: skip
    assert "Traceback" in caplog.text
    await asyncio.sleep(0.05)
    assert not task.done()  # the agent goes no further: it waits to be cancelled
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    for message in [*batch, other]:  # as faust acknowledges a batch when it is cancelled
        message.ack(app.consumer)
    assert app.consumer.committable == []


async def test_a_cancelled_body_is_no_error(app):
    async def body():
        async with agent_guard.stop_worker_on_error("SLA assignments"):
            await asyncio.sleep(10)

    task = asyncio.create_task(body())
    await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert app.crashed == []


class FakeStream:
    """Two events, acknowledged when the agent's body is left (by an exception too), as
    faust's ``take_events``, ``events()`` and iteration do."""

    def __init__(self, consumer: FakeConsumer, topic: str):
        self.consumer = consumer
        piece = SimpleNamespace(raw=SimpleNamespace(as_text=lambda: f"{topic}/0/1"),
                                msg_type="text", contact_ref="wx-1")  # fmt: skip
        self.held = [SimpleNamespace(value=piece, message=_message(n, topic)) for n in (1, 2)]
        consumer.unacked = {e.message for e in self.held}

    def _ack(self):
        for event in self.held:
            event.message.ack(self.consumer)

    async def take_events(self, max_, within):
        try:
            yield list(self.held)
        finally:
            self._ack()

    async def events(self):
        try:
            for event in self.held:
                yield event
        finally:
            self._ack()

    async def __aiter__(self):
        try:
            for event in self.held:
                yield event.value
        finally:
            self._ack()


AGENTS = {  # (the module whose until_reachable the agent's steps go through, …)
    "hotline intake": (intake_step, intake_direct.hotline_intake, "raw.hotline"),
    "wechat intake": (intake_step, intake_wechat.wechat_intake, "raw.wechat"),
    "wechat session": (intake_wechat, intake_wechat.wechat_sessions_agent, "wechat.pieces"),
    "review decision": (review_decisions, review_decisions.apply_review_decisions, "decisions"),
    "SLA assignments": (sla_clocks, sla_clocks.start_clocks, "assignments.all"),
    "SLA case events": (sla_clocks, sla_clocks.apply_case_events, "case.events"),
}


@pytest.mark.parametrize("what", AGENTS)
async def test_every_agent_stops_the_worker_on_an_unexpected_error(app, monkeypatch, what):
    module, agent, topic = AGENTS[what]
    bug = RuntimeError("a bug")

    async def failing(*args):
        raise bug

    monkeypatch.setattr(module, "until_reachable", failing)
    # the WeChat session agent dead-letters a piece that fails: the letter fails too
    monkeypatch.setattr(intake_wechat, "_dead_letter_session", failing)
    task = asyncio.create_task(agent.fun(FakeStream(app.consumer, topic)))
    await asyncio.wait([task, asyncio.ensure_future(app.crashing.wait())], timeout=2,
                       return_when=asyncio.FIRST_COMPLETED)  # fmt: skip
    if task.done():
        task.result()  # what escaped the agent: faust would acknowledge and restart it
    assert app.crashed == [bug]
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert app.consumer.committable == []
