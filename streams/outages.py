"""Riding out a Redis or Kafka outage without losing records.

An agent whose batch fails on Redis, or on a broker that stays unreachable longer than
the producer's own retries (``HOTLINE_PRODUCER_REQUEST_TIMEOUT_S``), would crash, and
faust moves past the events it was handling: they would be lost. Instead the batch waits
here and is tried again until the service answers; meanwhile its offsets stay
unacknowledged, so a worker stopped during the outage leaves the batch to its successor.
Every batch step is idempotent (appeal ids, event ids, record positions, WeChat message
ids), so a retried step repeats nothing a consumer cannot recognise: records sent again
carry the ids they had the first time. An SLA case that kept changing under concurrent
writers past the store's own retries (``ConcurrencyError``) is waited out the same way.

So is a Redis that answers but refuses what it is asked until its operator mends it: full
(``OOM``, past ``maxmemory``), failing its snapshots (``MISCONF``), a replica (``READONLY``),
short of replicas (``NOREPLICAS``), running a script past its time limit (``BUSY``) or
loading its data (``LOADING``). Raised, these crashed the agent, and faust acknowledged
the batch and what was buffered meanwhile: appeals lost with their offsets committed.

A worker told to stop while steps wait here does not wait for the service:
``streams/shutdown.py`` leaves their records unacknowledged (the next worker does them
again) and calls :func:`stop_retrying`; a waiting step then parks until the worker cancels
it, instead of trying again.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable
from typing import TypeVar

from aiokafka.errors import KafkaError, KafkaTimeoutError, UnknownTopicOrPartitionError
from faust.exceptions import ProducerSendError
from redis.exceptions import BusyLoadingError, OutOfMemoryError, ReadOnlyError, RedisError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

log = logging.getLogger(__name__)
T = TypeVar("T")

#: Redis unreachable (refused, reset, timed out); other Redis errors are bugs, not outages,
#: except the states below (:func:`redis_refusing`).
REDIS_DOWN = (RedisConnectionError, RedisTimeoutError)

#: Error replies of a Redis that refuses commands for now, until its operator mends it,
#: and what the log calls that state. redis-py has classes for three of them.
_REFUSING = {
    "OOM": "Redis refusing writes",  # used memory past maxmemory (noeviction)
    "MISCONF": "Redis refusing writes",  # its RDB snapshots (or AOF writes) fail
    "READONLY": "Redis refusing writes",  # a replica
    "NOREPLICAS": "Redis refusing writes",  # fewer replicas than min-replicas-to-write
    "BUSY": "Redis busy",  # a script or function running past its time limit
    "LOADING": "Redis busy",  # loading its data set after a start
}
_REFUSING_CLASSES = ((OutOfMemoryError, "OOM"), (ReadOnlyError, "READONLY"),
                     (BusyLoadingError, "LOADING"))  # fmt: skip
#: How redis-py prefixes the error of a command in a pipeline.
_IN_PIPELINE = re.compile(r"Command # \d+ \(.*?\) of pipeline caused error: ", re.DOTALL)


def redis_refusing(exc: BaseException) -> str | None:
    """The code of a Redis error reply saying Redis refuses commands for now (``"OOM"``,
    ``"MISCONF"``, ...; see ``_REFUSING``), or None.

    By redis-py's class where it has one, else by the reply's code: the error's
    ``status_code``, or the first word of its message (after the pipeline's prefix,
    which redis-py puts before the reply of a command in a pipeline)."""
    if not isinstance(exc, RedisError):
        return None
    for cls, code in _REFUSING_CLASSES:
        if isinstance(exc, cls):
            return code
    code = getattr(exc, "status_code", None)
    if code is None and exc.args and isinstance(exc.args[0], str):
        words = _IN_PIPELINE.sub("", exc.args[0], count=1).split(maxsplit=1)
        code = words[0] if words else None
    return code if code in _REFUSING else None


def kafka_down(exc: BaseException) -> bool:
    """A broker error that a later attempt can get past: unreachable node, no leader,
    timed-out request or delivery (aiokafka marks these retriable; its delivery timeout
    is not marked, but is the same outage seen from the producer). faust's ``Topic.send``
    wraps the producer's error in ``ProducerSendError``: the cause decides."""
    if isinstance(exc, ProducerSendError) and exc.__cause__ is not None:
        exc = exc.__cause__
    return isinstance(exc, KafkaTimeoutError) or (
        isinstance(exc, KafkaError) and bool(exc.retriable)
    )


def _service_down(exc: BaseException) -> str | None:
    """What the operator should read in the log: which service, and how it fails."""
    from sla.redis_store import ConcurrencyError

    refusing = redis_refusing(exc)
    if refusing is not None:  # before REDIS_DOWN: redis-py's LOADING is a ConnectionError
        return f"{_REFUSING[refusing]} ({refusing})"
    if isinstance(exc, REDIS_DOWN):
        return "Redis unreachable"
    if isinstance(exc, ConcurrencyError):
        # writers on the same SLA case outran the store's retries (a rebalance, a replay
        # beside the live stream): a later attempt reads the settled case and goes on
        return "SLA cases busy"
    if kafka_down(exc):
        cause = exc.__cause__ if isinstance(exc, ProducerSendError) else exc
        if isinstance(cause, UnknownTopicOrPartitionError):
            # the producer says this both when the broker is away (no metadata) and when the
            # topic was deleted, which never comes back by itself: name both
            return "Kafka unreachable or topic missing"
        return "Kafka unreachable"
    return None


def waited_out(exc: BaseException) -> bool:
    """Whether :func:`until_reachable` waits ``exc`` out (an outage) rather than raising
    it: a handler that dead-letters its record on a bug re-raises these instead."""
    return _service_down(exc) is not None


#: How the log says a service's state when the worker stops during its outage.
_STATE = {
    "Redis unreachable": "Redis is unreachable",
    "SLA cases busy": "SLA cases are busy",
    "Kafka unreachable": "Kafka is unreachable",
    "Kafka unreachable or topic missing": "Kafka is unreachable (or a topic missing)",
}


def state_of(service: str) -> str:
    """``"Redis unreachable"`` → ``"Redis is unreachable"``, ``"Redis refusing writes
    (OOM)"`` → ``"Redis is refusing writes (OOM)"`` (for "stopping while ...")."""
    if service in _STATE:
        return _STATE[service]
    if service.startswith("Redis "):
        return "Redis is " + service.removeprefix("Redis ")
    return service


#: Steps waiting for a service right now: a token per call → (what, service).
_waiting: dict[object, tuple[str, str]] = {}
_stop_requested = False


def waiting_steps() -> list[tuple[str, str]]:
    """``(what, service)`` of every step now waiting for a service that is down."""
    return list(_waiting.values())


def stop_retrying() -> None:
    """The worker is stopping: a step that finds its service down waits no more for it
    (it parks until cancelled; its records are left to the next worker)."""
    global _stop_requested
    _stop_requested = True


async def until_reachable(
    what: str, step: Callable[..., Awaitable[T]], *args: object, longest_wait: float = 10.0
) -> T:
    """Run ``step(*args)``; while Redis or the broker is unreachable (or Redis refuses
    commands, an SLA case is busy), log and run it again after a growing wait (0.5 s
    doubling up to ``longest_wait``).

    Once the worker is stopping (:func:`stop_retrying`), a step that fails on an outage is
    not run again: it waits until the worker cancels it, with nothing acknowledged."""
    wait, token = 0.5, object()
    try:
        while True:
            try:
                return await step(*args)
            except Exception as exc:
                service = _service_down(exc)
                if service is None:
                    raise
                _waiting[token] = (what, service)
                name, text = type(exc).__name__, str(exc)
                cause = text if text.startswith(name) else f"{name}: {text}"  # aiokafka's say it
                if _stop_requested:
                    log.info("%s during %s (%s); not retried, the worker is stopping",
                             service, what, cause)  # fmt: skip
                    await asyncio.get_running_loop().create_future()  # until cancelled
                log.warning(
                    "%s during %s (%s); retrying in %.1f s, nothing acknowledged",
                    service, what, cause, wait,
                )  # fmt: skip
                await asyncio.sleep(wait)
                wait = min(wait * 2, longest_wait)
    finally:
        _waiting.pop(token, None)


async def all_delivered(acks: list[Awaitable]) -> None:
    """Wait for every acknowledgement; then raise the first failure, if any.

    Unlike a bare ``gather``, no acknowledgement is left pending or unretrieved when one
    fails, so a retry starts from a settled state."""
    if not acks:
        return
    for result in await asyncio.gather(*acks, return_exceptions=True):
        if isinstance(result, BaseException):
            raise result
