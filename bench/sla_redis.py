"""Benchmark of the SLA Redis store: memory per open case, load rate, clock updates, claiming.

Starts its own fresh redis-server on a spare port (never touches the project's Redis),
loads ``--cases`` open cases through the real write path (``SlaStore.apply_batch``: read,
compute in Python, Lua compare-and-set write), then measures

* memory per open case: ``INFO memory`` used_memory after − before, / cases;
* load rate: cases/s through ``apply_batch`` (pipelined batches);
* clock updates/s: 签收 (accept: sign-for clock stops, handling starts), pause and resume
  events on ``--updates`` cases, pipelined;
* finding + claiming ``--due`` simultaneously due thresholds (one per case) among all
  the open cases: ``scan_due`` (Lua claim batches), then the ack;
* recomputing every open case's deadlines on a changed calendar (a local day off inside
  their limits; what a worker does at start after ``hotline sla declare-year``).

Rates are medians of ``--runs`` runs. Usage::

    .venv/bin/python bench/sla_redis.py                 # 1,000,000 cases
    .venv/bin/python bench/sla_redis.py --cases 100000 --updates 30000  # quick run
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import shutil
import socket
import statistics
import subprocess
import sys
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import redis.asyncio as aioredis  # noqa: E402
from tqdm import tqdm  # noqa: E402

from config.sla import SlaSettings  # noqa: E402
from models.case_event import CaseEvent  # noqa: E402
from sla.alerts import scan_due  # noqa: E402
from sla.calendar import Overrides, WorkdayCalendar  # noqa: E402
from sla.events import AssignmentIn, SlaEngine  # noqa: E402
from sla.redis_store import SlaStore  # noqa: E402
from sla.working_time import WorkingHours, WorkingTime  # noqa: E402

TZ = ZoneInfo("Asia/Shanghai")
# Realistic value sizes: codes like the routing catalogue's, masked districts, full
# three-level category paths from label_taxonomy.csv.
DEPARTMENTS = [
    f"{k}{n:02d}"
    for k in ("zjj", "sjj", "gxj", "hbj", "jtj", "jd", "rsj", "wjw")
    for n in range(25)
]
DISTRICTS = [f"A市A{n}区" for n in range(1, 10)] + [f"A市A{n}县" for n in range(10, 16)]
CATEGORIES = [
    "城乡建设/城市建设和市政管理/园林绿化环卫",
    "城乡建设/住房保障与房地产/物业管理",
    "劳动和社会保障/劳动关系/拖欠工资",
    "交通运输/出租车管理/服务质量",
    "教育文体/教育行政管理/招生入学",
    "卫生计生/食品药品监管/食品安全",
    "商贸旅游/市场监管/消费维权",
    "环境保护/环境污染/噪声污染",
]


def appeal_id(prefix: str, i: int) -> str:
    """Ids shaped like intake's: channel code + 16 hex digits."""
    return f"HL-{prefix}{i:0{16 - len(prefix)}x}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def redis_server(port: int):
    """A throw-away redis-server (no persistence) for the benchmark."""
    exe = shutil.which("redis-server") or "/usr/bin/redis-server"
    proc = subprocess.Popen(
        [exe, "--port", str(port), "--save", "", "--appendonly", "no", "--bind", "127.0.0.1"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        yield proc
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def assignments(prefix: str, n: int, start: datetime, spread_s: int) -> list[AssignmentIn]:
    out = []
    for i in range(n):
        out.append(
            AssignmentIn(
                appeal_id=appeal_id(prefix, i),
                assignment_id=f"as-{prefix}-{i}",
                hop=1,
                department=DEPARTMENTS[i % len(DEPARTMENTS)],
                assigned_at=start + timedelta(seconds=(i * 7919) % spread_s),
                district=DISTRICTS[i % len(DISTRICTS)],
                category=CATEGORIES[i % len(CATEGORIES)],
            )
        )
    return out


async def apply_all(
    store: SlaStore, records: list, batch: int, desc: str, concurrency: int = 1
) -> float:
    """Apply records in pipelined batches, ``concurrency`` batches in flight (as a worker
    handling several partitions does: Redis runs one batch's script while Python
    computes the next); returns elapsed seconds."""
    t0 = time.perf_counter()
    bad = 0
    starts = iter(range(0, len(records), batch))
    bar = tqdm(total=-(-len(records) // batch), desc=desc, unit="batch", leave=False)

    async def worker() -> None:
        nonlocal bad
        for i in starts:
            outs = await store.apply_batch(records[i : i + batch])
            bad += sum(not o.applied for o in outs)
            bar.update()

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    bar.close()
    elapsed = time.perf_counter() - t0
    if bad:
        raise SystemExit(f"{desc}: {bad} records not applied")
    return elapsed


async def used_memory(r: aioredis.Redis) -> int:
    return int((await r.info("memory"))["used_memory"])


async def main(args: argparse.Namespace) -> None:
    port = args.port or free_port()
    settings = SlaSettings(scan_batch=args.claim_batch)
    engine = SlaEngine.from_settings(settings)
    # Background cases: assigned from 2026-03-02 11:00 on, so nothing of theirs is due
    # at the claim instant (10:00 that day); spread over 20 working days.
    base = datetime(2026, 3, 2, 11, 0, tzinfo=TZ)
    print(f"command: {' '.join([sys.executable, *sys.argv])}")
    print(f"redis-server on 127.0.0.1:{port}; cases={args.cases:,} runs={args.runs}")
    with redis_server(port):
        client = aioredis.Redis(port=port, decode_responses=False)
        store = SlaStore(client, engine=engine, settings=settings, prefix="sla:")
        info = await client.info("server")
        print(f"redis {info['redis_version']}, python {sys.version.split()[0]}")
        records = assignments("a", args.cases, base, 20 * 86400)
        await client.execute_command("MEMORY", "PURGE")
        mem0 = await used_memory(client)
        load_s = await apply_all(store, records, args.batch, "load", args.concurrency)
        mem1 = await used_memory(client)
        per_case = (mem1 - mem0) / args.cases
        sample = records[len(records) // 2].appeal_id
        hash_bytes = await client.memory_usage(store.case_key(sample))
        due_bytes = await client.memory_usage(store.due_key, samples=0)
        dept_bytes = 0
        for d in DEPARTMENTS:
            for key in store.dept_keys(await store.code_of("d:", d)):
                dept_bytes += await client.memory_usage(key) or 0
        enc = (await client.object("encoding", store.case_key(sample))).decode()
        print(
            f"memory: {per_case:.0f} bytes per open case (used_memory +{(mem1 - mem0) / 1e6:.1f} MB)"
        )
        print(
            f"  MEMORY USAGE: case hash {hash_bytes} B ({enc}), due zset {due_bytes / args.cases:.0f} B/case,"
            f" department indexes {dept_bytes / args.cases:.0f} B/case"
        )
        print(
            f"load: {args.cases / load_s:,.0f} cases/s ({load_s:.1f} s, batches of {args.batch},"
            f" {args.concurrency} in flight)"
        )
        del records

        # clock updates: accept, pause, resume on a slice of the loaded cases
        n_up = min(args.updates, args.cases)
        rates = []
        for run in range(args.runs):
            ids = [appeal_id("a", (run * n_up + i) % args.cases) for i in range(n_up)]
            for kind, hours in (("accept", 30 * 24), ("pause", 31 * 24), ("resume", 32 * 24)):
                when = base + timedelta(hours=hours)
                evs = [
                    CaseEvent(
                        event_id=f"{kind}-{run}-{i}",
                        appeal_id=aid,
                        kind=kind,
                        occurred_at=when,
                        department=DEPARTMENTS[((run * n_up + i) % args.cases) % len(DEPARTMENTS)]
                        if kind == "accept"
                        else None,
                    )
                    for i, aid in enumerate(ids)
                ]
                s = await apply_all(
                    store, evs, args.batch, f"{kind} run {run + 1}", args.concurrency
                )
                rates.append(n_up / s)
        updated = await client.memory_usage(store.case_key(appeal_id("a", 0)))
        print(f"case hash after 4 records (recent-id ring full): {updated} B")
        print(
            f"clock updates: median {statistics.median(rates):,.0f}/s "
            f"(accept/pause/resume × {args.runs} runs of {n_up:,}; min {min(rates):,.0f}, max {max(rates):,.0f})"
        )

        # find + claim: --due cases each with exactly one due threshold (sign-for warn50)
        claim_s, ack_s = [], []
        for run in range(args.runs):
            t0 = datetime(2026, 3, 2, 9, 0, tzinfo=TZ)
            due = assignments(f"d{run}", args.due, t0, 1)  # all at 09:00 → warn50 at 10:00
            await apply_all(store, due, args.batch, f"due run {run + 1}")
            now = int(datetime(2026, 3, 2, 10, 0, tzinfo=TZ).timestamp())
            t = time.perf_counter()
            alerts = await scan_due(store, now)
            claim_s.append(time.perf_counter() - t)
            if len(alerts) != args.due:
                raise SystemExit(f"claimed {len(alerts)} alerts, expected {args.due}")
            t = time.perf_counter()
            ids = [a.alert_id for a in alerts]
            for i in range(0, len(ids), 5000):
                await store.ack(ids[i : i + 5000])
            ack_s.append(time.perf_counter() - t)
        print(
            f"find + claim {args.due:,} due thresholds among {args.cases + args.due:,} open cases: "
            f"median {statistics.median(claim_s) * 1000:.0f} ms (Lua batches of {args.claim_batch}; "
            f"runs {', '.join(f'{x * 1000:.0f}' for x in claim_s)} ms); ack {statistics.median(ack_s) * 1000:.0f} ms"
        )

        # recompute every open case's deadlines on a changed calendar (a local day off
        # announced inside the cases' limits), then back, alternately
        typhoon = Overrides(days={date(2026, 3, 16): False}, notes={date(2026, 3, 16): "bench"})
        changed = SlaEngine(
            WorkingTime(WorkdayCalendar(typhoon, settings.provisional_years),
                        WorkingHours.parse(settings.working_hours), settings.timezone),
            engine.book, engine.fractions,
        )  # fmt: skip
        rec_rates, moved = [], []
        for run in range(args.runs):
            on = changed if run % 2 == 0 else engine
            st = SlaStore(client, engine=on, settings=settings, prefix="sla:")
            t = time.perf_counter()
            report = await st.recompute_deadlines()
            rec_rates.append(report.examined / (time.perf_counter() - t))
            moved.append(report.moved)
        print(
            f"recompute on a changed calendar: median {statistics.median(rec_rates):,.0f} open "
            f"cases/s (runs {', '.join(f'{x:,.0f}' for x in rec_rates)}; moved "
            f"{', '.join(f'{m:,}' for m in moved)} of {report.examined:,})"
        )
        await client.aclose()


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument(
        "--cases", type=int, default=1_000_000, help="open cases to load (default 1,000,000)"
    )
    p.add_argument("--updates", type=int, default=100_000, help="cases per clock-update run")
    p.add_argument("--due", type=int, default=10_000, help="simultaneously due thresholds to claim")
    p.add_argument("--runs", type=int, default=3, help="runs per measured rate (median reported)")
    p.add_argument("--batch", type=int, default=2000, help="records per pipelined batch")
    p.add_argument("--concurrency", type=int, default=2, help="batches in flight at once")
    p.add_argument("--claim-batch", type=int, default=1000, help="cases per Lua claim call")
    p.add_argument(
        "--port", type=int, default=0, help="port for the benchmark redis-server (default: free)"
    )
    args = p.parse_args(argv)
    if min(args.cases, args.updates) * args.runs > args.cases:
        # each run applies its events to cases of its own; a second run on the same cases
        # would find them accepted already ("records not applied")
        p.error(
            f"--updates x --runs ({min(args.cases, args.updates)} x {args.runs}) must not "
            f"exceed --cases ({args.cases}): e.g. --cases 100000 --updates 30000"
        )
    return args


if __name__ == "__main__":
    asyncio.run(main(parse_args()))
