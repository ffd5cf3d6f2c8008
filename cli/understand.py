"""`hotline train` and `hotline evaluate`: the appeal classifier's command line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, NoReturn

import typer

app = typer.Typer(help="Train and evaluate the appeal category classifier.", no_args_is_help=True)


def _summary(metrics: dict) -> dict:
    return {
        "n": metrics["n"],
        "accuracy": metrics["accuracy"],
        "macro_f1": metrics["macro_f1"],
        "per_class_f1": {c: m["f1"] for c, m in metrics["per_class"].items()},
    }


def _fail(exc: Exception) -> NoReturn:
    """A file we cannot use (data, model): say why on stderr and exit 2 (no traceback)."""
    typer.echo(f"error: {exc}", err=True)
    raise typer.Exit(2) from None


@app.command()
def train(
    data: Annotated[
        list[Path] | None,
        typer.Option(
            "--data",
            help="Labelled CSV (subject, detail, label); repeatable. "
            "Default: $HOTLINE_UNDERSTAND_TRAIN_DATA",
        ),
    ] = None,
    corrections: Annotated[
        Path | None,
        typer.Option(
            help="Reviewers' corrections CSV, used when it exists. "
            "Default: $HOTLINE_UNDERSTAND_CORRECTIONS_PATH"
        ),
    ] = None,
    out: Annotated[
        Path | None, typer.Option(help="Model folder. Default: $HOTLINE_UNDERSTAND_MODEL_DIR")
    ] = None,
    cv: Annotated[
        bool, typer.Option("--cv/--no-cv", help="Also cross-validate and store the metrics")
    ] = True,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars")] = False,
) -> None:
    """Train the category classifier and save a versioned artifact as the current model."""
    from understand.artifact import ModelNotSavedError
    from understand.dataset import DatasetError
    from understand.training import train as run_train

    try:
        path, meta = run_train(data, corrections, out, cross_validation=cv, progress=not quiet)
    except (DatasetError, ModelNotSavedError) as exc:
        _fail(exc)
    except ValueError as exc:  # readable, but too little to fit (scikit-learn says why)
        _fail(f"cannot train on this data: {exc}")
    for problem in meta.get("corrections_skipped") or []:
        typer.echo(f"warning: {problem}", err=True)
    typer.echo(f"saved {path}")
    typer.echo(
        f"version {meta['version']}  examples {meta['n_examples']} "
        f"(corrections {meta['n_corrections']})  data sha256 {meta['data_sha256']}"
    )
    summary = {
        "artifact": str(path),
        "version": meta["version"],
        "train_seconds": meta["train_seconds"],
        "artifact_mb": round(path.stat().st_size / 1e6, 2),
        "n_features": meta.get("n_features"),
    }
    if meta.get("cv_metrics"):
        m = meta["cv_metrics"]
        typer.echo(f"cross-validated accuracy {m['accuracy']:.4f}  macro-F1 {m['macro_f1']:.4f}")
        summary.update(_summary(m))
    typer.echo(
        f"trained in {meta['train_seconds']:.1f} s, artifact {path.stat().st_size / 1e6:.1f} MB"
    )
    typer.echo(json.dumps(summary, ensure_ascii=False))


@app.command()
def classify(
    title: Annotated[str, typer.Argument(help="Appeal title (留言主题).")],
    content: Annotated[str, typer.Argument(help="Appeal text (留言详情).")] = "",
    model: Annotated[
        Path | None, typer.Option(help="Artifact file or model folder. Default: current model")
    ] = None,
) -> None:
    """Classify and route one appeal as the understand stage does; print JSON.

    The category with its calibrated confidence and the top alternatives, sub-category and
    topic, whether it goes to review (and why), an emergency for 110/119/120/122, the SLA
    outage tag, and unless it goes to review the routing decision made with the category
    (``hotline routing route`` routes without one).
    """
    import json

    from cli.routing import catalogue_or_exit, kind_model_or_exit
    from routing.dispatch import Router
    from understand.artifact import ModelNotFoundError, ModelUnreadableError, load_classifier
    from understand.outage import reports_outage

    try:
        clf = load_classifier(model)
    except (ModelNotFoundError, ModelUnreadableError) as exc:  # the message names the file
        _fail(exc)
    r = clf.classify_batch([(title, content)])[0]
    out: dict = {
        "category": r.category,
        "confidence": r.confidence,
        "alternatives": [{"category": c, "probability": p} for c, p in r.alternatives],
        "subcategory": r.subcategory,
        "topic": r.topic,
        "review": r.review_reason if r.needs_review else None,
        "emergency": {"service": r.emergency.service, "reason": r.emergency.reason,
                      "evidence": r.emergency.evidence} if r.emergency else None,
        "outage": reports_outage(title, content),
        "model_version": clf.version,
    }  # fmt: skip
    if not r.needs_review:  # as the stream: reviewed appeals are routed after the decision
        # a catalogue or kind model that cannot be read: one line, as `routing route` says it
        router = Router(catalogue_or_exit(None), kind_model_or_exit())
        decision = router.route(title, content, r.category, r.subcategory,
                                category_confidence=r.confidence)  # fmt: skip
        if r.emergency is not None:
            decision = router.for_emergency(
                decision, r.emergency.service, r.emergency.reason, r.subcategory
            )
        out["routing"] = decision.as_dict()
    typer.echo(json.dumps(out, ensure_ascii=False, indent=2))


@app.command()
def evaluate(
    data: Annotated[
        Path | None,
        typer.Option(
            "--data",
            help="Score the trained model on this labelled CSV (subject, "
            "detail, label) instead of cross-validating the training recipe",
        ),
    ] = None,
    model: Annotated[
        Path | None, typer.Option(help="Artifact file or model folder. Default: current model")
    ] = None,
    folds: Annotated[int, typer.Option(min=2, help="Cross-validation folds")] = 5,
    seed: Annotated[int, typer.Option(help="Shuffle seed of the folds")] = 42,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars")] = False,
) -> None:
    """Report accuracy, macro-F1, per-class figures; last stdout line is a JSON summary.

    Without --data: stratified cross-validation of the training recipe on the training
    data, near-duplicate appeals kept in one fold. With --data: the trained model on FILE.
    """
    from tqdm import tqdm

    from understand.dataset import (
        ENCODINGS,
        DatasetError,
        read_corrections,
        read_labelled,
        read_labelled_file,
    )
    from understand.evaluation import cross_validate, evaluate_rows, format_report

    if data is not None:
        from understand.artifact import ModelNotFoundError, ModelUnreadableError, load_classifier

        try:
            clf = load_classifier(model)
        except (ModelNotFoundError, ModelUnreadableError) as exc:  # the message names the file
            _fail(exc)
        try:
            labelled = read_labelled_file(data)
        except DatasetError as exc:
            _fail(exc)
        if labelled.encoding != ENCODINGS[0]:  # say when it was not UTF-8
            typer.echo(f"read {data} as {labelled.encoding}", err=True)
        metrics = evaluate_rows(clf, labelled.rows)
        summary = {
            "mode": "file",
            "data": str(data),
            "encoding": labelled.encoding,
            "model_version": clf.version,
        }
    else:
        from config.understand import CORRECTIONS_PATH, TRAIN_DATA
        from understand.training import check_categories, merge_corrections

        try:
            rows = read_labelled(TRAIN_DATA)
            if CORRECTIONS_PATH.is_file():  # may have no rows (emptied after a retrain)
                fixes = read_corrections(CORRECTIONS_PATH)
                for problem in fixes.skipped:
                    typer.echo(f"warning: {problem}", err=True)
                rows = merge_corrections(rows, fixes.rows)
        except DatasetError as exc:
            _fail(exc)
        try:
            check_categories([r.label for r in rows])  # before the slow segmenting
            metrics = cross_validate(
                rows,
                folds=folds,
                seed=seed,
                progress=lambda it: tqdm(it, desc="cross-validating", unit="fold", disable=quiet),
            )
        except ValueError as exc:  # too few rows for the folds (scikit-learn says why)
            _fail(f"cannot cross-validate on this data: {exc}")
        summary = {"mode": "cross_validation", "folds": folds, "seed": seed}
    typer.echo(format_report(metrics))
    summary.update(_summary(metrics))
    typer.echo(json.dumps(summary, ensure_ascii=False))


if __name__ == "__main__":
    app()
