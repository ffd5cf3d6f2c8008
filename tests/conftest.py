"""Shared fixtures: addresses of the real Kafka and Redis come from the project config.

Integration tests skip with a clear reason when the stack is not up, unless
``HOTLINE_REQUIRE_STACK=1`` (set by ``make test`` and CI), where a missing stack fails.
"""

from __future__ import annotations

import os
import socket
import uuid

import pytest

from config.stack import StackSettings


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def _need(host: str, port: int, what: str) -> None:
    if _reachable(host, port):
        return
    msg = f"{what} not reachable on {host}:{port}; run `hotline stack up` (or `make test`)"
    if os.environ.get("HOTLINE_REQUIRE_STACK") == "1":
        pytest.fail(msg)
    pytest.skip(msg)


@pytest.fixture(scope="session")
def stack() -> StackSettings:
    return StackSettings()


@pytest.fixture(scope="session")
def kafka_bootstrap(stack: StackSettings) -> str:
    """Bootstrap address of the project's real Kafka broker."""
    _need(stack.kafka_host, stack.kafka_port, "Kafka")
    return stack.kafka_bootstrap


@pytest.fixture(scope="session")
def redis_url(stack: StackSettings) -> str:
    """URL of the project's real Redis (database 0)."""
    _need(stack.redis_host, stack.redis_port, "Redis")
    return f"redis://{stack.redis_host}:{stack.redis_port}/0"


@pytest.fixture
def unique_prefix() -> str:
    """A unique name prefix for topics or Redis keys, so tests never share state."""
    return f"t{uuid.uuid4().hex[:10]}"
