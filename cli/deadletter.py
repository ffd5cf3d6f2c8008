"""``hotline deadletter …``: what the dead-letter topic holds, and replaying letters whose
cause is fixed (a declared calendar year, a fixed bug, a department added to the catalogue).

A replay sends a letter's original bytes back to the topic it came from; the stage reads
them again as new input. Replaying a letter whose input is itself wrong (``BAD_JSON``,
``MISSING_FIELD``…) only dead-letters it again: fix and republish such records instead.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Coroutine
from dataclasses import asdict
from datetime import datetime, tzinfo
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import typer

app = typer.Typer(
    help="Dead letters: summary by stage and error code; replay once the cause is fixed.",
    no_args_is_help=True,
)


def _zone() -> tzinfo:
    """The centre's local time zone (``HOTLINE_TIMEZONE``, Asia/Shanghai): that of a
    ``--since`` or a letter's ``failed_at`` written without one."""
    from config.intake import IntakeSettings

    return ZoneInfo(IntakeSettings().timezone)


def _context():
    """(settings, dead-letter topic, topics a replay may write to, replayed-ids store)."""
    from streams.app import settings
    from streams.stores import replayed_dead_letters
    from streams.topics import SPECS

    known = {settings.topic(name) for name in SPECS if name != "deadletter"}
    return settings, settings.topic("deadletter"), known, replayed_dead_letters()


def _run(command: Coroutine[Any, Any, None], after: str = "") -> None:
    """Run a command; Kafka or Redis away (or going away) is a one-line error, exit 2, not
    a traceback. ``after``: what the operator should know about work done before it."""
    from cli.service_errors import service_down

    try:
        asyncio.run(command)
    except KeyboardInterrupt:
        typer.secho(f"interrupted{after}", fg=typer.colors.YELLOW, err=True)
        raise typer.Exit(130) from None
    except Exception as exc:
        said = service_down(exc)
        if said is None:
            raise
        typer.secho(f"{said}{after}", fg=typer.colors.RED, err=True)
        raise typer.Exit(2) from None


@app.command()
def summary(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")] = False,
) -> None:
    """Dead letters per stage, error code and source topic, with the latest reason.

    Each group shows how many letters, how many were replayed, and the first and last
    failure. Last line: a JSON summary.
    """
    settings, topic, _, store = _context()
    _run(_summary(settings, topic, store, as_json))


async def _summary(settings, topic: str, store, as_json: bool) -> None:
    from dead_letters import replay
    from dead_letters.selection import summarize

    try:
        # first: a broker away is said before a consumer is left behind by read_letters
        exists = topic in await replay.existing_topics(settings.broker)
        letters, unreadable = await replay.read_letters(settings.broker, topic)
        replayed = await store.replayed((letter.letter_id, letter.stamp) for letter in letters)
    finally:
        await store.client.aclose()
    rows = summarize(letters, replayed, _zone())
    if not as_json:
        if not exists:
            typer.echo(f"no dead letters: {topic} is not on the broker at {settings.broker}")
        elif not rows:
            typer.echo(f"no dead letters on {topic}")
        for r in rows:
            typer.echo(
                f"{r.count:6} {r.stage:15} {r.error_code:28} from {r.source_topic}"
                + (f"  [{r.records} records: some written twice]" if r.records < r.count else "")
                + f"  ({r.replayed} replayed; {r.first_failed_at:%Y-%m-%d %H:%M} .. "
                f"{r.last_failed_at:%Y-%m-%d %H:%M})\n{'':8}latest reason: {r.example_reason[:160]}"
            )
    groups = [
        {**asdict(r), "first_failed_at": r.first_failed_at.isoformat(),
         "last_failed_at": r.last_failed_at.isoformat()}
        for r in rows
    ]  # fmt: skip
    typer.echo(
        json.dumps(
            {"topic": topic, "dead_letters": len(letters), "unreadable": unreadable,
             "groups": groups},
            ensure_ascii=False,
        )
    )  # fmt: skip


def _since(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        dt = datetime.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"not an ISO date-time: {text!r}", param_hint="--since") from None
    return dt if dt.tzinfo else dt.replace(tzinfo=_zone())


@app.command()
def replay(
    code: Annotated[
        list[str] | None,
        typer.Option(
            "--code",
            help="Error code to replay, e.g. SLA_CALENDAR_RANGE, in any case (repeatable).",
        ),
    ] = None,
    stage: Annotated[
        list[str] | None,
        typer.Option("--stage", help="Stage that rejected them: intake, understand, review, sla…"),
    ] = None,
    source: Annotated[
        list[str] | None,
        typer.Option(
            "--source",
            help="Source topic, with or without the prefix, e.g. assignments.all (repeatable).",
        ),
    ] = None,
    since: Annotated[
        str | None,
        typer.Option(help="Only letters that failed at or after this time (ISO; local time)."),
    ] = None,
    limit: Annotated[int | None, typer.Option(min=1, help="Send at most this many.")] = None,
    everything: Annotated[
        bool, typer.Option("--all", help="Replay every letter (no other filter needed).")
    ] = False,
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Also send letters whose record itself is wrong (BAD_JSON, MISSING_FIELD…); "
            "they are only dead-lettered again unless the stage has changed.",
        ),
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would be sent; send nothing.")
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar")] = False,
) -> None:
    """Send matching dead letters' original bytes back to their source topic, once each.

    Letters already replayed are skipped, so a second run sends only new ones; so are
    letters whose topic is not on the broker (a replay creates no topic), WeChat sessions'
    letters (they hold the session, not the raw messages) and letters without bytes (too
    large to keep). Letters go back as their records first came: in source-offset order
    within a source partition, the first to fail first across them; --limit sends the
    oldest. A --code, --stage or --source that no letter on the topic has is refused (exit
    2), naming those the letters have. Last line: a JSON summary.
    """
    if not (code or stage or source or everything):
        raise typer.BadParameter("say which letters: --code, --stage, --source, or --all")
    filters = (code or [], stage or [], source or [], _since(since))
    settings, topic, known, store = _context()
    replaying = _replay(settings, topic, known, store, *filters, limit=limit, force=force,
                        dry_run=dry_run, quiet=quiet)  # fmt: skip
    after = "" if dry_run else "; run the same replay again: letters marked already are not resent"
    _run(replaying, after)


def _filters(settings, letters, codes, stages, sources, since):
    """The filters as the letters spell them: codes in any case, stages too, a source topic
    with or without the prefix (``summary`` prints it with). A value no letter has is a
    typo that would match nothing: :class:`UnknownFilterValue`. On a topic without letters
    nothing is checked: nothing can be sent anyway, and the command says so."""
    from dead_letters.selection import Filters, resolve_filter

    zone = _zone()
    if not letters:
        return Filters(codes, stages, [settings.topic(s) for s in sources], since, zone)
    records = [letter.record for letter in letters]
    return Filters(
        resolve_filter("--code", codes, {r.error_code for r in records}, fold=str.upper),
        resolve_filter("--stage", stages, {r.stage for r in records}, fold=str.lower),
        resolve_filter(
            "--source", sources, {r.source_topic for r in records},
            candidates=lambda s: (settings.topic(s), s),
        ),
        since,
        zone,
    )  # fmt: skip


async def _replay_locked(
    settings, topic, known, store, codes, stages, sources, since, *, limit, force, dry_run, quiet
):
    """Read the letters, choose and send, with the replay lock held."""
    from tqdm import tqdm

    from dead_letters import replay
    from dead_letters.selection import plan_replay

    existing = await replay.existing_topics(settings.broker)  # first: see _summary
    letters, unreadable = await replay.read_letters(settings.broker, topic)
    filters = _filters(settings, letters, codes, stages, sources, since)
    replayed = await store.replayed((letter.letter_id, letter.stamp) for letter in letters)
    plan = plan_replay(letters, filters, known, replayed, limit, force, existing)
    sent = 0
    if not dry_run and letters:  # marks older than the topic's oldest letter mark nothing
        await store.forget_before(min(letter.stamp for letter in letters))
    if plan.resend and not dry_run:
        sent = await replay.send_back(
            settings.broker, plan.resend, store,
            progress=lambda it: tqdm(it, total=len(plan.resend), desc="replaying",
                                     unit="letter", disable=quiet),
        )  # fmt: skip
    return letters, unreadable, existing, plan, sent


async def _replay(
    settings, topic, known, store, codes, stages, sources, since, *, limit, force, dry_run, quiet
) -> None:
    from contextlib import nullcontext

    from dead_letters.selection import UnknownFilterValue
    from stores.replayed_dead_letters import ReplayRunning

    # two replays at once would both find a letter unmarked and both send it
    exclusive = nullcontext() if dry_run else store.exclusive()
    try:
        async with exclusive:
            letters, unreadable, existing, plan, sent = await _replay_locked(
                settings, topic, known, store, codes, stages, sources, since,
                limit=limit, force=force, dry_run=dry_run, quiet=quiet,
            )  # fmt: skip
    except UnknownFilterValue as exc:
        said = f"{exc.option} {', '.join(exc.missing)} (theirs: {', '.join(exc.present)})"
        typer.secho(f"error: no dead letter on {topic} has {said}", fg="red", err=True)
        raise typer.Exit(2) from None
    except ReplayRunning as exc:
        typer.secho(f"error: {exc}", fg="red", err=True)
        raise typer.Exit(2) from None
    finally:
        await store.client.aclose()
    verb = "would send" if dry_run else "sent"
    by_topic: dict[str, int] = {}
    for r in plan.resend:
        by_topic[r.topic] = by_topic.get(r.topic, 0) + 1
    for t, n in sorted(by_topic.items()):
        typer.echo(f"{verb} {n} back to {t}")
    if plan.already_replayed:
        typer.echo(f"skipped {len(plan.already_replayed)} already replayed")
    if plan.repeated:
        typer.echo(
            f"skipped {len(plan.repeated)} written twice for one failure (the worker stopped "
            "before committing and read the record again): its record goes back once"
        )
    skipped = (
        (plan.unknown_topic, "from topics this deployment does not have"),
        (plan.missing_topic, "whose topic is not on the broker (a worker creates its topics "
                             "when it starts; replay them then)"),
        (plan.not_original, "WeChat sessions: their letter holds the session's pieces, not the "
                            "raw messages raw.wechat takes"),
        (plan.input_errors, "whose record itself is wrong (fix and republish them, or --force)"),
        (plan.unreadable, "with unreadable bytes"),
        (plan.no_payload, "without bytes (empty, or too large to keep: their reason says where "
                          "they are)"),
    )  # fmt: skip
    for ids, why in skipped:
        if ids:
            typer.secho(f"skipped {len(ids)} {why}", fg=typer.colors.YELLOW)
    if topic not in existing:
        typer.echo(f"no dead letters: {topic} is not on the broker at {settings.broker}")
    elif not any(plan.as_dict().values()):
        typer.echo(f"no dead letter on {topic} matches")
    typer.echo(
        json.dumps(
            {"topic": topic, "dead_letters": len(letters), "unreadable_records": unreadable,
             **plan.as_dict(), "sent": sent, "dry_run": dry_run},
        )
    )  # fmt: skip
