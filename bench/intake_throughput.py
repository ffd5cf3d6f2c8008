"""Intake throughput through the real broker: appeals/s normalised on one worker process.

Each run publishes N mailbox records (real appeals, unique ids) to a fresh topic prefix,
starts one worker, and measures from the first to the last appeal on appeals.received
using the broker's record timestamps. The baseline, measured in the same run on the same
records, is a bare aiokafka consume→produce copy (no parsing, masking or dedupe): the
ratio says what intake costs on top of moving bytes through Kafka.

    .venv/bin/python bench/intake_throughput.py --records 20000 --runs 3
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
from process_cpu import tree_cpu_s  # noqa: E402  (bench/ is on sys.path when run as a script)

from config.stack import StackSettings  # noqa: E402
from samples.appeal_rows import AppealRow, read_rows  # noqa: E402
from samples.derive import mailbox_record  # noqa: E402
from stack.topic_admin import ensure_topics  # noqa: E402
from tests.integration.worker_process import WorkerProcess  # noqa: E402


def records(n: int) -> list[bytes]:
    rows = list(read_rows())
    now = datetime.now(ZoneInfo("Asia/Shanghai"))
    out = []
    for i in range(n):
        r = rows[i % len(rows)]
        out.append(mailbox_record(AppealRow(f"{r.id}-{i}", r.subject, r.detail, r.time), now))
    return out


async def produce(bootstrap: str, topic: str, values: list[bytes]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=20, max_batch_size=1 << 20)
    await producer.start()
    try:
        futures = [await producer.send(topic, v, key=str(i).encode()) for i, v in enumerate(values)]
        await asyncio.gather(*futures)
    finally:
        await producer.stop()


async def span_of(bootstrap: str, topic: str, n: int, timeout: float) -> float:
    """Seconds between the first and the n-th record's timestamp on ``topic``."""
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", enable_auto_commit=False
    )
    await consumer.start()
    stamps: list[int] = []
    deadline = time.monotonic() + timeout
    try:
        while len(stamps) < n and time.monotonic() < deadline:
            for batch in (await consumer.getmany(timeout_ms=1000, max_records=10000)).values():
                stamps.extend(r.timestamp for r in batch)
    finally:
        await consumer.stop()
    if len(stamps) < n:
        raise RuntimeError(f"only {len(stamps)}/{n} records on {topic} after {timeout}s")
    return (max(stamps) - min(stamps)) / 1000


async def baseline(bootstrap: str, prefix: str, n: int) -> float:
    """Bare consume→produce copy of the same records (records/s)."""
    src, dst = prefix + "raw.mailbox", prefix + "copy"
    await ensure_topics(bootstrap, [dst], 4)
    consumer = AIOKafkaConsumer(
        src, bootstrap_servers=bootstrap, auto_offset_reset="earliest", group_id=prefix + "copy"
    )
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=5)
    await consumer.start()
    await producer.start()
    copied = 0
    try:
        while copied < n:
            for batch in (await consumer.getmany(timeout_ms=1000, max_records=2000)).values():
                for r in batch:
                    await producer.send(dst, r.value, key=r.key)
                    copied += 1
        await producer.flush()
    finally:
        await consumer.stop()
        await producer.stop()
    return n / await span_of(bootstrap, dst, n, 60)


async def one_run(
    n: int, values: list[bytes], log_dir: Path, stages: str
) -> tuple[float, float, float]:
    """(intake appeals/s, baseline records/s, worker CPU ms per appeal)."""
    s = StackSettings()
    env = {"HOTLINE_WORKER_STAGES": stages}
    worker = WorkerProcess(
        s.kafka_bootstrap, f"redis://{s.redis_host}:{s.redis_port}/0", log_dir, extra_env=env
    )
    from streams.topics import SPECS

    await ensure_topics(s.kafka_bootstrap, [worker.topic(t) for t in SPECS], 4)
    await produce(s.kafka_bootstrap, worker.topic("raw.mailbox"), values)
    try:
        base = await baseline(s.kafka_bootstrap, worker.prefix, n)
        worker.start()
        cpu0 = tree_cpu_s(worker.proc.pid)
        span = await span_of(s.kafka_bootstrap, worker.topic("appeals.received"), n, timeout=600)
        cpu = tree_cpu_s(worker.proc.pid) - cpu0
    finally:
        worker.stop()
        await worker.delete_topics_and_keys()
    return n / span, base, cpu * 1000 / n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=20000, help="mailbox records per run")
    parser.add_argument("--runs", type=int, default=3, help="runs; medians are reported")
    parser.add_argument(
        "--stages", default="intake", help="HOTLINE_WORKER_STAGES of the measured worker"
    )
    args = parser.parse_args()
    values = records(args.records)
    intake, base, cpu = [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.runs):
            a, b, c = asyncio.run(one_run(args.records, values, Path(tmp), args.stages))
            intake.append(a)
            base.append(b)
            cpu.append(c)
            print(f"run {i + 1}: intake {a:,.0f} appeals/s ({c:.2f} CPU ms/appeal), baseline copy "
                  f"{b:,.0f} records/s, ratio {a / b:.2f}", flush=True)  # fmt: skip
    mi, mb = statistics.median(intake), statistics.median(base)
    print(f"median over {args.runs} runs of {args.records} records, worker stages {args.stages}: "
          f"intake {mi:,.0f} appeals/s ({statistics.median(cpu):.2f} CPU ms/appeal); "
          f"bare consume→produce {mb:,.0f} records/s; ratio {mi / mb:.2f}")  # fmt: skip


if __name__ == "__main__":
    main()
