"""``hotline routing …``: route one appeal, check and re-derive the catalogue, evaluate routing."""

from __future__ import annotations

import asyncio
import json
import re
from collections import Counter
from pathlib import Path
from typing import Annotated

import typer
from tqdm import tqdm

from config.data import DATA_DIR
from config.routing import CATALOGUE_PATH, KIND_MODEL_PATH, REASSIGNMENTS_PATH
from routing.catalogue import CatalogueError, load_catalogue
from routing.department_names import find_mentions, mine_names, normalise_name
from routing.dispatch import Router
from routing.evaluation import (
    SPLITS,
    classify_cases,
    evaluate,
    load_replies,
    select,
)
from routing.kind_model import load_kind_model
from routing.training import (
    DEFAULT_C,
    correction_examples,
    cross_validate,
    train_kind_model,
    training_examples,
)
from understand.dataset import DatasetError

app = typer.Typer(
    help="Routing (派单): dispatch catalogue, routing decisions and their evaluation.",
    no_args_is_help=True,
)

CatalogueOption = Annotated[
    Path | None,
    typer.Option("--catalogue", help="Catalogue TOML (default: $HOTLINE_ROUTING_CATALOGUE)."),
]
RepliesOption = Annotated[
    Path | None, typer.Option("--replies", help="replies.csv (default: $HOTLINE_DATA_DIR).")
]


def catalogue_or_exit(path: Path | None):
    """The dispatch catalogue (the configured one for ``None``), or a one-line error and
    exit 2 naming a file that cannot be read or is not a valid catalogue."""
    try:
        return load_catalogue(path)
    except CatalogueError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None
    except (OSError, ValueError) as exc:  # missing, a folder, not UTF-8, not TOML
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        typer.echo(f"{path or CATALOGUE_PATH}: cannot read the catalogue ({reason})", err=True)
        raise typer.Exit(2) from None


def kind_model_or_exit(path: Path | None = None):
    """The department-kind model (``None`` when the default file is absent), or a one-line
    error naming a file that is not one."""
    try:
        return load_kind_model(path)
    except (OSError, ValueError, KeyError, TypeError) as exc:  # not UTF-8, not JSON, …
        shown = path or KIND_MODEL_PATH
        typer.echo(f"{shown}: not a department-kind model ({type(exc).__name__}: {exc})", err=True)
        raise typer.Exit(2) from None


def _cannot_write(path: Path, exc: OSError) -> typer.BadParameter:
    """The --out error for a file that cannot be written (a folder, no permission, …)."""
    return typer.BadParameter(f"cannot write {path}: {exc.strerror or exc}", param_hint="--out")


def _positive_c(values: list[float]) -> None:
    """The model's inverse regularisation must be a positive number."""
    for value in values:
        if not value > 0:  # 0, negative or nan
            raise typer.BadParameter(f"must be a number above 0, got {value:g}", param_hint="--c")


def _json(data: object) -> str:
    return json.dumps(data, ensure_ascii=False, sort_keys=False)


@app.command("route")
def route_command(
    title: Annotated[str, typer.Argument(help="Appeal title (留言主题).")],
    content: Annotated[str, typer.Argument(help="Appeal text (留言详情).")] = "",
    category: Annotated[str | None, typer.Option(help="First-level category, if known.")] = None,
    subcategory: Annotated[str | None, typer.Option(help="Second-level category.")] = None,
    district: Annotated[
        str | None, typer.Option(help="District as intake stores it, e.g. A市A3区.")
    ] = None,
    catalogue: CatalogueOption = None,
) -> None:
    """Route one appeal and print the decision as JSON (for operators checking a rule).

    An emergency in the text is shown (``emergency``: service and reason), and the
    decision is the one the stream makes for it."""
    from routing.district import extract_district
    from routing.text import router_text
    from understand.dataset import CATEGORIES

    if category is not None and category not in CATEGORIES:
        raise typer.BadParameter(
            f"{category!r} is not a first-level category; one of {', '.join(CATEGORIES)}",
            param_hint="--category",
        )
    if district and extract_district(router_text(district)) is None:
        raise typer.BadParameter(
            f"{district!r} names no city or district (e.g. A市A3区)", param_hint="--district"
        )
    from understand.emergency import detect_emergency
    from understand.text_normalise import prepare_text

    router = Router(catalogue_or_exit(catalogue), kind_model_or_exit())
    decision = router.route(title, content, category, subcategory, district)
    # as the understand stage does: an emergency nothing in the text routes goes to the
    # service's department
    emergency = detect_emergency(prepare_text(title, content)[1])
    out = decision.as_dict()
    if emergency is not None:
        decision = router.for_emergency(decision, emergency.service, emergency.reason, subcategory)
        out = {**decision.as_dict(), "emergency": {"service": emergency.service,
                                                   "reason": emergency.reason}}  # fmt: skip
    typer.echo(json.dumps(out, ensure_ascii=False, indent=2))


def _replies(path: Path | None) -> list:
    """The reply cases of ``path`` (default: the shared replies.csv), or a usage error."""
    try:
        return load_replies(path or DATA_DIR / "replies.csv")
    except DatasetError as exc:
        raise typer.BadParameter(str(exc), param_hint="--replies") from None


@app.command("catalogue-check")
def catalogue_check(catalogue: CatalogueOption = None) -> None:
    """Validate the catalogue; list every problem, or print its size as JSON."""
    cat = catalogue_or_exit(catalogue)
    kinds = Counter(d.kind for d in cat.departments)
    typer.echo(
        _json(
            {
                "ok": True,
                "departments": len(cat.departments),
                "kinds": len(cat.kinds),
                "rules": len(cat.rules),
                "units": len(cat.units),
                "streets": kinds["jd"],
            }
        )
    )


@app.command("catalogue-build")
def catalogue_build(
    replies: RepliesOption = None,
    catalogue: CatalogueOption = None,
    min_count: Annotated[int, typer.Option(help="Only list names seen this often.")] = 3,
    out: Annotated[
        Path | None, typer.Option(help="Also write the full mined list here (JSON).")
    ] = None,
) -> None:
    """Re-derive the departments named in the official replies and compare with the catalogue.

    Mines every department-like name from replies.csv (names ending in 局/委/办/中心/大队/
    街道办事处/公司 …), normalises it to a catalogue kind through the kinds' aliases, and
    lists names the catalogue cannot normalise (candidates for new aliases or kinds) and
    A市 departments the replies name that have no catalogue entry. The committed catalogue
    stays the source of truth: this command only reports.
    """
    cat = catalogue_or_exit(catalogue)
    cases = _replies(replies)
    mined = mine_names(tqdm((c.reply for c in cases), total=len(cases), desc="mining"))
    unknown = {
        n: k for n, k in mined.most_common() if k >= min_count and not normalise_name(n, cat)
    }
    # Named units of the centre's city: which concrete departments occur, and are they listed?
    unit_re = re.compile(r"^([A-Z]\d{1,2}[区县市]|[A-Z]市)")
    occurring: Counter[tuple[str, str]] = Counter()
    for case in cases:
        for m in find_mentions(case.reply, cat):
            if m.unit and cat.unit(m.unit) and m.kind != "jd":
                occurring[(m.unit, m.kind)] += 1
    missing = {f"{u}/{k}": n for (u, k), n in occurring.most_common() if cat.find(k, u) is None}
    typer.echo(f"{len(mined)} distinct names mined from {len(cases)} replies")
    typer.echo(f"not normalised (>= {min_count} mentions), candidates for aliases:")
    for name, n in list(unknown.items())[:60]:
        typer.echo(f"  {n:5d}  {name}")
    typer.echo("A市 departments named in replies but missing from the catalogue:")
    for key, n in missing.items():
        typer.echo(f"  {n:5d}  {key}")
    if out is not None:
        mined_list = {
            "names": [
                {"name": n, "count": k, "kind": normalise_name(n, cat)}
                for n, k in mined.most_common()
                if k >= min_count
            ],
            "occurring": [
                {"unit": u, "kind": k, "count": n, "in_catalogue": bool(cat.find(k, u))}
                for (u, k), n in occurring.most_common()
            ],
        }
        try:
            out.write_text(_json(mined_list), encoding="utf-8")
        except OSError as exc:
            raise _cannot_write(out, exc) from None
    named = sum(1 for n in mined if unit_re.match(n))
    typer.echo(
        _json(
            {
                "replies": len(cases),
                "distinct_names": len(mined),
                "names_with_unit": named,
                "unnormalised_frequent": len(unknown),
                "occurring_city_departments": len(occurring),
                "missing_from_catalogue": len(missing),
            }
        )
    )


@app.command("route-eval")
def route_eval(
    replies: RepliesOption = None,
    catalogue: CatalogueOption = None,
    split: Annotated[
        list[str] | None,
        typer.Option(help=f"Splits to report, any of {SPLITS}; default: test, dev and all."),
    ] = None,
    classifier: Annotated[
        bool, typer.Option(help="Also route with the understand classifier's categories.")
    ] = True,
    model: Annotated[
        Path | None,
        typer.Option(
            exists=True,
            dir_okay=False,
            help="Kind model JSON (default: $HOTLINE_ROUTING_KIND_MODEL, if present).",
        ),
    ] = None,
) -> None:
    """Compare each appeal's lead department with the department its official reply names.

    Population: appeals whose reply names the handling department. Headline: appeals
    placed in the centre's city (kind, unit, dispatch target); other cities / no place:
    kind only. Rules were tuned and the kind model trained on the ``dev`` half only;
    ``test`` is the held-out figure. Prints per-split accuracy for the keyword rules alone
    and for rules + kind model, then one JSON summary as the last line of stdout.
    """
    cat = catalogue_or_exit(catalogue)
    kind_model = kind_model_or_exit(model)
    routers = {"rules": Router(cat)}
    if kind_model is not None:
        routers["rules+model"] = Router(cat, kind_model)
    cases = _replies(replies)
    splits = split or ["test", "dev", "all"]
    for s in splits:
        if s not in SPLITS:
            raise typer.BadParameter(f"unknown split {s!r}; choose from {SPLITS}")
    classifications, note = (None, "disabled (--no-classifier)")
    if classifier:
        classifications, note = classify_cases(cases)
    by_id = dict(zip((c.id for c in cases), classifications or [], strict=False))
    summary: dict[str, object] = {
        "classifier": note,
        "kind_model": kind_model.meta if kind_model is not None else "absent: rules only",
    }
    for s in splits:
        chosen = select(cases, s)
        summary[s] = {}
        for name, router in routers.items():
            report = evaluate(
                chosen,
                router,
                [by_id[c.id] for c in chosen] if classifications else None,
                progress=lambda it, s=s: tqdm(it, desc=f"routing {s}", leave=False),
                split=s,
            )
            report.classifier_note = note
            result = report.summary()
            kw = result["keywords_and_district"]
            line = (
                f"{s:>4} {name:>11}: in-city scored {kw['scored']} | kind "
                f"{kw['kind_accuracy']} | unit {kw['unit_accuracy']} | dispatch target "
                f"{kw['dispatch_target_accuracy']} || other places {report.other_places.scored}"
                f" kind {result['other_places']['kind_accuracy']} || all places "
                f"{result['all_places']['scored']} kind {result['all_places']['kind_accuracy']}"
                f" (of {report.cases}; no department in reply {report.no_reference})"
            )
            if report.with_classifier is not None:
                wc = report.with_classifier.summary()
                line += (
                    f" | with classifier: in-city kind {wc['kind_accuracy']} unit "
                    f"{wc['unit_accuracy']}, all places "
                    f"{result['all_places_with_classifier']['kind_accuracy']}"
                )
            if name != "rules" and s != "test":
                # The model was fitted on dev: its dev/all figures are not a measure.
                line += " [IN-SAMPLE: model trained on dev; use `routing cv` for dev]"
                result["note"] = "in-sample: the kind model was trained on the dev half"
            typer.echo(line)
            summary[s][name] = result
    typer.echo(_json(summary))


@app.command("train")
def train(
    replies: RepliesOption = None,
    catalogue: CatalogueOption = None,
    out: Annotated[
        Path | None, typer.Option(help="Artifact path (default: $HOTLINE_ROUTING_KIND_MODEL).")
    ] = None,
    c: Annotated[float, typer.Option(help="Inverse regularisation of the model.")] = DEFAULT_C,
    corrections: Annotated[
        list[Path] | None,
        typer.Option(
            exists=True,
            dir_okay=False,
            help="Also learn from the departments chosen in this CSV (repeatable): reviewers' "
            "corrections ($HOTLINE_UNDERSTAND_CORRECTIONS_PATH) or harvested reassignments "
            "($HOTLINE_ROUTING_REASSIGNMENTS_PATH); later files win for the same text. Off by "
            "default, so the committed model is what the replies alone give.",
        ),
    ] = None,
) -> None:
    """Train the department-kind model on the ``dev`` half of replies.csv (never ``test``).

    Prints the artifact's path, size and training summary as JSON.
    """
    _positive_c([c])
    cat = catalogue_or_exit(catalogue)
    cases = _replies(replies)
    path = out or KIND_MODEL_PATH
    try:
        extra, skipped = correction_examples(corrections or [], cat)
    except DatasetError as exc:
        raise typer.BadParameter(str(exc), param_hint="--corrections") from None
    try:
        model = train_kind_model(cases, cat, path, c=c, corrections=extra)
    except OSError as exc:
        raise _cannot_write(path, exc) from None
    load_kind_model.cache_clear()
    summary = {"path": str(path), "bytes": path.stat().st_size, "kinds": list(model.kinds)}
    if corrections:
        summary["corrections"] = {"used": len(extra), "unknown_department": skipped}
    typer.echo(_json({**summary, **model.meta}))


@app.command("cv")
def cross_validate_command(
    replies: RepliesOption = None,
    catalogue: CatalogueOption = None,
    folds: Annotated[int, typer.Option(min=2, help="Number of folds.")] = 5,
    c: Annotated[list[float] | None, typer.Option(help="Values of C to compare.")] = None,
) -> None:
    """Cross-validate rules alone vs rules + kind model within the ``dev`` half (JSON)."""
    _positive_c(c or [])
    cat = catalogue_or_exit(catalogue)
    examples = training_examples(_replies(replies), cat, "dev")
    results = [cross_validate(examples, cat, folds, value) for value in (c or [DEFAULT_C])]
    typer.echo(_json(results))


@app.command("harvest-reassignments")
def harvest_reassignments(
    out: Annotated[
        Path | None,
        typer.Option(help="CSV to keep them in (default: $HOTLINE_ROUTING_REASSIGNMENTS_PATH)."),
    ] = None,
) -> None:
    """Collect reassigned appeals (改派) with their text, for ``train --corrections``.

    Reads ``cases.events`` and ``appeals.received`` up to their current ends (the whole
    topics, into memory) and keeps, per appeal, its last reassignment with its title and
    content. Rows already in the file stay (the file outlives the topics' retention); a
    later reassignment replaces an appeal's row. Prints a JSON summary.
    """
    from config.streams import StreamSettings

    settings = StreamSettings()
    path = out or REASSIGNMENTS_PATH
    try:
        summary = asyncio.run(
            harvest(
                settings.broker,
                settings.topic("cases.events"),
                settings.topic("appeals.received"),
                path,
            )
        )
    except DatasetError as exc:  # the kept file is not text any more
        raise typer.BadParameter(str(exc), param_hint="--out") from None
    except OSError as exc:  # a folder, or a place it cannot write
        raise _cannot_write(path, exc) from None
    typer.echo(_json(summary))


async def harvest(bootstrap: str, events_topic: str, appeals_topic: str, path: Path) -> dict:
    """Read both topics, merge the reassigned appeals into ``path``; returns the counts."""
    from models.appeal import Appeal
    from models.case_event import CaseEvent
    from routing.reassignments import (
        harvest_rows,
        latest_reassignments,
        merge_rows,
        read_rows,
        write_rows,
    )
    from stack.topic_read import read_records

    events, bad_events = await read_records(bootstrap, events_topic, CaseEvent)
    reassigned = latest_reassignments(event for _, event in events)
    appeals, bad_appeals = (
        await read_records(bootstrap, appeals_topic, Appeal) if reassigned else ([], 0)
    )
    rows, missing = harvest_rows(reassigned, (appeal for _, appeal in appeals))
    kept = read_rows(path)
    merged = merge_rows(kept, rows)
    write_rows(path, merged)
    undecodable = {events_topic: bad_events, appeals_topic: bad_appeals}
    return {
        "path": str(path),
        "case_events": len(events) + bad_events,
        "reassigned_appeals": len(reassigned),
        "harvested": len(rows),
        "text_no_longer_in_topic": len(missing),
        "rows_before": len(kept),
        "rows": len(merged),
        "undecodable": {topic: n for topic, n in undecodable.items() if n},
    }
