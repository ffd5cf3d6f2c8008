"""Which errors count as an outage, retrying through one, and settling acknowledgements."""

from __future__ import annotations

import asyncio
import logging

import pytest
from aiokafka.errors import (
    KafkaConnectionError,
    KafkaTimeoutError,
    NodeNotReadyError,
    RecordTooLargeError,
    UnknownTopicOrPartitionError,
)
from faust.exceptions import ProducerSendError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError

from streams import outages


@pytest.fixture(autouse=True)
def no_sleep(monkeypatch):
    waits: list[float] = []

    async def sleep(seconds):
        waits.append(seconds)

    monkeypatch.setattr(outages.asyncio, "sleep", sleep)
    return waits


def _failing(times: int, exc: Exception):
    calls = []

    async def step(value):
        calls.append(value)
        if len(calls) <= times:
            raise exc
        return value * 2

    return step, calls


@pytest.mark.parametrize(
    "exc",
    [
        KafkaConnectionError("refused"),
        NodeNotReadyError("node 1"),
        KafkaTimeoutError(),
        UnknownTopicOrPartitionError(),
    ],
)
def test_broker_errors_a_later_attempt_can_pass_are_outages(exc):
    assert outages.kafka_down(exc)


def _wrapped_by_faust(cause: Exception) -> ProducerSendError:
    try:
        try:
            raise cause
        except Exception as exc:
            raise ProducerSendError(f"Error while sending: {exc!r}") from exc
    except ProducerSendError as wrapped:
        return wrapped


def test_an_outage_wrapped_by_faust_topic_send_is_an_outage():
    assert outages.kafka_down(_wrapped_by_faust(UnknownTopicOrPartitionError()))
    assert not outages.kafka_down(_wrapped_by_faust(RecordTooLargeError()))
    assert not outages.kafka_down(ProducerSendError("no transaction producer"))


@pytest.mark.parametrize("exc", [RecordTooLargeError(), ValueError("bug"), ResponseError("x")])
def test_other_errors_are_not_outages(exc):
    assert not outages.kafka_down(exc)


async def test_retries_through_a_kafka_outage_with_growing_waits(no_sleep, caplog):
    step, calls = _failing(5, NodeNotReadyError("node 1"))
    with caplog.at_level(logging.WARNING):
        assert await outages.until_reachable("intake", step, 21, longest_wait=3.0) == 42
    assert calls == [21] * 6
    assert no_sleep == [0.5, 1.0, 2.0, 3.0, 3.0]
    assert "Kafka unreachable during intake (NodeNotReadyError" in caplog.text
    assert "NodeNotReadyError: NodeNotReadyError" not in caplog.text  # the name said once


async def test_retries_through_a_redis_outage(no_sleep, caplog):
    step, calls = _failing(2, RedisConnectionError("Error 111"))
    with caplog.at_level(logging.WARNING):
        assert await outages.until_reachable("SLA", step, 1) == 2
    assert len(calls) == 3
    assert "Redis unreachable during SLA (ConnectionError: Error 111)" in caplog.text


async def test_a_busy_sla_case_is_retried_not_a_crash(no_sleep, caplog):
    from sla.redis_store import ConcurrencyError

    step, calls = _failing(1, ConcurrencyError("cases kept changing while applying: ['A1']"))
    with caplog.at_level(logging.WARNING):
        assert await outages.until_reachable("SLA case events", step, 1) == 2
    assert len(calls) == 2
    assert "SLA cases busy during SLA case events" in caplog.text


async def test_an_unknown_topic_names_both_an_outage_and_a_missing_topic(no_sleep, caplog):
    step, calls = _failing(1, _wrapped_by_faust(UnknownTopicOrPartitionError()))
    with caplog.at_level(logging.WARNING):
        assert await outages.until_reachable("understand", step, 1) == 2
    assert "Kafka unreachable or topic missing during understand" in caplog.text


async def test_an_error_that_is_no_outage_is_raised_at_once(no_sleep):
    step, calls = _failing(1, RecordTooLargeError("too big"))
    with pytest.raises(RecordTooLargeError):
        await outages.until_reachable("understand", step, 1)
    assert calls == [1] and no_sleep == []


async def test_all_delivered_waits_for_every_ack_and_raises_the_first_failure():
    loop = asyncio.get_running_loop()
    ok, failed, late = loop.create_future(), loop.create_future(), loop.create_future()
    ok.set_result("m1")
    failed.set_exception(NodeNotReadyError("node 1"))
    loop.call_soon(late.set_exception, KafkaTimeoutError())
    with pytest.raises(NodeNotReadyError):
        await outages.all_delivered([ok, failed, late])
    # the later failure was retrieved too: settled, no "exception never retrieved" warning
    assert late.done() and isinstance(late.exception(), KafkaTimeoutError)


async def test_all_delivered_of_nothing_returns():
    await outages.all_delivered([])
