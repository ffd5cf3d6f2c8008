"""The SLA stage through the real broker: assignments and 签收 events applied per second.

``bench/sla_redis.py`` measures the Redis store alone. This one runs a worker with only
the SLA stage (``HOTLINE_WORKER_STAGES=sla``) on a fresh topic prefix and Redis prefix,
and measures two phases on the same cases, each timed from the first record published to
the last one applied:

* ``assignments``: N first-hop assignments carrying real appeal texts (the stage starts
  each case's clocks and keeps its appeal for later hops, ``stores/case_dossiers.py``);
  done when ``N`` cases are due in Redis;
* ``accepts``: one 签收 per case (sign-for clock stops, handling starts); done when the
  last case published on each partition is in its handling phase (a partition's records
  are applied in order).

The baseline, in the same run and on the same records, applies them straight to another
prefix of the same Redis with ``SlaStore.apply_batch`` in batches of the worker's batch
size: the ratio is what the stream (Kafka, faust, JSON, dossiers) costs on top of the
engine and Redis. The worker's CPU per record (from /proc) is the steadier figure on a
shared machine. A warm-up of 500 cases precedes the measured ones.

    .venv/bin/python bench/sla_stream.py --cases 20000 --runs 3
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import orjson  # noqa: E402
from aiokafka import AIOKafkaProducer  # noqa: E402
from process_cpu import tree_cpu_s  # noqa: E402  (bench/ is on sys.path when run as a script)

from config.sla import SlaSettings  # noqa: E402
from config.stack import StackSettings  # noqa: E402
from config.streams import StreamSettings  # noqa: E402
from models.assignment import Assignment  # noqa: E402
from models.case_event import CaseEvent  # noqa: E402
from samples.appeal_rows import read_rows  # noqa: E402
from sla.clocks import HopPhase  # noqa: E402
from sla.redis_store import SlaStore  # noqa: E402
from stack.topic_admin import ensure_topics  # noqa: E402
from streams.agents.sla_clocks import assignment_in  # noqa: E402
from tests.integration.raw_records import assignment_json  # noqa: E402
from tests.integration.worker_process import WorkerProcess, sla_store  # noqa: E402

TZ = ZoneInfo("Asia/Shanghai")
WARM_UP = 500
DEPARTMENTS = [f"a{n}.zjj" for n in range(1, 10)] + ["sjj", "gxj", "hbj", "jtj", "rsj"]


def cases(n: int, tag: str) -> list[tuple[str, bytes, bytes]]:
    """``(appeal_id, assignment JSON, 签收 JSON)`` of ``n`` cases assigned now."""
    rows = list(read_rows())
    now = datetime.now(TZ)
    out = []
    for i in range(n):
        r = rows[i % len(rows)]
        aid, dept = f"SLA-{tag}-{i}", DEPARTMENTS[i % len(DEPARTMENTS)]
        assignment = assignment_json(
            aid, dept, now, title=r.subject, content=r.detail, channel="mailbox",
            received_at=now, category="城乡建设", subcategory="住房保障与房地产",
            contact_ref=f"c:{i:012x}", address="A市A3区某路1号",
        )  # fmt: skip
        accept = CaseEvent(
            event_id=f"{aid}/accept", appeal_id=aid, kind="accept",
            occurred_at=now + timedelta(minutes=1), department=dept,
        ).dumps()  # fmt: skip
        out.append((aid, assignment, accept))
    return out


async def publish(bootstrap: str, topic: str, keyed: list[tuple[str, bytes]]) -> dict[int, str]:
    """Send every record; returns, per partition, the key of the last record it got."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=20, max_batch_size=1 << 20)
    await producer.start()
    try:
        futures = [await producer.send(topic, v, key=k.encode()) for k, v in keyed]
        metas = await asyncio.gather(*futures)
    finally:
        await producer.stop()
    last: dict[int, tuple[int, str]] = {}
    for (key, _), m in zip(keyed, metas, strict=True):
        if m.offset >= last.get(m.partition, (-1, ""))[0]:
            last[m.partition] = (m.offset, key)
    return {p: k for p, (_, k) in last.items()}


async def wait_until(done: Callable, timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while not await done():
        if time.monotonic() > deadline:
            raise RuntimeError("the SLA stage did not finish in time")
        await asyncio.sleep(0.05)


async def direct(
    redis_url: str, batch: int, data: list[tuple[str, bytes, bytes]]
) -> tuple[float, float]:
    """Baseline: the same records straight into ``SlaStore.apply_batch`` (records/s)."""
    store = SlaStore.from_url(
        redis_url, settings=SlaSettings(), prefix=f"bench{uuid.uuid4().hex[:8]}:"
    )
    rates = []
    try:
        for records in (
            [assignment_in(Assignment.loads(a)) for _, a, _ in data],
            [CaseEvent.loads(e) for _, _, e in data],
        ):
            started = time.perf_counter()
            for i in range(0, len(records), batch):
                outcomes = await store.apply_batch(records[i : i + batch])
                assert all(o.applied for o in outcomes), outcomes[0]
            rates.append(len(records) / (time.perf_counter() - started))
    finally:
        await store.wipe()
        await store.aclose()
    return rates[0], rates[1]


async def one_run(n: int, log_dir: Path) -> dict[str, float]:
    s = StackSettings()
    redis_url = f"redis://{s.redis_host}:{s.redis_port}/0"
    worker = WorkerProcess(s.kafka_bootstrap, redis_url, log_dir,
                           extra_env={"HOTLINE_WORKER_STAGES": "sla"})  # fmt: skip
    from streams.topics import SPECS

    tag = uuid.uuid4().hex[:6]
    warm, data = cases(WARM_UP, tag + "w"), cases(n, tag)
    out: dict[str, float] = {}
    out["direct_assignments"], out["direct_accepts"] = await direct(
        redis_url, StreamSettings().batch_size, data
    )
    await ensure_topics(s.kafka_bootstrap, [worker.topic(t) for t in SPECS], 4)
    store = sla_store(worker, redis_url)
    try:
        worker.start()
        assignments, events = worker.topic("assignments.all"), worker.topic("cases.events")
        await publish(s.kafka_bootstrap, assignments, [(a, v) for a, v, _ in warm])
        await wait_until(lambda: _due_at_least(store, WARM_UP))

        cpu0, t0 = tree_cpu_s(worker.proc.pid), time.perf_counter()
        await publish(s.kafka_bootstrap, assignments, [(a, v) for a, v, _ in data])
        await wait_until(lambda: _due_at_least(store, WARM_UP + n))
        cpu1, t1 = tree_cpu_s(worker.proc.pid), time.perf_counter()
        out["assignments"], out["assignment_cpu_ms"] = n / (t1 - t0), (cpu1 - cpu0) * 1000 / n

        last = await publish(s.kafka_bootstrap, events, [(a, e) for a, _, e in data])
        await wait_until(lambda: _handling(store, list(last.values())))
        cpu2, t2 = tree_cpu_s(worker.proc.pid), time.perf_counter()
        out["accepts"], out["accept_cpu_ms"] = n / (t2 - t1), (cpu2 - cpu1) * 1000 / n
    finally:
        worker.stop()
        await store.wipe()
        await store.aclose()
        await worker.delete_topics_and_keys()
    return out


async def _due_at_least(store: SlaStore, n: int) -> bool:
    return await store.r.zcard(store.due_key) >= n


async def _handling(store: SlaStore, ids: list[str]) -> bool:
    states = await store.load_many(ids)
    return len(states) == len(ids) and all(s.phase == HopPhase.HANDLING for s in states.values())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=20000, help="cases per run")
    parser.add_argument("--runs", type=int, default=3, help="runs; medians are reported")
    args = parser.parse_args()
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.runs):
            r = asyncio.run(one_run(args.cases, Path(tmp)))
            runs.append(r)
            print(f"run {i + 1}: " + orjson.dumps({k: round(v, 2) for k, v in r.items()}).decode(),
                  flush=True)  # fmt: skip
    med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
    print(
        f"median over {args.runs} runs of {args.cases} cases, SLA-only worker: "
        f"assignments {med['assignments']:,.0f}/s ({med['assignment_cpu_ms']:.2f} CPU ms each; "
        f"direct apply_batch {med['direct_assignments']:,.0f}/s, ratio "
        f"{med['assignments'] / med['direct_assignments']:.2f}); "
        f"签收 events {med['accepts']:,.0f}/s ({med['accept_cpu_ms']:.2f} CPU ms each; direct "
        f"{med['direct_accepts']:,.0f}/s, ratio {med['accepts'] / med['direct_accepts']:.2f})"
    )


if __name__ == "__main__":
    main()
