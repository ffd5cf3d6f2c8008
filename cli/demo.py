"""``hotline demo``: the whole pipeline on real appeals, with a report of what happened."""

from __future__ import annotations

import asyncio
import os
import time
from datetime import datetime
from zoneinfo import ZoneInfo

import typer

from config.intake import IntakeSettings
from config.stack import StackSettings
from samples.replay import CHANNELS

app = typer.Typer()


#: The invented calls for help the demo adds (``samples.derive.emergency_calls``).
EMERGENCY_CALLS = 2


def _counters() -> dict[str, int]:
    """Intake outcome totals per channel, from the worker's Redis counters."""
    import redis

    from streams.app import settings
    from streams.stores import INTAKE_COUNTERS_KEY

    raw = redis.Redis.from_url(settings.redis_url).hgetall(INTAKE_COUNTERS_KEY)
    return {k.decode(): int(v) for k, v in raw.items()}


DOWNSTREAM = ("appeals.classified", "appeals.emergency", "appeals.review", "assignments.all")


def _topic_totals() -> dict[str, int]:
    """Records so far on the topics after intake."""
    from stack.topic_stats import total_records
    from streams.app import settings

    full = {settings.topic(t): t for t in DOWNSTREAM}
    totals = asyncio.run(total_records(settings.broker, list(full)))
    return {full[k]: v for k, v in totals.items()}


def _snapshot() -> dict[str, int]:
    return {**_counters(), **_topic_totals()}


def _wait_until_settled(quiet_s: float, timeout_s: float) -> dict[str, int]:
    """Poll counters and topic totals until nothing changed for ``quiet_s`` seconds."""
    last, changed_at, started = None, time.monotonic(), time.monotonic()
    while time.monotonic() - started < timeout_s:
        now = _snapshot()
        if now != last:
            last, changed_at = now, time.monotonic()
        elif time.monotonic() - changed_at >= quiet_s:
            break
        time.sleep(0.5)
    return last or {}


def _total(counts: dict[str, int], outcome: str) -> int:
    return sum(v for k, v in counts.items() if k.endswith("." + outcome))


def _new_emergency_calls(now: datetime) -> int:
    """How many of the demo's calls for help this stack has not seen yet.

    An earlier demo (the hotline call's ticket number carries the day; the WeChat call's
    message ids are fixed) sent the same ones: sent again they are duplicates, suppressed
    at intake as they should be, and no transfer is expected of them.
    """
    import redis

    from intake import hotline, wechat
    from intake.identity import appeal_id
    from samples.derive import emergency_calls
    from streams.app import settings
    from streams.stores import SEEN_PREFIX

    calls = emergency_calls(now)
    ids = [appeal_id("hotline", hotline.parse(r).ticket_no) for c, r in calls if c == "hotline"]
    messages = [wechat.parse(r) for c, r in calls if c == "wechat"]
    if messages:  # one session: named after its first message
        ids.append(appeal_id("wechat", min(messages, key=lambda m: m.create_time).msg_id))
    with redis.Redis.from_url(settings.redis_url) as client:
        return sum(not client.exists(f"{SEEN_PREFIX}{i}") for i in ids)


@app.command()
def demo(
    limit: int = typer.Option(200, min=1, help="How many real appeals to replay on each channel"),
    rate: float = typer.Option(0.0, min=0.0, help="Records per second (0 = as fast as possible)"),
) -> None:
    """Bring up Kafka and Redis, start the worker, replay real appeals on all three channels, report."""
    from cli.intake import _replay
    from stack import kafka, redis, worker
    from stack.process import StackError

    s = StackSettings()
    # the demo closes WeChat sessions after 5 idle seconds instead of 10 minutes
    env = {"HOTLINE_WECHAT_IDLE_FLUSH_S": os.environ.get("HOTLINE_WECHAT_IDLE_FLUSH_S", "5")}
    try:
        for step in (redis.start, kafka.start):
            typer.echo(step(s))
        typer.echo(worker.start(s, env=env))
    except StackError as exc:  # as `hotline stack up` says it: why, and no traceback
        typer.secho(str(exc), fg=typer.colors.RED, err=True)
        raise typer.Exit(1) from None
    before = _snapshot()
    # one time for both: the hotline call's ticket number carries the day (around midnight
    # two clock readings could name two tickets, and the count would miss the call sent)
    now = datetime.now(ZoneInfo(IntakeSettings().timezone))
    new_calls = _new_emergency_calls(now)
    published = asyncio.run(
        _replay("mailbox,hotline,wechat", limit, 0, rate, True, None, True, now)
    )
    idle = int(env["HOTLINE_WECHAT_IDLE_FLUSH_S"])
    after = _wait_until_settled(quiet_s=max(6.0, idle + 4.0), timeout_s=180)
    delta = {k: after.get(k, 0) - before.get(k, 0) for k in after}
    typer.echo("")
    typer.secho("What happened", bold=True)
    typer.echo(
        f"  published      {published['records']} raw records ({limit} real appeals × 3 channels + malformed samples + {EMERGENCY_CALLS} invented calls for help)"
    )
    for channel in CHANNELS:
        typer.echo(f"    raw.{channel:8} {published.get(_topic(f'raw.{channel}'), 0)}")
    for outcome, label, note in (
        ("normalised", "normalised", "appeals (WeChat messages joined per sender session)"),
        ("published", "new appeals", "on appeals.received"),
        (
            "duplicate",
            "duplicates",
            "suppressed (appeal id seen before: replaying twice yields one appeal)",
        ),
        (
            "resent",
            "resent",
            "WeChat sessions closed before, sent again: skipped",
        ),
        (
            "dead_lettered",
            "dead-lettered",
            "on deadletter, each with an error code and reason",
        ),
    ):
        per_channel = ", ".join(f"{c} {delta.get(f'{c}.{outcome}', 0)}" for c in CHANNELS)
        typer.echo(f"  {label:14} {_total(delta, outcome):5} {note}  [{per_channel}]")
    typer.echo(
        f"  classified     {delta.get('appeals.classified', 0):5} on appeals.classified (category, confidence)"
    )
    typer.echo(
        f"  assigned       {delta.get('assignments.all', 0):5} on assignments.all and each lead department's assign.<code>"
    )
    typer.echo(
        f"  to review      {delta.get('appeals.review', 0):5} on appeals.review (low confidence, or a possible emergency no rule flagged)"
    )
    typer.echo(
        f"  emergencies    {delta.get('appeals.emergency', 0):5} on appeals.emergency (transfer to 110/119/120/122)"
    )
    gaps = _gaps(delta, limit, new_calls)
    if gaps:
        for gap in gaps:
            typer.secho(f"  ! {gap}", fg=typer.colors.YELLOW)
    else:
        typer.echo(
            f"  accounted for  every one of the {3 * limit} replayed appeals and the "
            f"{EMERGENCY_CALLS} calls for help"
        )
        if _total(delta, "published") == 0:
            typer.echo(
                "                 (all replayed before on this stack, so nothing new: "
                "`hotline stack down --wipe` starts afresh)"
            )
    from config.sla import SlaSettings
    from sla.working_time import calendar_runway

    runway = calendar_runway(SlaSettings())  # logged by the worker; the reader may not look
    if runway:
        typer.secho(f"  ! SLA: {runway}", fg=typer.colors.YELLOW)
    typer.echo("")
    typer.secho("Where to look", bold=True)
    typer.echo("  hotline tail appeals.received      normalised, masked appeals")
    typer.echo("  hotline tail deadletter            rejected records with reasons")
    typer.echo("  hotline deadletter summary         them by stage and code (replay once fixed)")
    typer.echo("  hotline tail assignments.all       who leads each case, and the rule that fired")
    typer.echo(
        "  hotline tail appeals.emergency     calls for help for 110/119/120/122, with the reason"
    )
    typer.echo("  hotline review list                waiting for review (review decide assigns)")
    typer.echo("  hotline topics                     every topic and its payload")
    typer.echo(f"  worker log                         {worker.log_file(s)}")
    typer.echo(
        "  hotline stack down [--wipe]        stop worker, Kafka and Redis [delete their data]"
    )
    if gaps:
        raise typer.Exit(1)


def _gaps(delta: dict[str, int], limit: int, new_calls: int = EMERGENCY_CALLS) -> list[str]:
    """What the counts say went missing: each channel yields ``limit`` appeals (normalised,
    or for WeChat a session closed before and sent again), each new appeal is classified,
    then assigned or sent to review, and each of the ``new_calls`` new calls for help is
    transferred."""
    gaps = []
    for channel in CHANNELS:
        seen = delta.get(f"{channel}.normalised", 0) + delta.get(f"{channel}.resent", 0)
        if seen < limit:
            gaps.append(
                f"{channel}: {limit} appeals replayed, {seen} normalised (see the worker log)"
            )
    new, classified = _total(delta, "published"), delta.get("appeals.classified", 0)
    if classified < new:
        gaps.append(f"{new} new appeals but {classified} classified (see the worker log)")
    routed = delta.get("assignments.all", 0) + delta.get("appeals.review", 0)
    if routed < classified:
        gaps.append(f"{classified} classified but {routed} assigned or sent to review")
    transfers = delta.get("appeals.emergency", 0)
    if transfers < new_calls:
        gaps.append(f"{new_calls} new calls for help replayed, {transfers} transferred")
    return gaps


def _topic(name: str) -> str:
    from streams.app import settings

    return settings.topic(name)
