"""The CPU-bound step of the understand stage: appeal records in, records to publish out.

Decode, segment, classify, route and serialize a batch of ``appeals.received`` records.
Runs in a thread of the worker or in triage processes (``HOTLINE_TRIAGE_PROCESSES``), so
it imports no faust app and returns only plain, picklable results.
"""

from __future__ import annotations

import gc
import logging
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from zoneinfo import ZoneInfo

from config.intake import IntakeSettings
from intake.errors import ErrorCode, IntakeError
from intake.fields import parse_json_record
from models.appeal import Appeal
from routing.dispatch import default_router, for_emergency, route_batch
from streams.outcome_wires import Wire, outcome_wires
from triage.outcome import classification_of, decide_batch
from understand.emergency_model import POSSIBLE_EMERGENCY

log = logging.getLogger(__name__)
TZ = ZoneInfo(IntakeSettings().timezone)


@dataclass(frozen=True)
class Triaged:
    """One record's result: what to publish, or why it could not be triaged."""

    appeal_id: str | None
    channel: str | None = None
    wires: list[Wire] = field(default_factory=list)
    review: bool = False
    emergency: str | None = None  # "119 (reason)", for the log
    #: reviewed within the emergency wait: flagged, or a possible emergency
    urgent: bool = False
    error_code: str | None = None  # set when the record goes to the dead-letter topic
    error: str | None = None


@cache
def _classifier():
    from understand import load_classifier

    return load_classifier()


def warm_up() -> None:
    """Load the classifier, the segmenter's dictionary and the router (once per process).

    Then freezes the garbage collector's view of everything loaded so far: the models and
    jieba's dictionary are long-lived objects that every full collection walked again
    (about 90 ms each, 7 % of the triage time); frozen, collections skip them.
    """
    classifier = _classifier()
    classifier.classify_batch([("预热", "小区噪音扰民")])
    default_router()
    # a worker keeps this model until it restarts: the log says which one it runs
    meta = classifier.meta
    log.info("classifier %s loaded (%s examples, %s of them reviewers' corrections)",
             classifier.version, meta.get("n_examples", "?"), meta.get("n_corrections", 0))  # fmt: skip
    if classifier.emergency_model is None:
        log.warning("classifier %s has no emergency model (trained before it): only the "
                    "emergency rules flag calls for help; run `hotline train`", classifier.version)  # fmt: skip
    gc.collect()
    gc.freeze()


def _triage(appeals: list[Appeal]) -> list[Triaged]:
    classifier = _classifier()
    results = classifier.classify_batch([(a.title, a.content) for a in appeals])
    now = datetime.now(TZ)
    pairs = [
        (appeal, classification_of(appeal, result, classifier.version, now))
        for appeal, result in zip(appeals, results, strict=True)
    ]
    out = []
    for (appeal, _), outcome in zip(
        pairs, decide_batch(pairs, route_batch, now, for_emergency), strict=True
    ):
        e = outcome.emergency
        out.append(
            Triaged(
                appeal.appeal_id,
                appeal.channel,
                outcome_wires(appeal.appeal_id, outcome),
                review=outcome.review is not None,
                emergency=f"{e.service} ({e.reason})" if e is not None else None,
                urgent=e is not None
                or (outcome.review is not None and outcome.review.reason == POSSIBLE_EMERGENCY),
            )
        )
    return out


def triage_records(values: list[bytes]) -> list[Triaged]:
    """Triage a batch of ``Appeal`` JSON records, one result per record, in order.

    A record that is not a valid ``Appeal`` gets its intake error code; if the batch
    fails (a bug, a broken model), appeals are retried one by one and those that still
    fail get ``INTERNAL``: the caller dead-letters them and goes on.
    """
    out: list[Triaged | None] = [None] * len(values)
    appeals: list[tuple[int, Appeal]] = []
    for i, value in enumerate(values):
        try:
            appeals.append((i, parse_json_record(value or b"", Appeal, "appeal")))
        except IntakeError as exc:
            out[i] = Triaged(None, error_code=str(exc.code), error=exc.reason)
    try:
        done = _triage([a for _, a in appeals])
    except Exception:
        log.exception("triage failed for a batch of %d; retrying one by one", len(appeals))
        done = [_triage_one(a) for _, a in appeals]
    for (i, _), result in zip(appeals, done, strict=True):
        out[i] = result
    return out  # type: ignore[return-value]  (every slot is filled)


def _triage_one(appeal: Appeal) -> Triaged:
    try:
        return _triage([appeal])[0]
    except Exception as exc:  # a bug or a missing model: the appeal is kept for replay
        log.exception("triage failed for %s", appeal.appeal_id)
        return Triaged(
            appeal.appeal_id,
            appeal.channel,
            error_code=str(ErrorCode.INTERNAL),
            error=f"{type(exc).__name__}: {exc}",
        )
