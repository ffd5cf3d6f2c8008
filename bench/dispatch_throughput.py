"""Classification + routing through the real broker on one worker process.

Publishes N real appeals (normalised, as intake would) to ``appeals.received`` of a fresh
topic prefix and measures, from broker timestamps:

* throughput: appeals/s from the first to the last dispatch outcome (assignment or review
  request), with the worker's batches (``HOTLINE_BATCH_SIZE``, default 500) and with a naive
  baseline in the same run: batch size 1, i.e. per-message jieba + per-message predict;
* latency: at a steady publishing rate (default 500/s), p50/p99 from an appeal's record on
  ``appeals.received`` to its assignment on ``assignments.all``.

    .venv/bin/python bench/dispatch_throughput.py --records 10000 --runs 3
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer  # noqa: E402
from tqdm import tqdm  # noqa: E402

from config.intake import IntakeSettings  # noqa: E402
from config.stack import StackSettings  # noqa: E402
from intake import mailbox  # noqa: E402
from models.appeal import RawRef  # noqa: E402
from samples.appeal_rows import AppealRow, read_rows  # noqa: E402
from samples.derive import mailbox_record  # noqa: E402
from stack.topic_admin import ensure_topics  # noqa: E402
from tests.integration.worker_process import WorkerProcess  # noqa: E402

OUTPUTS = ("assignments.all", "appeals.review")


def appeals(n: int) -> list[tuple[str, bytes]]:
    """N normalised appeals from the real rows (unique ids), as (appeal_id, JSON)."""
    rows = list(read_rows())
    settings = IntakeSettings()
    now = datetime.now(ZoneInfo("Asia/Shanghai"))
    out = []
    for i in range(n):
        r = rows[i % len(rows)]
        raw = mailbox_record(AppealRow(f"{r.id}-{i}", r.subject, r.detail, r.time), now)
        a = mailbox.normalise(mailbox.parse(raw), RawRef("bench", 0, i), now, settings).appeal
        out.append((a.appeal_id, a.dumps()))
    return out


async def produce(
    bootstrap: str, topic: str, values: list[tuple[str, bytes]], rate: float = 0.0
) -> None:
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, linger_ms=5 if rate else 20, max_batch_size=1 << 20
    )
    await producer.start()
    started = time.monotonic()
    try:
        futures = []
        for i, (key, value) in enumerate(values):
            futures.append(await producer.send(topic, value, key=key.encode()))
            if rate:
                ahead = (i + 1) / rate - (time.monotonic() - started)
                if ahead > 0:
                    await asyncio.sleep(ahead)
        await asyncio.gather(*futures)
    finally:
        await producer.stop()


async def stamps(bootstrap: str, topics: list[str], n: int, timeout: float) -> dict[str, int]:
    """appeal_id → broker timestamp (ms) of its first record over ``topics``."""
    consumer = AIOKafkaConsumer(
        *topics, bootstrap_servers=bootstrap, auto_offset_reset="earliest", enable_auto_commit=False
    )
    await consumer.start()
    seen: dict[str, int] = {}
    deadline = time.monotonic() + timeout
    try:
        while len(seen) < n and time.monotonic() < deadline:
            for batch in (await consumer.getmany(timeout_ms=1000, max_records=10000)).values():
                for r in batch:
                    seen.setdefault(r.key.decode(), r.timestamp)
    finally:
        await consumer.stop()
    if len(seen) < n:
        raise RuntimeError(f"only {len(seen)}/{n} outcomes after {timeout}s")
    return seen


async def throughput(values, batch_size: int, log_dir: Path) -> float:
    """Appeals/s dispatched by one worker with the given batch size (records published first)."""
    s = StackSettings()
    worker = WorkerProcess(s.kafka_bootstrap, f"redis://{s.redis_host}:{s.redis_port}/0", log_dir,
                           extra_env={"HOTLINE_BATCH_SIZE": str(batch_size)})  # fmt: skip
    from streams.topics import SPECS

    await ensure_topics(s.kafka_bootstrap, [worker.topic(t) for t in SPECS], 4)
    await produce(s.kafka_bootstrap, worker.topic("appeals.received"), values)
    try:
        worker.start()
        out = await stamps(
            s.kafka_bootstrap, [worker.topic(t) for t in OUTPUTS], len(values), timeout=900
        )
    finally:
        worker.stop()
        await worker.delete_topics()
    return len(values) / ((max(out.values()) - min(out.values())) / 1000)


async def latency(values, rate: float, log_dir: Path) -> tuple[float, float]:
    """p50 and p99 (ms) from appeals.received to assignments.all at a steady rate."""
    s = StackSettings()
    worker = WorkerProcess(s.kafka_bootstrap, f"redis://{s.redis_host}:{s.redis_port}/0", log_dir)
    from streams.topics import SPECS

    await ensure_topics(s.kafka_bootstrap, [worker.topic(t) for t in SPECS], 4)
    try:
        worker.start()
        await produce(s.kafka_bootstrap, worker.topic("appeals.received"), values, rate=rate)
        sent = await stamps(s.kafka_bootstrap, [worker.topic("appeals.received")], len(values), 60)
        done = await stamps(s.kafka_bootstrap, [worker.topic(t) for t in OUTPUTS], len(values), 300)
    finally:
        worker.stop()
        await worker.delete_topics()
    lat = sorted(done[k] - sent[k] for k in sent)
    return lat[len(lat) // 2], lat[int(len(lat) * 0.99) - 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=10000, help="appeals per throughput run")
    parser.add_argument(
        "--naive-records", type=int, default=1000, help="appeals for the naive baseline"
    )
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--rate", type=float, default=500.0, help="steady rate for the latency run")
    parser.add_argument("--latency-seconds", type=float, default=20.0)
    args = parser.parse_args()
    values = appeals(args.records)
    batched, naive = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for i in tqdm(range(args.runs), desc="runs", disable=True):
            b = asyncio.run(throughput(values, 500, Path(tmp)))
            n = asyncio.run(throughput(values[: args.naive_records], 1, Path(tmp)))
            batched.append(b)
            naive.append(n)
            print(
                f"run {i + 1}: batched {b:,.0f} appeals/s, naive (batch 1) {n:,.0f} appeals/s, ratio {b / n:.1f}",
                flush=True,
            )
        steady = values[: int(args.rate * args.latency_seconds)]
        p50, p99 = asyncio.run(latency(steady, args.rate, Path(tmp)))
    mb, mn = statistics.median(batched), statistics.median(naive)
    print(f"median of {args.runs} runs: batched {mb:,.0f} appeals/s on one worker; naive per-message "
          f"{mn:,.0f} appeals/s; ratio {mb / mn:.1f}")  # fmt: skip
    print(
        f"latency at {args.rate:.0f} appeals/s for {args.latency_seconds:.0f} s: p50 {p50:.0f} ms, p99 {p99:.0f} ms"
    )


if __name__ == "__main__":
    main()
