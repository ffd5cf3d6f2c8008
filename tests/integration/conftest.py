"""Integration fixtures: one real worker per test module, on its own topics."""

from __future__ import annotations

import asyncio

import pytest

from tests.integration.worker_process import WorkerProcess


@pytest.fixture(scope="module")
def worker(kafka_bootstrap: str, redis_url: str, tmp_path_factory):
    """A running faust worker with a unique topic prefix; its topics are deleted afterwards."""
    proc = WorkerProcess(kafka_bootstrap, redis_url, tmp_path_factory.mktemp("worker"))
    from stack.topic_admin import ensure_topics_sync
    from streams.topics import SPECS

    # create the topics first, exactly as `python -m streams worker` would
    ensure_topics_sync(kafka_bootstrap, [proc.topic(n) for n in SPECS], 4)
    proc.start()
    yield proc
    proc.stop()
    asyncio.run(proc.delete_topics())
