"""Classification + routing through the real broker on one worker.

Publishes N real appeals (normalised, as intake would) to ``appeals.received`` of a fresh
topic prefix and measures, from broker timestamps, a worker running only the understand
stage (``HOTLINE_WORKER_STAGES=understand``; intake and SLA scale as their own workers):

* throughput: appeals/s from the first to the last dispatch outcome (assignment or review
  request), and the worker's CPU per appeal (a contention-proof figure on a shared
  machine), for
  - ``batched``: batches of 500, triage in a thread: one process;
  - ``batched+processes``: the same with ``HOTLINE_TRIAGE_PROCESSES`` triage processes;
  - ``naive``: the baseline, in the same run: batch size 1, i.e. per-message jieba and
    per-message predict;
* CPU budget: the worker's, the broker's and this reader's CPU per appeal over the same
  window, how busy the whole machine was, and the ceilings they imply (``print_budget``);
* latency: after a warm-up, at a steady publishing rate (default 500/s), p50/p99 from an
  appeal's record on ``appeals.received`` to its assignment on ``assignments.all``.

    .venv/bin/python bench/dispatch_throughput.py --records 10000 --runs 3
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer  # noqa: E402
from process_cpu import machine_cpu_s, tree_cpu_s, until_quiet  # noqa: E402  (bench/ is on sys.path when run as a script)

from config.intake import IntakeSettings  # noqa: E402
from config.stack import StackSettings  # noqa: E402
from intake import mailbox  # noqa: E402
from models.appeal import RawRef  # noqa: E402
from samples.appeal_rows import AppealRow, read_rows  # noqa: E402
from samples.derive import mailbox_record  # noqa: E402
from stack.kafka import pid_file as kafka_pid_file  # noqa: E402
from stack.process import read_pid  # noqa: E402
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


async def stamps(
    bootstrap: str, topics: list[str], n: int, timeout: float, allow_fewer: bool = False
) -> dict[str, int]:
    """appeal_id → broker timestamp (ms) of its first record over ``topics``.

    Waits for ``n`` keys; with ``allow_fewer`` stops quietly after 3 s without a new one."""
    consumer = AIOKafkaConsumer(
        *topics, bootstrap_servers=bootstrap, auto_offset_reset="earliest", enable_auto_commit=False
    )
    await consumer.start()
    seen: dict[str, int] = {}
    deadline = time.monotonic() + timeout
    quiet_since = time.monotonic()
    try:
        while len(seen) < n and time.monotonic() < deadline:
            got = await consumer.getmany(timeout_ms=1000, max_records=10000)
            for batch in got.values():
                for r in batch:
                    seen.setdefault(r.key.decode(), r.timestamp)
            if got:
                quiet_since = time.monotonic()
            elif allow_fewer and seen and time.monotonic() - quiet_since > 3:
                break
    finally:
        await consumer.stop()
    if len(seen) < n and not allow_fewer:
        raise RuntimeError(f"only {len(seen)}/{n} outcomes after {timeout}s")
    return seen


@asynccontextmanager
async def _fresh_worker(env: dict[str, str], log_dir: Path):
    """A worker on a fresh topic prefix (topics created, not started yet); stopped and its
    topics deleted afterwards."""
    from streams.topics import SPECS

    s = StackSettings()
    worker = WorkerProcess(
        s.kafka_bootstrap, f"redis://{s.redis_host}:{s.redis_port}/0", log_dir, extra_env=env
    )
    await ensure_topics(s.kafka_bootstrap, [worker.topic(t) for t in SPECS], 4)
    try:
        yield worker
    finally:
        worker.stop()
        await worker.delete_topics_and_keys()


@dataclass(frozen=True)
class Run:
    """One throughput run: the rate, and CPU per appeal of each party over the same window."""

    rate: float  # appeals/s, first to last outcome
    worker_ms: float  # the worker and its triage processes
    broker_ms: float  # the project's broker (0 with a compose one: not ours to read)
    client_ms: float  # this benchmark reading the outcomes back
    machine_ms: float  # every busy core of the machine, neighbours included
    busy: float  # share of the machine's cores busy during the run


async def throughput(values, env: dict[str, str], log_dir: Path) -> Run:
    """One worker's rate and CPU per appeal; records are published before it starts."""
    stack = StackSettings()
    broker = read_pid(kafka_pid_file(stack))
    async with _fresh_worker(env, log_dir) as worker:
        outputs = [worker.topic(t) for t in OUTPUTS]
        await produce(stack.kafka_bootstrap, worker.topic("appeals.received"), values)
        worker.start()
        # the pool loads its models after "Ready": count CPU from the first outcome on
        await stamps(stack.kafka_bootstrap, outputs, 1, timeout=120)
        before = _cpu_now(worker.proc.pid, broker)
        out = await stamps(stack.kafka_bootstrap, outputs, len(values), timeout=900)
        after = _cpu_now(worker.proc.pid, broker)
    worker_s, broker_s, client_s, busy_s, all_s = (
        b - a for a, b in zip(before, after, strict=True)
    )
    seconds = (max(out.values()) - min(out.values())) / 1000
    ms = 1000 / len(values)  # CPU seconds over the run -> ms per appeal
    return Run(
        len(values) / seconds, worker_s * ms, broker_s * ms, client_s * ms, busy_s * ms,
        busy=busy_s / all_s,
    )  # fmt: skip


def _cpu_now(worker: int, broker: int | None) -> tuple[float, ...]:
    """CPU seconds so far: worker tree, broker, this process, machine busy, machine all."""
    return (
        tree_cpu_s(worker),
        tree_cpu_s(broker) if broker is not None else 0.0,
        time.process_time(),
        *machine_cpu_s(),
    )


async def latency(values, warm, rate: float, env: dict[str, str], log_dir: Path):
    """p50 and p99 (ms) from appeals.received to assignments.all at a steady rate.

    ``warm`` appeals go through first, so the figures are the steady state (models
    loaded, partitions assigned, metadata known), not the worker's start-up.
    """
    stack = StackSettings()
    bootstrap = stack.kafka_bootstrap
    async with _fresh_worker(env, log_dir) as worker:
        received = worker.topic("appeals.received")
        worker.start()
        await produce(bootstrap, received, warm)
        await stamps(bootstrap, [worker.topic(t) for t in OUTPUTS], len(warm), 120)
        broker = read_pid(kafka_pid_file(stack))
        if broker is not None:  # the project's own broker (not a compose one)
            waited = await until_quiet(broker)
            print(f"  (waited {waited:.1f} s for the broker to go quiet)", flush=True)
        await produce(bootstrap, received, values, rate=rate)
        total = len(warm) + len(values)
        sent = await stamps(bootstrap, [received], total, 60)
        done = await stamps(
            bootstrap, [worker.topic("assignments.all")], total, 300, allow_fewer=True
        )
    steady = {k for k, _ in values}
    lat = sorted(done[k] - sent[k] for k in steady if k in done)  # review cases have no assignment
    return lat[len(lat) // 2], lat[int(len(lat) * 0.99) - 1], len(lat)


def print_budget(results: dict[str, list[Run]]) -> None:
    """Where the machine's CPU went per appeal (medians), and the two rates it allows.

    * ``cores × 1000 / (worker + broker + reader ms)``: the machine's ceiling, once all
      its cores are busy (the worker shares them with the broker and this reader);
    * ``1000 / worker ms`` per core of worker: the one-process ceiling, since its event
      loop and triage thread share one interpreter lock, so at most one core. A machine
      well under 100 % busy with one process says that this, not the machine, is the limit.
    """
    cores = os.cpu_count() or 1
    print(f"CPU budget per appeal on {cores} cores (medians; ours = worker + broker + reader):")
    for name, rs in results.items():
        med = {f: statistics.median(getattr(r, f) for r in rs)
               for f in ("worker_ms", "broker_ms", "client_ms", "machine_ms", "busy")}  # fmt: skip
        ours = med["worker_ms"] + med["broker_ms"] + med["client_ms"]
        print(f"  {name}: worker {med['worker_ms']:.2f} + broker {med['broker_ms']:.2f} + reader "
              f"{med['client_ms']:.2f} = {ours:.2f} ms (whole machine {med['machine_ms']:.2f} ms, "
              f"{med['busy']:.0%} busy): at most {cores * 1000 / ours:,.0f} appeals/s on "
              f"{cores} cores, {1000 / med['worker_ms']:,.0f}/s per core of worker")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=10000, help="appeals per throughput run")
    parser.add_argument(
        "--naive-records", type=int, default=1000, help="appeals for the naive baseline"
    )
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--rate", type=float, default=500.0, help="steady rate for the latency run")
    parser.add_argument("--latency-seconds", type=float, default=20.0)
    parser.add_argument(
        "--stages", default="understand", help="HOTLINE_WORKER_STAGES of the measured worker"
    )
    parser.add_argument(
        "--triage-processes", type=int, default=2,
        help="also measure with this many triage processes (0: skip)",
    )  # fmt: skip
    parser.add_argument(
        "--variant", action="append", default=[], metavar="NAME:KEY=VALUE[,KEY=VALUE]",
        help="also measure the one-process worker with these environment variables, in the "
        "same runs (an A/B on a noisy machine), e.g. asyncio:F_LOOP=aio (repeatable)",
    )  # fmt: skip
    args = parser.parse_args()
    warm = appeals(args.records + 200)[-200:]
    values = appeals(args.records)
    base = {"HOTLINE_WORKER_STAGES": args.stages, "HOTLINE_TRIAGE_PROCESSES": "0"}
    configs = {"batched": {**base, "HOTLINE_BATCH_SIZE": "500"}}
    if args.triage_processes:
        procs = str(args.triage_processes)
        configs["batched+processes"] = {**configs["batched"], "HOTLINE_TRIAGE_PROCESSES": procs}
    for variant in args.variant:
        name, _, pairs = variant.partition(":")
        try:
            extra = dict(pair.split("=", 1) for pair in pairs.split(",") if pair)
        except ValueError:
            parser.error(f"--variant {variant!r}: expected NAME:KEY=VALUE[,KEY=VALUE]")
        configs[f"batched {name}"] = {**configs["batched"], **extra}
    naive_env = {**base, "HOTLINE_BATCH_SIZE": "1"}
    results: dict[str, list[Run]] = {name: [] for name in [*configs, "naive"]}
    print(f"worker stages: {args.stages}; {args.records} appeals per run, naive "
          f"{args.naive_records}", flush=True)  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.runs):
            for name, env in configs.items():
                results[name].append(asyncio.run(throughput(values, env, Path(tmp))))
            results["naive"].append(
                asyncio.run(throughput(values[: args.naive_records], naive_env, Path(tmp)))
            )
            naive = results["naive"][-1].rate
            print(f"run {i + 1}: " + "; ".join(
                f"{name} {r[-1].rate:,.0f} appeals/s ({r[-1].worker_ms:.2f} CPU ms/appeal, "
                f"{r[-1].rate / naive:.1f}x naive)" for name, r in results.items()
            ), flush=True)  # fmt: skip
        steady = values[: int(args.rate * args.latency_seconds)]
        lat = {
            name: asyncio.run(latency(steady, warm, args.rate, env, Path(tmp)))
            for name, env in configs.items()
        }
    naive = statistics.median(r.rate for r in results["naive"])
    for name, rs in results.items():
        rate = statistics.median(r.rate for r in rs)
        cpu = statistics.median(r.worker_ms for r in rs)
        print(f"median of {args.runs} runs, {name}: {rate:,.0f} appeals/s, {cpu:.2f} CPU ms/appeal "
              f"(worker and triage processes), {rate / naive:.1f}x naive")  # fmt: skip
    print_budget(results)
    for name, (p50, p99, n) in lat.items():
        print(f"latency {name} at {args.rate:.0f} appeals/s for {args.latency_seconds:.0f} s "
              f"(after a warm-up; {n} assignments): p50 {p50:.0f} ms, p99 {p99:.0f} ms")  # fmt: skip


if __name__ == "__main__":
    main()
