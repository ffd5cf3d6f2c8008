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


@pytest.fixture
def not_stopping(monkeypatch):
    monkeypatch.setattr(outages, "_stop_requested", False)
    monkeypatch.setattr(outages, "_waiting", {})


async def test_a_step_waiting_for_a_service_is_listed_until_it_gets_through(no_sleep, not_stopping):
    seen = []

    async def step():
        seen.append(outages.waiting_steps())
        if len(seen) < 3:
            raise RedisConnectionError("Error 111")
        return "done"

    assert await outages.until_reachable("mailbox intake", step) == "done"
    down = [("mailbox intake", "Redis unreachable")]
    assert seen == [[], down, down]  # listed from the first failure, while retried
    assert outages.waiting_steps() == []


async def test_once_the_worker_stops_a_step_meeting_an_outage_is_not_retried(
    no_sleep, not_stopping, caplog
):
    """It waits, with nothing acknowledged, until the stopping worker cancels it."""
    calls = []

    async def step():
        calls.append(1)
        if len(calls) == 2:
            outages.stop_retrying()  # SIGTERM while the step is away
        raise RedisConnectionError("Error 111")

    with caplog.at_level(logging.INFO):
        task = asyncio.create_task(outages.until_reachable("SLA assignments", step))
        await asyncio.wait([task], timeout=0.1)  # (asyncio.sleep is patched out here)
    assert not task.done() and len(calls) == 2
    assert outages.waiting_steps() == [("SLA assignments", "Redis unreachable")]
    assert "during SLA assignments (ConnectionError: Error 111); not retried, the worker is " \
        "stopping" in caplog.text  # fmt: skip
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert outages.waiting_steps() == []


def test_the_stop_log_says_what_state_each_service_is_in():
    assert outages.state_of("Redis unreachable") == "Redis is unreachable"
    assert outages.state_of("SLA cases busy") == "SLA cases are busy"


def _reply(text: str, in_pipeline: bool = False, status_code: bool = True) -> Exception:
    """The exception redis-py raises for the error reply ``text`` (its parser's), as a
    single command or as command 1 of a pipeline (redis-py's prefix)."""
    from redis._parsers import BaseParser
    from redis.asyncio.client import Pipeline

    exc = BaseParser.parse_error(text)
    if in_pipeline:
        Pipeline.annotate_exception(None, exc, 1, ("EVAL", "redis.call('SET', KEYS[1], 1)", 1, "k"))
    if not status_code:  # an older redis-py: only the message tells
        exc.status_code = None
    return exc


#: Error replies of a Redis that refuses writes (or all commands) until its operator acts.
REFUSING = {
    "OOM command not allowed when used memory > 'maxmemory'.": "Redis refusing writes (OOM)",
    "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist "
    "to disk. Commands that may modify the data set are disabled": "Redis refusing writes (MISCONF)",
    "READONLY You can't write against a read only replica.": "Redis refusing writes (READONLY)",
    "NOREPLICAS Not enough good replicas to write.": "Redis refusing writes (NOREPLICAS)",
    "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.":
        "Redis busy (BUSY)",
    "LOADING Redis is loading the dataset in memory": "Redis busy (LOADING)",
}  # fmt: skip


@pytest.mark.parametrize("in_pipeline", [False, True])
@pytest.mark.parametrize("status_code", [True, False])
@pytest.mark.parametrize("text", REFUSING)
def test_a_redis_refusing_writes_is_an_outage_with_a_name_of_its_own(
    text, in_pipeline, status_code
):
    exc = _reply(text, in_pipeline, status_code)
    assert outages.waited_out(exc)
    assert outages._service_down(exc) == REFUSING[text]


def test_redis_refusals_are_matched_by_redis_py_class_where_it_has_one():
    from redis.exceptions import BusyLoadingError, OutOfMemoryError, ReadOnlyError

    assert isinstance(_reply("OOM command not allowed"), OutOfMemoryError)
    assert outages.redis_refusing(OutOfMemoryError("no code in the text")) == "OOM"
    assert outages.redis_refusing(ReadOnlyError("You can't write")) == "READONLY"
    assert outages.redis_refusing(BusyLoadingError("loading")) == "LOADING"


@pytest.mark.parametrize(
    "text",
    [
        "WRONGTYPE Operation against a key holding the wrong kind of value",
        "BUSYKEY Target key name already exists.",  # a code that starts like BUSY
        "ERR unknown command 'FOO'",
        "NOSCRIPT No matching script. Please use EVAL.",
        "ERR Error running script: OOM is no code here",
    ],
)
def test_other_redis_error_replies_are_bugs_not_outages(text):
    for in_pipeline in (False, True):
        exc = _reply(text, in_pipeline)
        assert not outages.waited_out(exc), exc
        assert outages.redis_refusing(exc) is None


async def test_retries_while_redis_refuses_writes_and_says_so(no_sleep, caplog):
    step, calls = _failing(
        3, _reply("OOM command not allowed when used memory > 'maxmemory'.", True)
    )
    with caplog.at_level(logging.WARNING):
        assert await outages.until_reachable("understand (review parking)", step, 1) == 2
    assert len(calls) == 4
    assert "Redis refusing writes (OOM) during understand (review parking) (OutOfMemoryError: " \
        "Command # 1 (EVAL" in caplog.text  # fmt: skip
    assert "retrying in 0.5 s, nothing acknowledged" in caplog.text


def test_the_stop_log_says_redis_refuses_writes():
    assert outages.state_of("Redis refusing writes (OOM)") == "Redis is refusing writes (OOM)"
    assert outages.state_of("Redis busy (LOADING)") == "Redis is busy (LOADING)"
    assert outages.state_of("Kafka unreachable") == "Kafka is unreachable"
