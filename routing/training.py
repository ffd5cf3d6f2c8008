"""Train and cross-validate the kind model on the ``dev`` half of replies.csv.

The ``test`` half is never read here: :func:`training_examples` keeps ``dev`` only unless a
caller explicitly asks for another split, and ``hotline routing train`` has no option to.
Labels are the reply-derived references of :mod:`routing.evaluation` (every city: the
kind of department is city-independent, B市's 住建局 is a 住建 kind too).

The centre's own department choices can be added: reviewers' decisions that name a
department (the corrections file of ``hotline review decide --department``) and
reassignments (改派, harvested by ``hotline routing harvest-reassignments``). A dispatcher's
choice is a cleaner label than a reply's signature, and an appeal once misrouted is then
routed to the chosen kind.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from routing.catalogue import Catalogue
from routing.dispatch import Router
from routing.evaluation import ReplyCase, kinds_match, reference_for, select
from routing.kind_model import LOCAL_KIND, KindModel, fit_kind_model
from routing.text import router_text
from understand.dataset import read_table_unless_blank

#: What a corrections file must have: the appeal's text and the chosen department.
CORRECTION_COLUMNS = ("subject", "detail", "department_code")
#: Regularisation chosen by 5-fold cross-validation within dev (see ``routing cv``).
DEFAULT_C = 3.0


@dataclass(frozen=True)
class Example:
    """One labelled appeal: text, the keyword rules' verdict and the reference kind."""

    case: ReplyCase
    tags: tuple[str, ...]
    label: str


def training_examples(
    cases: Sequence[ReplyCase], catalogue: Catalogue, split: str = "dev"
) -> list[Example]:
    """Appeals of ``split`` whose reply names a handling department, with rule verdicts."""
    rules = Router(catalogue)
    out = []
    for case in select(cases, split):
        ref = reference_for(case.reply, rules.locate(case.title, case.content), catalogue)
        if ref is None:
            continue
        out.append(
            Example(case, tuple(rules.kind_tags(case.title, case.content)), _label(ref.kind))
        )
    return out


def correction_examples(paths: Sequence[Path], catalogue: Catalogue) -> tuple[list[Example], int]:
    """``(examples, skipped)`` from corrections CSVs (``subject``, ``detail``,
    ``department_code`` …: reviewers' corrections, harvested reassignments): one example
    per appeal text whose department was chosen, labelled with that department's kind; a
    later row (in file order, files in the order given) on the same text wins.

    Rows naming no department are not routing labels and are ignored; ``skipped`` counts
    rows whose code is not in ``catalogue`` (a department since removed). A file that
    cannot be read or lacks :data:`CORRECTION_COLUMNS` raises
    :class:`~understand.dataset.DatasetError`.
    """
    rules = Router(catalogue)
    chosen: dict[tuple[str, str], tuple[str, str]] = {}
    skipped = 0
    for row in _rows(paths):
        code = (row.get("department_code") or "").strip()
        if not code:
            continue
        try:
            department = catalogue.department(code)
        except KeyError:
            skipped += 1
            continue
        text = (row.get("subject") or "", row.get("detail") or "")
        chosen.pop(text, None)  # re-insert: the latest decision keeps its place last
        chosen[text] = (row.get("appeal_id") or "", department.kind)
    examples = []
    for (title, content), (appeal_id, kind) in chosen.items():
        case = ReplyCase(appeal_id, title, content, reply="")
        examples.append(Example(case, tuple(rules.kind_tags(title, content)), _label(kind)))
    return examples, skipped


def _label(kind: str) -> str:
    """The model's label for a department kind: district government and streets are one."""
    return LOCAL_KIND if kinds_match(kind, LOCAL_KIND) else kind


def _rows(paths: Sequence[Path]):
    """The rows of corrections files this project wrote (formula cells unescaped); a file
    that is blank, or only a BOM (Excel's empty sheet), has none."""
    for path in paths:  # UTF-8, or GB18030 if a person saved it from Excel
        table = read_table_unless_blank(path, CORRECTION_COLUMNS, unescape=True)
        yield from (cells for _, cells in table.rows) if table else ()


def fit(examples: Sequence[Example], c: float = DEFAULT_C, **meta: object) -> KindModel:
    """Fit the kind model on these examples."""
    return fit_kind_model(  # the text as the router reads it (simplified characters)
        [router_text(e.case.title) for e in examples],
        [router_text(e.case.content) for e in examples],
        [e.tags for e in examples],
        [e.label for e in examples],
        c=c,
        meta={"examples": len(examples), "c": c, **meta},
    )


def train_kind_model(
    cases: Sequence[ReplyCase],
    catalogue: Catalogue,
    out: Path | None = None,
    c: float = DEFAULT_C,
    corrections: Sequence[Example] = (),
) -> KindModel:
    """Train on every ``dev`` example (never ``test``), plus ``corrections`` (the centre's
    department choices, see :func:`correction_examples`; each replaces a reply example with
    the same text), and optionally save the artifact."""
    examples = training_examples(cases, catalogue, "dev")
    trained_on = "replies.csv dev half (sha256(id) even)"
    if corrections:
        fixed = {(e.case.title, e.case.content) for e in corrections}
        examples = [e for e in examples if (e.case.title, e.case.content) not in fixed]
        examples += corrections
        trained_on += f" + {len(corrections)} department choices (--corrections)"
    model = fit(examples, c=c, trained_on=trained_on)
    if out is not None:
        model.save(out)
    return model


def cross_validate(
    examples: Sequence[Example], catalogue: Catalogue, folds: int = 5, c: float = DEFAULT_C
) -> dict[str, object]:
    """Kind accuracy of rules alone vs rules + model, ``folds``-fold CV within ``examples``."""
    order = list(range(len(examples)))
    random.Random(0).shuffle(order)
    rules = Router(catalogue)
    hits_rules = hits_model = 0
    for f in range(folds):
        held = set(order[f::folds])
        model = fit([e for i, e in enumerate(examples) if i not in held], c=c)
        router = Router(catalogue, model)
        for i in held:
            e = examples[i]
            hits_rules += kinds_match(rules.lead_kind(e.case.title, e.case.content)[0], e.label)
            hits_model += kinds_match(router.lead_kind(e.case.title, e.case.content)[0], e.label)
    n = len(examples)
    return {
        "examples": n,
        "folds": folds,
        "c": c,
        "rules_kind_accuracy": round(hits_rules / n, 4) if n else None,
        "model_kind_accuracy": round(hits_model / n, 4) if n else None,
    }
