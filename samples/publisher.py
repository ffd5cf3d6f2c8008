"""Publish raw records to Kafka at a chosen rate, with a progress bar."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable

from aiokafka import AIOKafkaProducer
from tqdm import tqdm


async def publish(
    bootstrap: str,
    records: Iterable[tuple[str, bytes | None, bytes]],
    total: int | None = None,
    rate: float = 0.0,
    progress: bool = True,
    desc: str = "publishing",
) -> int:
    """Send ``(topic, key, value)`` records; ``rate`` is records/s (0 = as fast as possible).

    Waits for every acknowledgement before returning the number of records sent.
    """
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, linger_ms=5, acks="all", max_batch_size=262144
    )
    sent = 0
    started = time.monotonic()
    pending = []
    try:
        await producer.start()  # in the try: a producer that could not start is stopped too
        with tqdm(total=total, desc=desc, unit="rec", disable=not progress) as bar:
            for topic, key, value in records:
                pending.append(await producer.send(topic, value=value, key=key))
                sent += 1
                bar.update(1)
                if rate > 0:
                    ahead = sent / rate - (time.monotonic() - started)
                    if ahead > 0:
                        await asyncio.sleep(ahead)
                if len(pending) >= 5000:
                    await asyncio.gather(*pending)
                    pending.clear()
            await asyncio.gather(*pending)
    finally:
        await producer.stop()
    return sent
