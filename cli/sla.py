"""``hotline sla …``: working-day calendar questions and SLA monitoring for operators.

Times given without a time zone are read as local time of the SLA calendar
(``$HOTLINE_SLA_TIMEZONE``, Asia/Shanghai), as operators type them.
"""

from __future__ import annotations

import asyncio
import json
import math
import time as _time
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

from config.sla import DEFAULTS
from sla.calendar import CalendarRangeError
from sla.working_time import WorkingTime, calendar_runway, working_time_for

app = typer.Typer(
    help="SLA time limits (时限): working-day calendar, deadlines, overdue and near-due cases.",
    no_args_is_help=True,
)

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]
RedisOption = Annotated[
    str | None,
    typer.Option("--redis-url", help="Redis URL (default: the worker's, $HOTLINE_REDIS_URL)."),
]
PrefixOption = Annotated[
    str | None,
    typer.Option(
        "--prefix",
        help="Redis key prefix of the SLA clocks (default: the worker's, "
        "$HOTLINE_TOPIC_PREFIX then $HOTLINE_SLA_REDIS_PREFIX).",
    ),
]
NowOption = Annotated[
    str | None,
    typer.Option(
        "--now", help="Evaluate at this time instead of now (ISO, e.g. 2026-02-24T10:00)."
    ),
]


def _wt() -> WorkingTime:
    try:
        return working_time_for(DEFAULTS)
    except (ValueError, OSError) as e:
        _settings_problem(e)


def _settings_problem(exc: Exception) -> NoReturn:
    """A setting or a file it names that cannot be used: one line, not a traceback."""
    _fail(
        f"SLA settings: {exc} (see `hotline config`: HOTLINE_SLA_WORKING_HOURS, "
        "HOTLINE_SLA_POLICY_FILE, HOTLINE_SLA_CALENDAR_OVERRIDES)"
    )


def _parse_dt(text: str, wt: WorkingTime) -> datetime:
    try:
        dt = datetime.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"not an ISO date-time: {text!r}") from None
    # the years a Unix time of the worker's clocks can hold, with a day to spare either side
    if not 1970 <= dt.year <= 9998:
        raise typer.BadParameter(f"not a date from 1970 to 9998: {text!r}")
    return dt if dt.tzinfo else dt.replace(tzinfo=wt.tz)


def _hours(seconds: int) -> str:
    sign = "-" if seconds < 0 else ""
    s = abs(seconds)
    return f"{sign}{s // 3600}:{s % 3600 // 60:02d}" + (f":{s % 60:02d}" if s % 60 else "")


def _fail(msg: str) -> NoReturn:
    typer.echo(msg, err=True)
    raise typer.Exit(2)


def _out_of_calendar(exc: CalendarRangeError) -> NoReturn:
    """A time outside the working-day calendar: say so, and what to do."""
    msg = str(exc)
    if "declare" not in msg:
        msg += (
            "; declare the year from the State Council's holiday notice "
            "(`hotline sla declare-year NOTICE.txt`) or upgrade chinese-calendar"
        )
    _fail(msg)


def _echo_json(data: Any) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2))


@app.command("deadline")
def deadline(
    start: Annotated[str, typer.Argument(help="Start instant, ISO (e.g. 2025-01-27T16:00).")],
    days: Annotated[float | None, typer.Option("--days", help="Working days to add.")] = None,
    hours: Annotated[float | None, typer.Option("--hours", help="Working hours to add.")] = None,
    wall: Annotated[
        bool, typer.Option("--wall", help="Count wall-clock time instead of working time.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Deadline N working days (N × working-day length) or N working hours after START."""
    if (days is None) == (hours is None):
        _fail("give exactly one of --days or --hours")
    given = days if days is not None else hours
    if not math.isfinite(given) or given < 0:
        _fail(f"{'--days' if days is not None else '--hours'} must be 0 or more, got {given:g}")
    wt = _wt()
    t0 = _parse_dt(start, wt)
    try:
        if wall:
            due = t0 + timedelta(days=days or 0, hours=hours or 0)
        else:
            due = wt.after(t0, days=days or 0, hours=hours or 0)
    except CalendarRangeError as e:
        _out_of_calendar(e)
    except (OverflowError, ValueError):  # wall time past the year 9999
        _fail(f"the deadline falls after the year 9999: {given:g} from {t0.isoformat()}")
    amount = f"{days:g} working days" if days is not None else f"{hours:g} working hours"
    if wall:
        amount = amount.replace("working ", "")
    provisional = not wall and wt.calendar.is_provisional(due.date())
    if as_json:
        _echo_json({"start": t0.isoformat(), "amount": amount, "deadline": due.isoformat(),
                    "provisional": provisional})  # fmt: skip
    else:
        note = f"; provisional: {due.year} is not declared yet" if provisional else ""
        typer.echo(f"{due.isoformat()}  ({amount} after {t0.isoformat()}{note})")


@app.command("is-workday")
def is_workday(
    day: Annotated[str, typer.Argument(help="Date, ISO (e.g. 2026-02-14).")],
    as_json: JsonOption = False,
) -> None:
    """Whether DAY is a working day, and why (holiday, 调休 make-up day, local override)."""
    try:
        d = date.fromisoformat(day)
    except ValueError:
        raise typer.BadParameter(f"not an ISO date: {day!r}") from None
    cal = _wt().calendar
    try:
        workday, why = cal.is_workday(d), cal.describe(d)
    except CalendarRangeError as e:
        _out_of_calendar(e)
    if as_json:
        _echo_json({"date": d.isoformat(), "workday": workday, "why": why})
    else:
        typer.echo(f"{d.isoformat()} {d:%a}: {'working day' if workday else 'day off'} ({why})")


@app.command("between")
def between(
    t1: Annotated[str, typer.Argument(help="From, ISO date-time.")],
    t2: Annotated[str, typer.Argument(help="To, ISO date-time.")],
    as_json: JsonOption = False,
) -> None:
    """Working time elapsed between T1 and T2 (negative if T2 is earlier)."""
    wt = _wt()
    a, b = _parse_dt(t1, wt), _parse_dt(t2, wt)
    try:
        secs = int(wt.between(a, b).total_seconds())
    except CalendarRangeError as e:
        _out_of_calendar(e)
    if as_json:
        _echo_json(
            {
                "from": a.isoformat(),
                "to": b.isoformat(),
                "working_seconds": secs,
                "working_hours": round(secs / 3600, 4),
                "working_days": round(secs / wt.day_seconds, 4),
                "wall_seconds": int((b - a).total_seconds()),
            }
        )
    else:
        typer.echo(
            f"{_hours(secs)} working time ({secs / wt.day_seconds:.2f} working days of "
            f"{wt.day_seconds / 3600:g} h)"
        )


#: The holidays every State Council notice arranges (an item may name two: 中秋节、国庆节).
STATUTORY_HOLIDAYS = ("元旦", "春节", "清明节", "劳动节", "端午节", "中秋节", "国庆节")


@app.command("declare-year")
def declare_year_cmd(
    notice: Annotated[
        Path,
        typer.Argument(
            exists=True,
            dir_okay=False,
            help="The State Council's holiday notice as text (UTF-8 or GB18030), e.g. copied "
            "from gov.cn: 国务院办公厅关于2027年部分节假日安排的通知.",
        ),
    ],
    year: Annotated[
        int | None, typer.Option(help="Year arranged (default: read from the notice's title).")
    ] = None,
    overrides: Annotated[
        Path | None,
        typer.Option(help="Calendar overrides file (default: $HOTLINE_SLA_CALENDAR_OVERRIDES)."),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the days; write nothing.")
    ] = False,
) -> None:
    """Declare next year's holidays and 调休 make-up days from the official notice.

    Reads each item of the notice (days off, ``共N天`` checked against the range; make-up
    working days, checked to fall on weekends), prints every day, and adds the year to the
    calendar overrides file so time limits can run into it before chinese-calendar ships
    it. Then restart the SLA workers: they recompute the deadlines counted provisionally
    into that year (see `hotline sla recompute`).
    """
    from sla.calendar import declare_year, package_years
    from sla.holiday_notice import WEEKDAY_NAMES, NoticeError, notice_year, parse_notice
    from understand.dataset import DatasetError, decode_text

    try:
        text, _ = decode_text(notice.read_bytes(), notice)
        days = parse_notice(text, year)
    except DatasetError as e:
        _fail(str(e))
    except NoticeError as e:
        _fail(f"{notice}: {e}")
    arranged = year or notice_year(text)
    for d in days:
        kind = "make-up working day" if d.workday else "day off"
        typer.echo(f"{d.day.isoformat()} 周{WEEKDAY_NAMES[d.day.weekday()]}  {kind:19} {d.holiday}")
    off = sum(not d.workday for d in days)
    typer.echo(f"{arranged}: {off} days off, {len(days) - off} make-up working days")
    missing = [h for h in STATUTORY_HOLIDAYS if not any(h in d.holiday for d in days)]
    if missing:  # a notice copied in part: those holidays would become working days
        typer.echo(
            f"warning: {notice} has no item for {'、'.join(missing)}; every year's notice "
            f"arranges {'、'.join(STATUTORY_HOLIDAYS)}: is it the whole notice?",
            err=True,
        )
    if dry_run:
        return
    if arranged <= package_years()[1]:
        _fail(f"{arranged} is in chinese-calendar already ({'–'.join(map(str, package_years()))})")
    path = overrides or DEFAULTS.overrides_file
    try:
        declare_year(path, arranged, [(d.day, d.workday, d.note) for d in days])
    except OSError as e:
        _fail(f"cannot write {path}: {e.strerror or e}")
    except ValueError as e:  # not TOML, not UTF-8, the year already there, …
        _fail(str(e) if str(path) in str(e) else f"{path}: {e}")
    typer.echo(
        f"declared {arranged} in {path}; restart the SLA workers (they recompute the open "
        "deadlines counted provisionally, or run `hotline sla recompute`), then "
        "`hotline deadletter replay --code SLA_CALENDAR_RANGE` for any case dead-lettered "
        "meanwhile"
    )


@app.command("recompute")
def recompute_cmd(
    redis_url: RedisOption = None,
    prefix: PrefixOption = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Recompute the deadlines of every open case on the current working-day calendar.

    SLA workers do this themselves at start when the calendar changed (a year declared,
    a local day off added to the overrides file); run it when you cannot restart them,
    after stopping any worker still on the old calendar. Only the instants move: what
    each clock consumed is kept, and warnings already raised are not raised again.
    """
    from tqdm import tqdm

    async def run(store: Any) -> Any:
        total = await store.r.zcard(store.due_key)
        with tqdm(total=total, desc="recomputing", unit="case", disable=quiet) as bar:
            return await store.recompute_deadlines(progress=bar.update)

    try:
        report = asyncio.run(_with_store(redis_url, prefix, run))
    except CalendarRangeError as e:
        _out_of_calendar(e)
    summary = {
        "examined": report.examined,
        "moved": report.moved,
        "out_of_range": report.out_of_range,
    }
    if as_json:
        _echo_json(summary)
        return
    typer.echo(f"{report.examined} open case(s) with pending thresholds, {report.moved} moved")
    if report.out_of_range:
        typer.echo(
            f"{len(report.out_of_range)} case(s) kept their deadlines: the new ones fall past "
            f"the calendar (e.g. {report.out_of_range[0]})",
            err=True,
        )


@app.command("policies")
def policies(as_json: JsonOption = False) -> None:
    """List the time-limit policies and the rules that choose them."""
    from sla.policies import load_policies

    try:
        book = load_policies(DEFAULTS.policy_file)
    except (ValueError, OSError) as e:
        _settings_problem(e)
    rows = [
        {
            "key": p.key,
            "name": p.name,
            "case": str(p.case),
            "sign_for": str(p.sign_for),
            "handling": str(p.handling),
            "return_window": str(p.return_window),
            "extensions": f"{p.max_extensions} × ≤{p.max_extension_days}wd",
        }
        for p in book.policies.values()
    ]
    rules = [
        {
            "policy": rule.policy,
            **{
                name: list(values)
                for name in ("appeal_types", "urgencies", "categories", "tags")
                if (values := getattr(rule, name))
            },
        }
        for rule in book.rules
    ]
    if as_json:
        _echo_json({"default": book.default, "policies": rows, "rules": rules})
        return
    for r in rows:
        typer.echo("  ".join(f"{k}={v}" for k, v in r.items()))
    typer.echo("rules, the first whose every criterion matches wins:")
    for n, rule in enumerate(rules, 1):
        criteria = "  ".join(f"{k}={','.join(v)}" for k, v in rule.items() if k != "policy")
        typer.echo(f"  {n}. {rule['policy']} if {criteria}")
    typer.echo(f"default={book.default} (no rule matches)")


def _now(text: str | None) -> int:
    return int(_parse_dt(text, _wt()).timestamp()) if text else int(_time.time())


def _redis_url(url: str | None) -> str:
    """``url``, or the worker's Redis ($HOTLINE_REDIS_URL), where its SLA clocks are."""
    if url:
        return url
    from config.streams import StreamSettings

    return StreamSettings().redis_url


async def _with_store(url: str | None, prefix: str | None, fn: Any) -> Any:
    from config.streams import StreamSettings
    from sla.redis_store import SlaStore

    if prefix is None:  # the worker's keys, whatever run prefix it has
        prefix = StreamSettings().sla_redis_prefix
    try:
        store = SlaStore.from_url(_redis_url(url), prefix=prefix)
    except (ValueError, OSError) as e:  # its engine reads the policies and calendar files
        _settings_problem(e)
    try:
        return await fn(store)
    finally:
        await store.aclose()


def _fmt_view(view: Any, wt: WorkingTime) -> list[str]:
    lines = [
        f"{view.appeal_id}  {view.level}  policy={view.policy} status={view.status} "
        f"phase={view.phase} department={view.department or '-'} district={view.district or '-'}"
        f" category={view.category or '-'}"
    ]
    for c in view.clocks:
        if c.beyond_calendar:
            due = "after the calendar's last year (declare it, or allow a provisional year)"
        else:
            due = wt.to_datetime(c.due_at).isoformat() if c.due_at else "paused"
        if c.provisional:
            due += " (provisional)"
        lines.append(
            f"  {c.kind:<9} {c.clock_id:<4} {c.level:<9} remaining {_hours(c.remaining)} "
            f"{c.mode} of {_hours(c.limit)}  due {due}"
        )
    return lines


@app.command("remaining")
def remaining_cmd(
    appeal_id: Annotated[str, typer.Argument(help="Appeal id.")],
    now: NowOption = None,
    redis_url: RedisOption = None,
    prefix: PrefixOption = None,
    as_json: JsonOption = False,
) -> None:
    """Remaining time of each clock of a case (working or wall time, per its policy)."""
    from sla.queries import remaining

    at = _now(now)
    try:
        view = asyncio.run(_with_store(redis_url, prefix, lambda st: remaining(st, appeal_id, at)))
    except CalendarRangeError as e:
        _out_of_calendar(e)
    if view is None:
        _fail(f"unknown case {appeal_id!r}")
    if as_json:
        _echo_json(view.as_dict())
    else:
        typer.echo("\n".join(_fmt_view(view, _wt())))


@app.command("overdue")
def overdue_cmd(
    department: Annotated[str | None, typer.Option(help="Department code.")] = None,
    district: Annotated[str | None, typer.Option(help="District, e.g. A市A3区.")] = None,
    category: Annotated[str | None, typer.Option(help="Category path, exactly as stored.")] = None,
    near: Annotated[
        bool, typer.Option("--near", help="Include near-due cases (≥ warn80, yellow card).")
    ] = False,
    limit: Annotated[int, typer.Option(min=0, help="Print at most this many cases.")] = 50,
    now: NowOption = None,
    redis_url: RedisOption = None,
    prefix: PrefixOption = None,
    as_json: JsonOption = False,
) -> None:
    """Overdue (and with --near, near-due) open cases, worst first."""
    from sla.queries import late_cases

    _check_department(department)
    _check_district(district)
    at = _now(now)
    wt = _wt()
    runway = calendar_runway(DEFAULTS, datetime.fromtimestamp(at, wt.tz).date())
    if runway:  # new cases are missing from this list once their limits pass the calendar
        typer.echo(f"warning: {runway}", err=True)
    try:
        views = asyncio.run(
            _with_store(
                redis_url,
                prefix,
                lambda st: late_cases(
                    st,
                    at,
                    department=department,
                    district=district,
                    category=category,
                    include_near=near,
                ),
            )
        )
    except CalendarRangeError as e:
        _out_of_calendar(e)
    # appeals waiting for a reviewer have no department, district or category yet
    in_review = (
        asyncio.run(_review_overdue(redis_url, at))
        if not (department or district or category)
        else []
    )
    if as_json:
        _echo_json({"count": len(views), "cases": [v.as_dict() for v in views[:limit]],
                    "review_overdue": in_review})  # fmt: skip
        return
    typer.echo(f"{len(views)} case(s)")
    for v in views[:limit]:
        typer.echo("\n".join(_fmt_view(v, wt)))
    if in_review:
        typer.echo(
            f"also {len(in_review)} appeal(s) past their review deadline (复核时限), not yet "
            "dispatched: hotline review list"
        )


def _check_department(code: str | None) -> None:
    """A department filter must name a department of the dispatch catalogue: a typo
    would list no case, which reads as 'nothing overdue'."""
    if not code:
        return
    from routing.catalogue import load_catalogue

    try:
        catalogue = load_catalogue()
    except (OSError, ValueError):  # no catalogue to check against: filter as given
        return
    try:
        catalogue.department(code)
    except KeyError:
        raise typer.BadParameter(
            f"{catalogue.unknown_code(code)} (not in the dispatch catalogue)",
            param_hint="--department",
        ) from None


def _check_district(district: str | None) -> None:
    """A district filter must be written as cases store it (A市A3区), or it matches none."""
    if not district:
        return
    from routing.district import extract_district

    found = extract_district(district)
    if found is None or found.name != district:
        hint = f"; did you mean {found.name}?" if found else ""
        raise typer.BadParameter(
            f"{district!r} is not a district as cases store it (e.g. A市A3区){hint}",
            param_hint="--district",
        )


async def _review_overdue(url: str | None, at: int) -> list[str]:
    """Appeals overdue in the human-review queue (the worker's keys: its topic prefix)."""
    import redis.asyncio as aioredis

    from config.streams import StreamSettings
    from stores.pending_reviews import PendingReviews

    client = aioredis.Redis.from_url(_redis_url(url))
    try:
        return await PendingReviews(client, prefix=StreamSettings().redis_prefix).overdue(at)
    finally:
        await client.aclose()


async def _rebuild(as_of: int) -> tuple[int, str]:
    import hashlib

    from sla.rebuild import rebuild
    from streams.app import settings
    from streams.sla_log import read_alert_ids, read_sla_log
    from streams.stores import sla_store

    records = await read_sla_log(
        settings.broker, settings.topic("assignments.all"), settings.topic("cases.events")
    )
    published = await read_alert_ids(settings.broker, settings.topic("sla.alerts"))
    store = sla_store()
    try:
        result = await rebuild(store, records, as_of, published=published)
        dump = await store.dump()
    finally:
        await store.aclose()
    digest = hashlib.sha256(json.dumps(dump, sort_keys=True, default=str).encode()).hexdigest()[:16]
    return len(result.states), digest


@app.command("rebuild")
def rebuild_cmd(
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
    now: NowOption = None,
) -> None:
    """Rebuild all SLA state in Redis from the Kafka log (assignments.all + cases.events).

    Stop every worker first: this wipes the SLA keys and writes them anew. A threshold
    already due counts as fired only if its alert is on sla.alerts: no alert is raised
    twice, and one that was never sent (say, while Redis was down) is raised afterwards.
    """
    if not yes:
        typer.confirm("Stop all workers first. Wipe and rebuild the SLA state?", abort=True)
    cases, digest = asyncio.run(_rebuild(_now(now)))
    typer.echo(f"rebuilt {cases} cases from the Kafka log; state digest {digest}")
