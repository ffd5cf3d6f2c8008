"""Measuring the classifier honestly: grouped stratified cross-validation and file scoring.

Near-duplicate appeals (see :mod:`understand.near_duplicates`) always fall in the same
fold, so the scores estimate performance on appeals the model has not seen a copy of.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from understand.dataset import CATEGORIES, LabelledAppeal

if TYPE_CHECKING:
    from understand.classifier import AppealClassifier
    from understand.features import PreparedAppeal

#: Confidence thresholds reported to choose HOTLINE_UNDERSTAND_REVIEW_THRESHOLD from.
REVIEW_THRESHOLDS = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)


def compute_metrics(
    y_true: Sequence[str], proba: np.ndarray, classes: Sequence[str]
) -> dict[str, Any]:
    """Accuracy, macro-F1, per-class P/R/F1, confusion matrix, calibration and the share
    of appeals that pass review at each threshold (with their accuracy)."""
    from sklearn.metrics import accuracy_score, confusion_matrix, f1_score
    from sklearn.metrics import precision_recall_fscore_support as prfs

    classes = list(classes)
    y_true = np.asarray(y_true)
    y_pred = np.asarray(classes)[proba.argmax(axis=1)]
    conf = proba.max(axis=1)
    correct = y_pred == y_true
    labels = [c for c in CATEGORIES if c in set(y_true) | set(y_pred)]
    p, r, f, s = prfs(y_true, y_pred, labels=labels, zero_division=0)
    calibration = []
    for lo in np.arange(0.0, 1.0, 0.1):
        mask = (conf >= lo) & (conf < lo + 0.1 if lo < 0.9 else conf <= 1.0)
        if mask.any():
            calibration.append(
                {
                    "bin": f"{lo:.1f}-{lo + 0.1:.1f}",
                    "n": int(mask.sum()),
                    "mean_confidence": round(float(conf[mask].mean()), 4),
                    "accuracy": round(float(correct[mask].mean()), 4),
                }
            )
    review = []
    for t in REVIEW_THRESHOLDS:
        auto = conf >= t
        review.append(
            {
                "threshold": t,
                "auto_share": round(float(auto.mean()), 4),
                "auto_accuracy": round(float(correct[auto].mean()), 4) if auto.any() else None,
            }
        )
    return {
        "n": int(len(y_true)),
        "accuracy": round(float(accuracy_score(y_true, y_pred)), 4),
        "macro_f1": round(float(f1_score(y_true, y_pred, labels=labels, average="macro")), 4),
        "per_class": {
            c: {
                "precision": round(float(p[i]), 4),
                "recall": round(float(r[i]), 4),
                "f1": round(float(f[i]), 4),
                "support": int(s[i]),
            }
            for i, c in enumerate(labels)
        },
        "confusion": {
            "labels": labels,
            "matrix": confusion_matrix(y_true, y_pred, labels=labels).tolist(),
        },
        "calibration": calibration,
        "review": review,
    }


def cross_validate(
    rows: Sequence[LabelledAppeal],
    folds: int = 5,
    seed: int = 42,
    params: dict | None = None,
    docs: Sequence[PreparedAppeal] | None = None,
    progress: Callable | None = None,
) -> dict[str, Any]:
    """Out-of-fold metrics of the training recipe, near-duplicates grouped by fold.

    ``docs`` can pass already prepared texts (segmentation is the slow part); ``progress``
    wraps the fold iterator (e.g. ``tqdm``).
    """
    from sklearn.model_selection import StratifiedGroupKFold

    from understand.features import prepare
    from understand.near_duplicates import near_duplicate_groups
    from understand.training import fit_model

    if docs is None:
        from config.understand import FEATURE_CHARS, MAX_CHARS, SEGMENT_CHARS

        docs = [prepare(r.subject, r.detail, MAX_CHARS, FEATURE_CHARS, SEGMENT_CHARS) for r in rows]
    y = np.array([r.label for r in rows])
    groups = near_duplicate_groups([d.body for d in docs])
    splitter = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=seed)
    splits = list(splitter.split(np.zeros(len(y)), y, groups))
    proba = np.zeros((len(y), len(CATEGORIES)))
    col = {c: i for i, c in enumerate(CATEGORIES)}
    for train_idx, test_idx in progress(splits) if progress else splits:
        model = fit_model([docs[i] for i in train_idx], y[train_idx].tolist(), params)
        fold_proba = model.predict_proba([docs[i] for i in test_idx])
        for j, c in enumerate(model.classes):
            proba[test_idx, col[c]] = fold_proba[:, j]
    out = compute_metrics(y, proba, CATEGORIES)
    out.update(
        folds=folds,
        seed=seed,
        near_duplicate_groups=int(len(set(groups.tolist()))),
        grouped_rows=int(len(y) - len(set(groups.tolist()))),
    )
    return out


def evaluate_rows(model: AppealClassifier, rows: Sequence[LabelledAppeal]) -> dict[str, Any]:
    """Metrics of a trained ``model`` on labelled ``rows`` it should not have seen."""
    from understand.features import prepare

    docs = [
        prepare(r.subject, r.detail, model.max_chars, model.feature_chars, model.segment_chars)
        for r in rows
    ]
    return compute_metrics([r.label for r in rows], model.predict_proba(docs), model.classes)


def format_report(metrics: dict[str, Any]) -> str:
    """Human-readable summary: headline figures, per-class table, confusion, calibration."""
    lines = [
        f"appeals: {metrics['n']}   accuracy: {metrics['accuracy']:.4f}   "
        f"macro-F1: {metrics['macro_f1']:.4f}"
    ]
    if "folds" in metrics:
        lines.append(
            f"({metrics['folds']}-fold stratified CV, seed {metrics['seed']}, "
            f"{metrics['grouped_rows']} near-duplicate rows kept in their group's fold)"
        )
    lines.append("")
    lines.append(f"{'category':<10}{'precision':>10}{'recall':>8}{'F1':>8}{'support':>9}")
    for c, m in metrics["per_class"].items():
        lines.append(
            f"{c:<10}{m['precision']:>10.3f}{m['recall']:>8.3f}{m['f1']:>8.3f}{m['support']:>9}"
        )
    labels = metrics["confusion"]["labels"]
    lines.append("")
    lines.append("confusion matrix (rows = true, columns = predicted, in the order above)")
    for c, row in zip(labels, metrics["confusion"]["matrix"], strict=True):
        lines.append(f"{c:<10}" + "".join(f"{v:>6}" for v in row))
    lines.append("")
    lines.append("calibration: confidence bin, appeals, mean confidence, accuracy")
    for b in metrics["calibration"]:
        lines.append(f"  {b['bin']}  {b['n']:>5}  {b['mean_confidence']:.3f}  {b['accuracy']:.3f}")
    lines.append("review threshold: share classified automatically, accuracy of those")
    for r in metrics["review"]:
        acc = "-" if r["auto_accuracy"] is None else f"{r['auto_accuracy']:.3f}"
        lines.append(f"  {r['threshold']:.1f}  {r['auto_share']:.3f}  {acc}")
    return "\n".join(lines)
