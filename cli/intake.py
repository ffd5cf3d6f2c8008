"""``hotline worker``, ``replay``, ``tail``, ``topics``, ``schema``: running and watching intake."""

from __future__ import annotations

import asyncio
import base64
import os
import sys
import time
from datetime import datetime
from pathlib import Path

import orjson
import typer

from config.stack import PROJECT_ROOT

app = typer.Typer()
SCHEMA_FILE = PROJECT_ROOT / "docs" / "asyncapi.json"


@app.command()
def worker(
    loglevel: str = typer.Option("info", "--loglevel", "-l", help="crit/error/warn/info/debug"),
    stages: str = typer.Option(
        None,
        help="Comma-separated stages to run: intake, understand, sla "
        "(default: $HOTLINE_WORKER_STAGES, i.e. all; a subset gets its own consumer group)",
    ),
    triage_processes: int = typer.Option(
        None,
        min=0,
        help="Processes for classification and routing (default: "
        "$HOTLINE_TRIAGE_PROCESSES, 0 = a thread of the worker)",
    ),  # fmt: skip
) -> None:
    """Run the faust worker in the foreground (the agents, tables and timers of its stages)."""
    if stages is not None:
        os.environ["HOTLINE_WORKER_STAGES"] = stages
    if triage_processes is not None:
        os.environ["HOTLINE_TRIAGE_PROCESSES"] = str(triage_processes)
    from config.streams import StreamSettings

    try:
        StreamSettings()  # a bad stage list fails here, with the reason, not in faust
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    os.execv(sys.executable, [sys.executable, "-m", "streams", "worker", "-l", loglevel])


@app.command()
def replay(
    channels: str = typer.Option(
        "mailbox,hotline,wechat", help="Comma-separated: mailbox, hotline, wechat"
    ),
    limit: int = typer.Option(200, min=1, help="How many real appeals to replay"),
    offset: int = typer.Option(0, min=0, help="Skip this many rows first"),
    rate: float = typer.Option(0.0, min=0.0, help="Records per second (0 = as fast as possible)"),
    bad: bool = typer.Option(False, help="Also publish a few malformed records (dead-letter demo)"),
    data: Path = typer.Option(
        None, help="CSV with subject/detail/time columns (default: shared appeals_labelled.csv)"
    ),
    emergencies: bool = typer.Option(
        False, help="Also publish two invented calls for help (hotline, WeChat): transfer demo"
    ),
) -> None:
    """Publish real appeals from the shared data as raw channel records."""
    counts = asyncio.run(_replay(channels, limit, offset, rate, bad, data, emergencies))
    typer.echo(orjson.dumps(counts).decode())


async def _replay(
    channels: str,
    limit: int,
    offset: int,
    rate: float,
    bad: bool,
    data: Path | None,
    emergencies: bool = False,
    now: datetime | None = None,
) -> dict[str, int]:
    from samples.appeal_rows import read_rows
    from samples.publisher import publish
    from samples.replay import BAD_SAMPLES, CHANNELS, emergency_records, records_for
    from streams.app import settings
    from understand.dataset import DatasetError

    chosen = tuple(c.strip() for c in channels.split(",") if c.strip())
    unknown = set(chosen) - set(CHANNELS)
    if unknown:
        raise typer.BadParameter(
            f"unknown channel(s) {', '.join(sorted(unknown))}; choose from {', '.join(CHANNELS)}"
        )
    try:
        rows = list(read_rows(data, limit=offset + limit))[offset:]
    except DatasetError as exc:
        raise typer.BadParameter(str(exc), param_hint="--data") from None
    topic_of = {c: settings.topic(f"raw.{c}") for c in CHANNELS}
    records = list(records_for(rows, chosen, topic_of))
    if bad:
        records += [(topic_of[c], None, payload) for c, payload in BAD_SAMPLES if c in chosen]
    if emergencies:
        records += emergency_records(chosen, topic_of, now)
    per_topic: dict[str, int] = {}
    for topic, _, _ in records:
        per_topic[topic] = per_topic.get(topic, 0) + 1
    await publish(settings.broker, records, total=len(records), rate=rate, desc="replaying")
    return {"appeals": len(rows), "records": len(records), **per_topic}


@app.command()
def tail(
    topic: str = typer.Argument(..., help="Topic name without prefix, e.g. appeals.received"),
    limit: int = typer.Option(10, min=1, help="Print at most this many records"),
    timeout: float = typer.Option(5.0, help="Stop after this many seconds without a record"),
    last: bool = typer.Option(
        False, "--last", help="The newest LIMIT records (by timestamp) instead of the oldest"
    ),
) -> None:
    """Print records of a topic from the beginning, or its newest with ``--last`` (JSON,
    Chinese as is; UTF-8 that is not JSON, such as WeChat XML, as text; other bytes as
    base64)."""
    asyncio.run(_tail(topic, limit, timeout, last))


def _shown(rec) -> str:
    """One record as a JSON line."""
    raw = rec.value or b""
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        try:
            value = {"text": raw.decode("utf-8")}
        except UnicodeDecodeError:
            value = {"bytes_b64": base64.b64encode(raw).decode()}
    key = (rec.key or b"").decode(errors="replace")
    return orjson.dumps(
        {"key": key, "partition": rec.partition, "offset": rec.offset, "value": value}
    ).decode()


async def _tail(topic: str, limit: int, timeout: float, last: bool) -> None:
    from aiokafka import AIOKafkaConsumer

    from stack.topic_stats import partitions_of
    from streams.app import settings

    name = settings.topic(topic)
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.broker, enable_auto_commit=False)
    shown: list = []
    try:
        await consumer.start()  # in the try: a consumer that could not start is stopped too
        partitions = await partitions_of(consumer, [name])
        if not partitions:
            typer.echo(
                f"no topic {name} on {settings.broker} (`hotline topics` lists them)", err=True
            )
            raise typer.Exit(2)
        consumer.assign(partitions)
        if last:
            # each partition's last LIMIT records hold the topic's newest LIMIT
            ends = await consumer.end_offsets(partitions)
            starts = await consumer.beginning_offsets(partitions)
            for tp in partitions:
                consumer.seek(tp, max(starts[tp], ends[tp] - limit))
            behind = {tp for tp in partitions if ends[tp] > starts[tp]}
            quiet_since = time.monotonic()
            while behind and time.monotonic() - quiet_since < timeout:
                # short polls: a slow first fetch is waited for up to TIMEOUT, not given up
                batch = await consumer.getmany(*behind, timeout_ms=500)
                if batch:
                    quiet_since = time.monotonic()
                for tp, records in batch.items():
                    shown += [r for r in records if r.offset < ends[tp]]
                behind = {tp for tp in behind if await consumer.position(tp) < ends[tp]}
            shown = sorted(shown, key=lambda r: (r.timestamp, r.partition, r.offset))[-limit:]
        else:
            await consumer.seek_to_beginning(*partitions)
            while len(shown) < limit:
                batch = await consumer.getmany(
                    timeout_ms=int(timeout * 1000), max_records=limit - len(shown)
                )
                if not batch:
                    break
                for records in batch.values():
                    shown += records
            shown = shown[:limit]
    finally:
        await consumer.stop()
    for rec in shown:
        typer.echo(_shown(rec))
    if not shown:
        typer.echo(f"no records in {name}", err=True)


@app.command()
def topics() -> None:
    """List every topic: name, key, payload record and whether it carries personal data."""
    from streams.app import settings
    from streams.topics import SPECS

    for name, spec in SPECS.items():
        flag = " [restricted]" if spec.restricted else ""
        typer.echo(
            f"{settings.topic(name):28} key={spec.key:35} {spec.payload.__name__:16}{flag}  {spec.description}"
        )


@app.command()
def schema(
    check: bool = typer.Option(
        False, help="Exit 1 if docs/asyncapi.json is stale instead of writing it"
    ),
) -> None:
    """Write (or check) the AsyncAPI 3 description of every topic and payload."""
    from streams.asyncapi import render

    fresh = render()
    if check:
        if not SCHEMA_FILE.exists() or SCHEMA_FILE.read_bytes() != fresh:
            typer.secho(
                f"{SCHEMA_FILE} is stale: run `hotline schema`", fg=typer.colors.RED, err=True
            )
            raise typer.Exit(1)
        typer.echo(f"{SCHEMA_FILE} is up to date")
        return
    SCHEMA_FILE.parent.mkdir(parents=True, exist_ok=True)
    SCHEMA_FILE.write_bytes(fresh)
    typer.echo(f"wrote {SCHEMA_FILE}")
