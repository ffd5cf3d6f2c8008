"""The one faust app of the worker. Agents, tables and timers register on it when imported."""

from __future__ import annotations

import faust

from config.stack import StackSettings
from config.streams import StreamSettings
from streams import recovery_order, shutdown
from streams.partitioner import cached_partitioner

settings = StreamSettings()
FAUST_DIR = StackSettings().state_dir / "faust"
FAUST_DIR.mkdir(parents=True, exist_ok=True)  # faust creates only the last level

recovery_order.install()
shutdown.install()  # a stop during a Redis outage ends within a bound

app = faust.App(
    settings.topic_prefix + settings.group_id,
    broker=f"kafka://{settings.broker}",
    store="memory://",  # tables are rebuilt from their changelog topics on start
    topic_partitions=settings.partitions,
    topic_replication_factor=1,
    web_enabled=settings.web_port > 0,
    web_port=settings.web_port or 6066,
    web_host="127.0.0.1",
    autodiscover=False,
    producer_linger=settings.producer_linger_ms / 1000,  # seconds
    producer_max_batch_size=settings.producer_max_batch_bytes,
    producer_partitioner=cached_partitioner,  # the default partitions, hashed once per key
    producer_request_timeout=settings.producer_request_timeout_s,
    stream_buffer_maxsize=settings.batch_size * 4,
    # at-least-once: offsets are committed after processing; handlers dedupe by id
    processing_guarantee="at_least_once",
    # faust's local data folder (table metadata), kept out of the working directory
    datadir=str(FAUST_DIR / "{conf.id}-data"),
)


def load_all() -> faust.App:
    """Import the agent, table and timer modules of this worker's stages (they register on
    ``app`` when imported)."""
    from streams.stages import load_stages

    load_stages(settings.stages)
    return app
