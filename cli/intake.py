"""``hotline worker``, ``replay``, ``tail``, ``topics``, ``schema``: running and watching intake."""

from __future__ import annotations

import asyncio
import base64
import os
import sys
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

    chosen = tuple(c.strip() for c in channels.split(",") if c.strip())
    unknown = set(chosen) - set(CHANNELS)
    if unknown:
        raise typer.BadParameter(
            f"unknown channel(s) {', '.join(sorted(unknown))}; choose from {', '.join(CHANNELS)}"
        )
    rows = list(read_rows(data, limit=offset + limit))[offset:]
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
) -> None:
    """Print records of a topic from the beginning (JSON, Chinese as is; bytes as base64)."""
    asyncio.run(_tail(topic, limit, timeout))


async def _tail(topic: str, limit: int, timeout: float) -> None:
    from aiokafka import AIOKafkaConsumer

    from streams.app import settings

    consumer = AIOKafkaConsumer(
        settings.topic(topic),
        bootstrap_servers=settings.broker,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    shown = 0
    try:
        await consumer.start()  # in the try: a consumer that could not start is stopped too
        while shown < limit:
            batch = await consumer.getmany(
                timeout_ms=int(timeout * 1000), max_records=limit - shown
            )
            if not batch:
                break
            for records in batch.values():
                for rec in records:
                    try:
                        value = orjson.loads(rec.value)
                    except orjson.JSONDecodeError:
                        value = {"bytes_b64": base64.b64encode(rec.value or b"").decode()}
                    typer.echo(orjson.dumps({"key": (rec.key or b"").decode(errors="replace"), "partition": rec.partition,
                                             "offset": rec.offset, "value": value}).decode())  # fmt: skip
                    shown += 1
    finally:
        await consumer.stop()
    if not shown:
        typer.echo(f"no records in {settings.topic(topic)}", err=True)


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
