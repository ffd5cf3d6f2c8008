"""Routing evaluation against the departments named in official replies (replies.csv).

What counts, stated once (and printed in the CLI summary):

* **Population**: appeals whose reply shows which department handled them. Headline
  (``in_city``): appeals placed in the centre's city (``A市`` or one of its districts),
  scored on kind, unit and dispatch target. ``other_places``: appeals about other cities
  (or naming no place), scored on the *kind* only (the kind is city-independent: B市's
  住建局 is a 住建 kind; the centre itself would hand them over for transfer), routed as
  if they were the centre's own (:meth:`routing.dispatch.Router.lead_kind`).
  ``all_places`` pools both (kind only).
* **Reference**: the reply's principal department (see
  :func:`routing.department_names.principal_department`): its signature, else the first
  department named with a handling cue (经…调查, 转…办理, …已/将…), else a town or street
  answering for itself (我镇); departments only cited (根据…文件, …出台, 备案) never count.
  Replies naming no handling department (``我局``, a bare mention) are left out and counted.
* **Kind match** (headline accuracy): the lead department's kind equals the reference's
  kind (住建 = 住建局/住建委/房产局 …, aliases from the catalogue). A district government and
  its streets/towns count as one kind: the centre dispatches local matters to the district
  (属地), which passes them to the street or town that then replies.
* **Unit match** (stricter): kind match *and* same unit (``A7县教育局`` ≠ ``A市教育局``),
  scored only on references whose unit the reply makes clear.
* **Dispatch-target match** (looser, what the centre itself decides): the same district
  for district matters (any department or street of it), the same kind of city department
  for city matters; scored on the same references as the unit match.
* **Hold-out**: appeals are split into ``dev`` / ``test`` halves by a hash of their id.
  Rules and keywords were written and tuned, the kind model trained and cross-validated,
  and the reference definition audited, looking at ``dev`` only; ``test`` is the honest
  figure.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from routing.catalogue import FALLBACK_RULE_ID, GOVERNMENT_KIND, STREET_KIND, Catalogue
from routing.department_names import DepartmentMention, principal_department
from routing.dispatch import Router, RoutingDecision
from routing.district import District
from understand.dataset import read_table

SPLITS = ("dev", "test", "all")
#: District government and streets/towns are one dispatch target (属地).
_LOCAL_KINDS = frozenset({GOVERNMENT_KIND, STREET_KIND})


@dataclass(frozen=True)
class ReplyCase:
    """One appeal of replies.csv with its official reply."""

    id: str
    title: str
    content: str
    reply: str


@dataclass(frozen=True)
class Classification:
    """What the classifier said about one appeal (category may be ``None``)."""

    category: str | None
    subcategory: str | None
    confidence: float | None


@dataclass(frozen=True)
class Reference:
    """The department that handled an appeal according to its reply, normalised."""

    kind: str
    unit: str | None
    text: str


def split_of(appeal_id: str) -> str:
    """``dev`` or ``test``: a stable half split by the SHA-256 of the appeal id."""
    return "test" if int(hashlib.sha256(appeal_id.encode()).hexdigest(), 16) % 2 else "dev"


def load_replies(path: Path) -> list[ReplyCase]:
    """Read replies.csv (columns id, subject, detail, reply …, or the competition's own
    names; UTF-8 or GB18030, see :func:`understand.dataset.read_table`) into cases.
    Raises :class:`~understand.dataset.DatasetError` for a file it cannot use."""
    table = read_table(path, ("id", "reply"))
    return [
        ReplyCase(
            id=cells["id"],
            title=cells.get("subject") or "",
            content=cells.get("detail") or "",
            reply=cells["reply"],
        )
        for _, cells in table.rows
    ]


def select(cases: Sequence[ReplyCase], split: str) -> list[ReplyCase]:
    """The cases of one split (``all`` keeps every case)."""
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    return [c for c in cases if split == "all" or split_of(c.id) == split]


def reference_for(reply: str, place: District | None, catalogue: Catalogue) -> Reference | None:
    """The reply's principal department with its unit resolved against the appeal's place.

    A bare ``区``/``县`` prefix or a street means the appeal's district; a bare ``市`` means
    the city, except when the appeal's district is itself a county-level city (``A9市``),
    where ``市教育局`` is ambiguous and the unit is left unknown.
    """
    mention: DepartmentMention | None = principal_department(reply, catalogue)
    if mention is None:
        return None
    district = place.district if place else None
    unit = mention.unit
    if unit is None and mention.level in ("district", "street"):
        unit = district
    elif unit is None and mention.level == "city":
        ambiguous = district is not None and district.endswith("市")
        unit = None if ambiguous else (place.city if place else catalogue.city)
    return Reference(kind=mention.kind, unit=unit, text=mention.text)


def dispatch_target(kind: str, unit: str, city: str) -> tuple[str, str]:
    """The centre's first-level dispatch target: a district as a whole, or a city department.

    12345 centres hand district matters to the district (区县), which passes them to its
    bureau, street or town; city matters go straight to a city department.
    """
    return ("district", unit) if unit != city else ("city", kind)


def kinds_match(lead_kind: str, reference_kind: str) -> bool:
    """Same kind of department, with district government ≡ its streets and towns."""
    if lead_kind in _LOCAL_KINDS and reference_kind in _LOCAL_KINDS:
        return True
    return lead_kind == reference_kind


@dataclass
class Tally:
    """Counts for one way of routing (with or without classifier)."""

    scored: int = 0
    kind_matches: int = 0
    unit_scored: int = 0
    unit_matches: int = 0
    target_matches: int = 0
    fallbacks: int = 0
    by_reference_kind: Counter[str] = field(default_factory=Counter)
    hits_by_reference_kind: Counter[str] = field(default_factory=Counter)
    confusions: Counter[tuple[str, str]] = field(default_factory=Counter)

    def add(self, decision: RoutingDecision, ref: Reference, city: str) -> None:
        """Score one decision against its reference (``city``: the centre's city)."""
        self.scored += 1
        self.by_reference_kind[ref.kind] += 1
        self.fallbacks += decision.fallback
        lead = decision.lead
        if kinds_match(lead.kind, ref.kind):
            self.kind_matches += 1
            self.hits_by_reference_kind[ref.kind] += 1
        else:
            self.confusions[(ref.kind, lead.kind)] += 1
        if ref.unit is not None:
            self.unit_scored += 1
            self.unit_matches += kinds_match(lead.kind, ref.kind) and ref.unit in lead.serves
            self.target_matches += dispatch_target(lead.kind, lead.serves[0], city) == (
                dispatch_target(ref.kind, ref.unit, city)
            )

    def add_kind(self, lead_kind: str, ref: Reference, fallback: bool) -> None:
        """Score a kind only (appeals outside the centre's city)."""
        self.scored += 1
        self.by_reference_kind[ref.kind] += 1
        self.fallbacks += fallback
        if kinds_match(lead_kind, ref.kind):
            self.kind_matches += 1
            self.hits_by_reference_kind[ref.kind] += 1
        else:
            self.confusions[(ref.kind, lead_kind)] += 1

    def summary(self) -> dict[str, object]:
        """JSON-ready figures."""
        return {
            "scored": self.scored,
            "kind_accuracy": _ratio(self.kind_matches, self.scored),
            "unit_scored": self.unit_scored,
            "unit_accuracy": _ratio(self.unit_matches, self.unit_scored),
            "dispatch_target_accuracy": _ratio(self.target_matches, self.unit_scored),
            "fallback_share": _ratio(self.fallbacks, self.scored),
            "recall_by_reference_kind": {
                k: _ratio(self.hits_by_reference_kind[k], n)
                for k, n in self.by_reference_kind.most_common()
            },
            "top_confusions": [
                {"reference": r, "lead": lead, "count": n}
                for (r, lead), n in self.confusions.most_common(8)
            ],
        }


def _ratio(a: int, b: int) -> float | None:
    return round(a / b, 4) if b else None


@dataclass
class EvaluationReport:
    """Routing accuracy on one split, with and (if available) without the classifier."""

    split: str
    cases: int = 0
    out_of_area: int = 0
    no_reference: int = 0
    keywords_only: Tally = field(default_factory=Tally)
    with_classifier: Tally | None = None
    classifier_note: str = ""
    #: Kind-only figures for appeals about other cities or naming no place.
    other_places: Tally = field(default_factory=Tally)
    other_places_with_classifier: Tally | None = None

    def all_places(self, with_classifier: bool = False) -> dict[str, object]:
        """Kind accuracy pooled over in-city and other appeals."""
        a = self.with_classifier if with_classifier else self.keywords_only
        b = self.other_places_with_classifier if with_classifier else self.other_places
        if a is None or b is None:
            return {"scored": 0, "kind_accuracy": None}
        n = a.scored + b.scored
        return {"scored": n, "kind_accuracy": _ratio(a.kind_matches + b.kind_matches, n)}

    def summary(self) -> dict[str, object]:
        """JSON-ready report, including the definitions the figures rest on."""
        return {
            "split": self.split,
            "cases": self.cases,
            "out_of_area": self.out_of_area,
            "no_reference_in_reply": self.no_reference,
            "keywords_and_district": self.keywords_only.summary(),
            "with_classifier": self.with_classifier.summary() if self.with_classifier else None,
            "other_places": self.other_places.summary(),
            "all_places": self.all_places(),
            "all_places_with_classifier": (self.all_places(True) if self.with_classifier else None),
            "classifier": self.classifier_note,
            "definition": (
                "population: appeals whose reply names the handling department; headline "
                "(keywords_and_district / with_classifier) = appeals placed in the centre's "
                "city, other_places = other cities or no place (kind only), all_places = "
                "both (kind only); reference: the reply's signing department, else the first "
                "department named with a handling cue, else a town/street answering for "
                "itself (province bodies, city government, 12345 and cited bodies skipped); "
                "kind match: same kind of department, district government = its "
                "streets/towns; unit match: same kind and same city/district, on references "
                "whose unit is clear; dispatch target: same district for district matters, "
                "same city department kind for city matters"
            ),
        }


def evaluate(
    cases: Sequence[ReplyCase],
    router: Router,
    classifications: Sequence[Classification] | None = None,
    progress: Callable[[Iterable[int]], Iterable[int]] = lambda it: it,
    split: str = "all",
) -> EvaluationReport:
    """Route every case and compare the lead department with the reply's reference.

    ``classifications`` (aligned with ``cases``) adds the with-classifier figures; the
    keywords-and-district figures are always computed with ``category=None``.
    """
    catalogue = router.catalogue
    report = EvaluationReport(split=split, cases=len(cases))
    if classifications is not None:
        report.with_classifier = Tally()
        report.other_places_with_classifier = Tally()
    for i in progress(range(len(cases))):
        case = cases[i]
        place = router.locate(case.title, case.content)
        ref = reference_for(case.reply, place, catalogue)
        if ref is None:
            report.no_reference += 1
            continue
        if place is None or place.city != catalogue.city:
            # Another city's (or an unknown city's) department: the kind still tells.
            report.out_of_area += 1
            kind, rule_id = router.lead_kind(case.title, case.content)
            report.other_places.add_kind(kind, ref, rule_id == FALLBACK_RULE_ID)
            if classifications is not None and report.other_places_with_classifier is not None:
                c = classifications[i]
                kind, rule_id = router.lead_kind(
                    case.title,
                    case.content,
                    c.category,
                    c.subcategory,
                    category_confidence=c.confidence,
                )
                report.other_places_with_classifier.add_kind(kind, ref, rule_id == FALLBACK_RULE_ID)
            continue
        decision = router.route(case.title, case.content, district=place)
        report.keywords_only.add(decision, ref, catalogue.city)
        if classifications is not None and report.with_classifier is not None:
            c = classifications[i]
            decision = router.route(
                case.title,
                case.content,
                c.category,
                c.subcategory,
                place,
                category_confidence=c.confidence,
            )
            report.with_classifier.add(decision, ref, catalogue.city)
    return report


def classify_cases(cases: Sequence[ReplyCase]) -> tuple[list[Classification] | None, str]:
    """Categories from the ``understand`` classifier, or ``None`` and the reason it is absent.

    The classifier is optional here: routing must work on keywords and district alone, and
    the classifier is built separately (``understand.load_classifier`` raises
    ``FileNotFoundError`` until a model has been trained).
    """
    try:
        import understand

        understand.load_classifier()
        results = understand.classify_batch([(c.title, c.content) for c in cases])
    except (ImportError, AttributeError, FileNotFoundError, OSError) as exc:
        return None, f"not used: {type(exc).__name__}: {exc}"
    return (
        [
            Classification(
                category=getattr(r, "category", None),
                subcategory=getattr(r, "subcategory", None),
                confidence=getattr(r, "confidence", None),
            )
            for r in results
        ],
        "understand.classify_batch",
    )
