"""Integration fixtures: one real worker per test module, on its own topics."""

from __future__ import annotations

import asyncio

import pytest

from tests.integration.worker_process import WorkerProcess


@pytest.fixture(scope="module")
def worker(kafka_bootstrap: str, redis_url: str, tmp_path_factory, request):
    """A running faust worker with a unique topic prefix; its topics are deleted afterwards.

    A test module may set ``WORKER_ENV`` (a dict) for settings of its own."""
    proc = WorkerProcess(
        kafka_bootstrap, redis_url, tmp_path_factory.mktemp("worker"),
        extra_env=getattr(request.module, "WORKER_ENV", None),
    )  # fmt: skip
    from stack.topic_admin import ensure_topics_sync
    from streams.topics import SPECS

    # create the topics first, exactly as `python -m streams worker` would
    ensure_topics_sync(kafka_bootstrap, [proc.topic(n) for n in SPECS], 4)
    proc.start()
    yield proc
    proc.stop()
    asyncio.run(proc.delete_topics_and_keys())


@pytest.fixture
def make_isolated_worker(kafka_bootstrap: str, redis_url: str, tmp_path):
    """Factory of workers (not started) with topics and Redis keys of their own, all
    removed afterwards: ``await make_isolated_worker(extra_env)``."""
    from stack.topic_admin import ensure_topics
    from streams.topics import SPECS

    made: list[WorkerProcess] = []

    async def make(env: dict[str, str]) -> WorkerProcess:
        proc = WorkerProcess(kafka_bootstrap, redis_url, tmp_path, extra_env=env)
        await ensure_topics(kafka_bootstrap, [proc.topic(n) for n in SPECS], 4)
        made.append(proc)
        return proc

    yield make

    for proc in made:
        proc.stop()
        asyncio.run(proc.delete_topics_and_keys())


@pytest.fixture
def private_redis(tmp_path):
    """A ``redis-server`` of the test's own (:mod:`tests.integration.private_redis`)."""
    from tests.integration.private_redis import PrivateRedis

    server = PrivateRedis(tmp_path)
    server.start()
    yield server
    server.kill()


@pytest.fixture
def make_private_worker(kafka_bootstrap: str, tmp_path):
    """Factory of workers on topics of their own and a given Redis, joining their group at
    once after a restart: ``await make_private_worker(redis_url, extra_env)``; stopped and
    their topics removed afterwards."""
    from stack.topic_admin import ensure_topics
    from streams.topics import SPECS
    from tests.integration.private_redis import FAST_GROUP

    made: list[WorkerProcess] = []

    async def make(redis_url: str, env: dict[str, str] | None = None) -> WorkerProcess:
        proc = WorkerProcess(
            kafka_bootstrap, redis_url, tmp_path, extra_env={**FAST_GROUP, **(env or {})}
        )
        await ensure_topics(kafka_bootstrap, [proc.topic(n) for n in SPECS], 4)
        made.append(proc)
        return proc

    yield make
    for proc in made:
        proc.stop(kill=True)
        asyncio.run(proc.delete_topics_and_keys())
