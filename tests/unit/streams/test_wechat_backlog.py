"""The gate of the WeChat idle rule: no idle flush while raw.wechat messages that were
waiting at the last partition assignment are not pieces yet (``streams/wechat_backlog.py``).

A session restored after a downtime longer than the idle period is idle by the wall clock
at once; its sender's later messages may still wait in raw.wechat. Closing it then split
one citizen request into two appeals."""

from __future__ import annotations

import asyncio
import dataclasses
import logging

import pytest
from aiokafka.errors import KafkaConnectionError

from intake.wechat_session import is_idle
from models.appeal import RawRef
from models.wechat import WeChatPiece, WeChatSession
from streams.wechat_backlog import IntakeBacklog, flush_allowed, taken_in

IDLE = 600


class Offsets:
    """A fake broker: raw.wechat end offsets and the group's committed offsets."""

    def __init__(self, ends: dict[int, int], committed: dict[int, int]):
        self.ends, self.committed = ends, committed
        self.calls = 0

    async def __call__(self):
        self.calls += 1
        return dict(self.ends), dict(self.committed)


# --- taken_in, flush_allowed ------------------------------------------------------------


def test_backlog_is_taken_in_when_every_partition_is_committed_to_its_end() -> None:
    assert taken_in({0: 10, 1: 5}, {0: 10, 1: 7})
    assert not taken_in({0: 10, 1: 5}, {0: 10, 1: 4})


def test_an_empty_partition_needs_no_commit_and_a_missing_commit_is_not_taken_in() -> None:
    assert taken_in({0: 0, 1: 3}, {1: 3})
    assert not taken_in({0: 2}, {})


def test_a_flush_needs_an_open_gate_and_a_request_made_after_it_opened() -> None:
    assert not flush_allowed(2000.0, None)  # closed
    assert not flush_allowed(1999.9, 2000.0)  # asked before: may be ahead of backlog pieces
    assert not flush_allowed(None, 2000.0)  # a request without a stamp (older workers)
    assert flush_allowed(2000.0, 2000.0)
    assert flush_allowed(2300.0, 2000.0)


# --- IntakeBacklog ----------------------------------------------------------------------


async def test_restored_idle_session_is_not_flushed_until_the_backlog_is_taken_in() -> None:
    """The reported case: the session's last piece was processed before a 20-minute stop,
    so it is idle by the wall clock; 300 raw messages wait on partition 1."""
    restored = WeChatSession(contact_ref="C-1", pieces=[], last_seen_wall=1000.0)
    offsets = Offsets({0: 50, 1: 400}, {0: 50, 1: 100})
    gate = IntakeBacklog(offsets, max_wait_s=6 * IDLE)
    gate.close(2200.0)  # the start's partition assignment
    assert is_idle(restored, 2201.0, IDLE)  # what alone used to close it
    assert not await gate.refresh(2201.0)
    assert not gate.allows(2201.0)
    offsets.committed[1] = 399
    assert not await gate.refresh(2202.0)
    offsets.committed[1] = 400
    assert await gate.refresh(2203.0)
    assert gate.opened_at == 2203.0
    assert gate.allows(2203.5) and not gate.allows(2201.0)


async def test_new_traffic_after_the_snapshot_does_not_hold_the_gate() -> None:
    """Only what waited at the assignment counts: under steady traffic the group's lag is
    never zero, and sessions must still close."""
    offsets = Offsets({0: 100}, {0: 0})
    gate = IntakeBacklog(offsets, max_wait_s=6 * IDLE)
    gate.close(0.0)
    assert not await gate.refresh(1.0)
    offsets.ends[0], offsets.committed[0] = 500, 120  # more arrived; the backlog is done
    assert await gate.refresh(2.0)


async def test_each_assignment_closes_the_gate_and_reads_the_backlog_again() -> None:
    offsets = Offsets({0: 10}, {0: 10})
    gate = IntakeBacklog(offsets, max_wait_s=6 * IDLE)
    assert await gate.refresh(1.0)
    offsets.ends[0] = 30  # written while partitions moved
    gate.close(5.0)  # a rebalance
    assert not gate.is_open and not gate.allows(6.0)
    assert not await gate.refresh(6.0)
    offsets.committed[0] = 30
    assert await gate.refresh(7.0)
    assert gate.opened_at == 7.0


async def test_an_open_gate_reads_the_offsets_again_at_most_every_few_seconds() -> None:
    offsets = Offsets({0: 0}, {})
    gate = IntakeBacklog(offsets, max_wait_s=6 * IDLE, recheck_s=5)
    assert await gate.refresh(1.0)
    assert await gate.refresh(2.0) and await gate.refresh(3.0)
    assert offsets.calls == 2  # the opening read, then one check
    assert await gate.refresh(8.5)
    assert offsets.calls == 3


async def test_an_open_gate_closes_while_the_broker_is_away_and_after_until_caught_up() -> None:
    """Bug: the gate closed only at a partition assignment, and a broker restart brings
    none. After a 20 s outage (idle period 6 s) every open session was asked to close at
    once, ahead of its sender's messages written meanwhile: 30 sessions, 60 appeals."""
    offsets = Offsets({0: 10}, {0: 10})
    gate = IntakeBacklog(offsets, max_wait_s=6 * IDLE, recheck_s=0)
    assert await gate.refresh(1.0)
    healthy = offsets.__call__

    async def broker_away():
        raise KafkaConnectionError("Unable to bootstrap from [('127.0.0.1', 19092)]")

    gate._read = broker_away
    assert not await gate.refresh(2.0) and not gate.allows(2.0)
    assert not await gate.refresh(20.0)  # still away: stays closed
    gate._read = healthy
    offsets.ends[0] = 40  # the gateways' messages, delivered once the broker is back
    assert not await gate.refresh(21.0)
    offsets.committed[0] = 40
    assert await gate.refresh(22.0) and gate.opened_at == 22.0
    assert not gate.allows(1.5)  # a request made before the outage is not honoured


async def test_an_open_gate_closes_when_old_records_are_not_taken_in() -> None:
    offsets = Offsets({0: 10}, {0: 10})
    gate = IntakeBacklog(offsets, max_wait_s=6 * IDLE, lag_allowance_s=90, recheck_s=0)
    assert await gate.refresh(0.0)
    offsets.ends[0] = 50  # a spike; the intake lags behind
    assert await gate.refresh(10.0)
    offsets.committed[0] = 30
    assert await gate.refresh(60.0)  # behind, but by less than the allowance
    assert await gate.refresh(99.0)  # the ends of t=0 (10) are in
    assert not await gate.refresh(101.0)  # the ends of t=10 (50) are 91 s old, not in
    offsets.committed[0] = 50
    assert await gate.refresh(102.0)


async def test_unreadable_offsets_fall_back_to_the_wall_clock_and_say_so(caplog) -> None:
    async def no_topic():
        raise LookupError("no partitions known for raw.wechat")

    gate = IntakeBacklog(no_topic, max_wait_s=6 * IDLE)
    gate.close(0.0)
    with caplog.at_level(logging.WARNING, logger="streams.wechat_backlog"):
        assert await gate.refresh(1.0)
    assert "backlog unknown" in caplog.text and "LookupError" in caplog.text
    assert gate.allows(1.0)
    assert await gate.refresh(100.0)  # open: unreadable for good is no reason to close


async def test_an_unreachable_or_hanging_broker_keeps_the_gate_closed_up_to_the_longest_wait():
    async def hangs():
        await asyncio.sleep(60)

    async def refused():
        raise ConnectionRefusedError(111, "Connection refused")

    for read in (hangs, refused):
        gate = IntakeBacklog(read, max_wait_s=30, timeout_s=0.05)
        gate.close(0.0)
        assert not await gate.refresh(1.0)
        assert await gate.refresh(30.0)


async def test_a_backlog_never_taken_in_opens_the_gate_after_the_longest_wait(caplog) -> None:
    gate = IntakeBacklog(Offsets({0: 10}, {0: 0}), max_wait_s=3600)
    gate.close(0.0)
    assert not await gate.refresh(3599.0)
    with caplog.at_level(logging.WARNING, logger="streams.wechat_backlog"):
        assert await gate.refresh(3600.0)
    assert "not taken in after 3600 s" in caplog.text


# --- the idle timer and the session agent with the gate ---------------------------------


class Sent(list):
    async def send(self, key, value):
        self.append((key, value))


@pytest.fixture
def timer(monkeypatch):
    from streams.agents import intake_wechat
    from streams.timers import wechat_idle

    offsets = Offsets({0: 10}, {0: 0})
    gate = IntakeBacklog(offsets, max_wait_s=6 * IDLE)
    sent = Sent()
    clock = [5000.0]
    monkeypatch.setattr(wechat_idle, "intake_backlog", gate)
    monkeypatch.setattr(intake_wechat, "intake_backlog", gate)
    monkeypatch.setattr(wechat_idle, "wechat_sessions", {
        "C-1": WeChatSession(contact_ref="C-1", pieces=[], last_seen_wall=1000.0)})  # fmt: skip
    monkeypatch.setattr(wechat_idle.topics, "wechat_pieces", sent)
    monkeypatch.setattr(wechat_idle, "intake_settings",
                        dataclasses.replace(wechat_idle.intake_settings, wechat_idle_flush_s=IDLE))  # fmt: skip
    monkeypatch.setattr(wechat_idle.time, "time", lambda: clock[0])
    monkeypatch.setattr(wechat_idle, "_requested", {})
    return wechat_idle, gate, offsets, sent, clock


async def test_the_timer_asks_for_no_flush_while_the_backlog_waits(timer) -> None:
    wechat_idle, gate, offsets, sent, clock = timer
    gate.close(clock[0])
    await wechat_idle._request_idle_flushes()
    assert sent == []  # idle by the wall clock, but messages wait in raw.wechat
    offsets.committed[0] = 10
    clock[0] += 1
    await wechat_idle._request_idle_flushes()
    assert [key for key, _ in sent] == ["C-1"]
    request: WeChatPiece = sent[0][1]
    assert request.msg_type == "flush" and request.requested_at == clock[0]
    assert gate.allows(request.requested_at)


async def test_the_timer_asks_again_once_the_gate_reopens_after_a_rebalance(timer) -> None:
    """A request made before a rebalance is ignored by the agent (older than the gate's
    opening): waiting another idle period to ask again would keep the session open."""
    wechat_idle, gate, offsets, sent, clock = timer
    offsets.committed[0] = 10
    await wechat_idle._request_idle_flushes()
    assert len(sent) == 1
    clock[0] += 5
    gate.close(clock[0])
    clock[0] += 1
    await wechat_idle._request_idle_flushes()
    assert len(sent) == 2 and not gate.allows(sent[0][1].requested_at)
    assert gate.allows(sent[1][1].requested_at)
    clock[0] += 1
    await wechat_idle._request_idle_flushes()
    assert len(sent) == 2  # then once per idle period, as before


def test_a_flush_request_carries_when_it_was_made() -> None:
    from streams.agents.intake_wechat import flush_request

    request = flush_request("C-1", 1234.5)
    assert request.requested_at == 1234.5
    assert WeChatPiece.loads(request.dumps()).requested_at == 1234.5
    assert request.raw == RawRef("", 0, 0)
