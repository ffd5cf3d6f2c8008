"""Which offsets a worker takes over from another arrangement of the stages."""

from __future__ import annotations

import pytest
from aiokafka import TopicPartition

from config.streams import StreamSettings
from streams.group_handover import describe, furthest_offsets, other_arrangements

A0, A1 = TopicPartition("appeals.received", 0), TopicPartition("appeals.received", 1)
ENDS = {A0: 100, A1: 50}


def test_other_arrangements_are_every_other_set_of_stages_with_the_prefix(monkeypatch):
    monkeypatch.setenv("HOTLINE_APP_ID", "centre")
    monkeypatch.setenv("HOTLINE_TOPIC_PREFIX", "p.")
    monkeypatch.setenv("HOTLINE_WORKER_STAGES", "understand")
    groups = other_arrangements(StreamSettings())
    assert "p.centre-understand" not in groups
    assert sorted(groups) == sorted(
        ["p.centre-intake", "p.centre-sla", "p.centre-intake-understand", "p.centre-intake-sla",
         "p.centre-understand-sla", "p.centre"]
    )  # fmt: skip
    monkeypatch.delenv("HOTLINE_WORKER_STAGES")
    assert "p.centre" not in other_arrangements(StreamSettings())
    assert len(other_arrangements(StreamSettings())) == 6


def test_a_new_group_takes_the_previous_arrangements_offsets():
    moves = furthest_offsets({}, {"centre": {A0: 80, A1: 50}}, ENDS)
    assert moves == {A0: (80, "centre"), A1: (50, "centre")}


def test_only_forward_and_to_the_furthest_group():
    own = {A0: 90, A1: 10}
    others = {"centre": {A0: 80, A1: 20}, "centre-intake-understand": {A1: 30}}
    assert furthest_offsets(own, others, ENDS) == {A1: (30, "centre-intake-understand")}
    # equal is not further: nothing to move
    assert furthest_offsets({A0: 80}, {"centre": {A0: 80}}, ENDS) == {}


def test_an_offset_beyond_the_log_is_from_a_re_created_topic_and_ignored():
    assert furthest_offsets({}, {"centre": {A0: 101, A1: 50}}, ENDS) == {A1: (50, "centre")}


def test_partitions_not_read_here_are_left_alone():
    other = TopicPartition("raw.mailbox", 0)
    assert furthest_offsets({}, {"centre": {other: 5}}, ENDS) == {}


def test_ties_go_to_the_first_group():
    others = {"centre": {A0: 60}, "centre-understand-sla": {A0: 60}}
    assert furthest_offsets({}, others, ENDS) == {A0: (60, "centre")}


def test_the_log_names_each_previous_group_and_topic_once():
    moves = {A1: (50, "centre"), A0: (80, "centre"), TopicPartition("x", 2): (1, "centre-sla")}
    assert describe("centre-understand", moves) == [
        "centre-understand: appeals.received partitions 0, 1 resume where centre stopped "
        "(the stages were arranged differently before)",
        "centre-understand: x partitions 2 resume where centre-sla stopped "
        "(the stages were arranged differently before)",
    ]


async def test_a_fresh_brokers_coordinator_is_waited_for(monkeypatch):
    """A fresh broker answers 'coordinator not available' until its offsets topic exists:
    the demo's first worker start failed on it."""
    from aiokafka.errors import GroupCoordinatorNotAvailableError, UnknownError
    from aiokafka.structs import OffsetAndMetadata

    from streams import group_handover

    monkeypatch.setattr(group_handover.asyncio, "sleep", lambda s: _no_wait())
    answers = [GroupCoordinatorNotAvailableError(), {A0: OffsetAndMetadata(7, "")}]

    class Admin:
        async def list_consumer_group_offsets(self, group):
            answer = answers.pop(0)
            if isinstance(answer, Exception):
                raise answer
            return answer

    assert await group_handover._committed(Admin(), "g", frozenset({A0.topic})) == {A0: 7}
    answers[:] = [UnknownError()]  # not retriable: said at once
    with pytest.raises(UnknownError):
        await group_handover._committed(Admin(), "g", frozenset({A0.topic}))


async def _no_wait() -> None:
    return None
