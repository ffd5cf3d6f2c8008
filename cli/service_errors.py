"""Kafka or Redis not answering, or a setting that cannot be used, said in one line by every
command (exit 2), as the worker does."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

import typer

from config.env import SettingError


def service_down(exc: BaseException) -> str | None:
    """What to tell an operator when ``exc`` (or its cause) says Kafka or Redis does not
    answer; ``None`` for any other error."""
    from aiokafka.errors import KafkaConnectionError, KafkaTimeoutError
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError

    from config.streams import StreamSettings

    for e in (exc, exc.__cause__):
        if isinstance(e, KafkaConnectionError | KafkaTimeoutError):
            return (
                f"error: Kafka at {StreamSettings().broker} is not reachable "
                "(`hotline stack up` starts the project's own, or set HOTLINE_KAFKA_BOOTSTRAP)"
            )
        if isinstance(e, RedisConnectionError | RedisTimeoutError):
            return (
                f"error: Redis is not reachable ({str(e).rstrip('.')}) (`hotline stack up` "
                "starts the project's own, or set HOTLINE_REDIS_URL)"
            )
    return None


class _NoConnectErrors(logging.Filter):
    """Drops the Kafka client's 'Unable connect to …' lines: the command says it once."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("Unable connect to")


def _guarded(callback: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(callback)
    def run(*args: Any, **kwargs: Any) -> Any:
        kafka_log, quiet = logging.getLogger("aiokafka"), _NoConnectErrors()
        kafka_log.addFilter(quiet)
        try:
            return callback(*args, **kwargs)
        except SettingError as exc:  # a HOTLINE_* value that cannot be used: name it
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from None
        except Exception as exc:
            said = service_down(exc)
            if said is None:
                raise
            typer.echo(said, err=True)
            raise typer.Exit(2) from None
        finally:
            kafka_log.removeFilter(quiet)

    return run


def guard_services(app: typer.Typer) -> None:
    """Make every command of ``app`` (and of its sub-apps) say in one line, and exit 2,
    when Kafka or Redis does not answer, instead of ending in a traceback."""
    for info in app.registered_commands:
        if info.callback is not None:
            info.callback = _guarded(info.callback)
    for group in app.registered_groups:
        guard_services(group.typer_instance)
