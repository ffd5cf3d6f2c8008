"""Decide, for one appeal and its classification, which events to publish.

Pure: the stream passes in the appeal, the classifier's result and a routing function,
and publishes what comes back. Order of publication is the order of the fields:
emergency transfer first (ahead of normal dispatch), then review or assignment.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from dataclasses import replace as _replace
from datetime import datetime

from models.appeal import Appeal
from models.assignment import Assignment
from models.classification import Alternative, Classification, Emergency
from models.emergency import EmergencyTransfer
from models.review import ReviewDecision, ReviewRequest
from routing.assignment_event import assignment_from_decision
from routing.catalogue import Catalogue, Department, load_catalogue
from routing.dispatch import RoutingDecision
from routing.district import District
from understand.outage import OUTAGE_TAG, reports_outage
from understand.refinement import Refinement

#: route(title, content, category, subcategory, district, *, category_confidence, address)
#: -> decision (``routing.dispatch.route``)
RouteFn = Callable[..., RoutingDecision]
#: route_many([(title, content, category, subcategory, district, category_confidence,
#: address)]) -> decisions (``routing.dispatch.route_batch``)
RouteManyFn = Callable[[list[tuple]], list[RoutingDecision]]
#: for_emergency(decision, service, reason, subcategory) -> decision
#: (``routing.dispatch.for_emergency``)
EmergencyRouteFn = Callable[[RoutingDecision, str, str, str | None], RoutingDecision]


@dataclass
class Outcome:
    """Events to publish for one appeal."""

    classification: Classification
    emergency: EmergencyTransfer | None = None
    review: ReviewRequest | None = None
    assignment: Assignment | None = None


def classification_of(appeal: Appeal, result, model_version: str, now: datetime) -> Classification:
    """The ``Classification`` record of a classifier result (``understand.ClassificationResult``)."""
    emergency = None
    if result.emergency is not None:
        e = result.emergency
        emergency = Emergency(reason=e.reason, service=e.service, evidence=e.evidence)
    return Classification(
        appeal_id=appeal.appeal_id, category=result.category, confidence=round(float(result.confidence), 4),
        alternatives=[Alternative(category=c, probability=round(float(p), 4)) for c, p in result.alternatives],
        needs_review=bool(result.needs_review), model_version=model_version, classified_at=now,
        subcategory=result.subcategory, topic=result.topic, emergency=emergency, review_reason=result.review_reason,
    )  # fmt: skip


def decide(
    appeal: Appeal,
    classification: Classification,
    route: RouteFn,
    now: datetime,
    emergency_route: EmergencyRouteFn | None = None,
) -> Outcome:
    """Emergency transfer if flagged; review when confidence is low; otherwise an assignment."""
    decision = None
    if not classification.needs_review:
        decision = route(*route_request(appeal, classification)[:5],
                         category_confidence=classification.confidence,
                         address=appeal.address)  # fmt: skip
    return outcome_of(appeal, classification, decision, now, emergency_route)


def decide_batch(
    pairs: Sequence[tuple[Appeal, Classification]],
    route_many: RouteManyFn,
    now: datetime,
    emergency_route: EmergencyRouteFn | None = None,
) -> list[Outcome]:
    """:func:`decide` for many appeals, with one routing call for all that need it."""
    wanted = [i for i, (_, c) in enumerate(pairs) if not c.needs_review]
    decisions = route_many([route_request(*pairs[i]) for i in wanted])
    by_index = dict(zip(wanted, decisions, strict=True))
    return [
        outcome_of(a, c, by_index.get(i), now, emergency_route) for i, (a, c) in enumerate(pairs)
    ]


def route_request(appeal: Appeal, classification: Classification) -> tuple:
    """``(title, content, category, subcategory, district, category_confidence, address)``:
    the address is read for the place only (a street or town it names), not for keywords."""
    c = classification
    return (appeal.title, appeal.content, c.category, c.subcategory, appeal.district,
            c.confidence, appeal.address)  # fmt: skip


def outcome_of(
    appeal: Appeal,
    classification: Classification,
    decision: RoutingDecision | None,
    now: datetime,
    emergency_route: EmergencyRouteFn | None = None,
) -> Outcome:
    """The events for one appeal; ``decision`` is ``None`` exactly when it needs review.

    ``emergency_route`` gives an emergency's decision its follow-up department when no
    rule covered it (:func:`routing.dispatch.for_emergency`)."""
    outcome = Outcome(classification)
    if classification.emergency is not None:
        outcome.emergency = emergency_transfer(appeal, classification.emergency, now)
    if classification.needs_review:
        outcome.review = ReviewRequest(
            appeal_id=appeal.appeal_id, title=appeal.title, content=appeal.content,
            suggested_category=classification.category, confidence=classification.confidence,
            reason=classification.review_reason or "low_confidence", requested_at=now,
            suggested_subcategory=classification.subcategory,
            alternatives=[a.category for a in classification.alternatives],
            emergency=f"{outcome.emergency.service} {outcome.emergency.reason}" if outcome.emergency else None,
        )  # fmt: skip
        return outcome
    c = classification
    outcome.assignment = _assign(
        appeal, decision, now, category=c.category, subcategory=c.subcategory,
        confidence=c.confidence, topic=c.topic, emergency=c.emergency,
        emergency_route=emergency_route,
    )  # fmt: skip
    return outcome


def emergency_transfer(appeal: Appeal, emergency: Emergency, now: datetime) -> EmergencyTransfer:
    """The transfer of ``appeal`` to ``emergency.service``, with what the desk needs to act."""
    e = emergency
    return EmergencyTransfer(
        appeal_id=appeal.appeal_id, service=e.service, reason=e.reason, evidence=e.evidence,
        title=appeal.title, content=appeal.content, flagged_at=now, district=appeal.district,
        address=appeal.address, contact_ref=appeal.contact_ref, channel=appeal.channel,
        received_at=appeal.received_at,
    )  # fmt: skip


def _assign(
    appeal: Appeal, decision: RoutingDecision, now: datetime, *, category: str | None,
    subcategory: str | None, confidence: float | None, topic: str | None,
    emergency: Emergency | None, emergency_route: EmergencyRouteFn | None,
) -> Assignment:  # fmt: skip
    """The first assignment of an appeal, reviewed or not: an emergency's decision gets its
    follow-up department (``emergency_route``) and the SLA policy for safety cases (hours,
    not days); a reported cut in supply the outage tag (:mod:`understand.outage`)."""
    if emergency is not None and emergency_route is not None:
        decision = emergency_route(decision, emergency.service, emergency.reason, subcategory)
    assignment = assignment_of(appeal, decision, category, subcategory, confidence, now)
    assignment.topic = topic
    if emergency is not None:
        assignment.urgency = "emergency"
    if reports_outage(appeal.title, appeal.content):
        assignment.tags = [OUTAGE_TAG]  # the outage time limits: a supply cut, not a question
    return assignment


def assignment_of(
    appeal: Appeal, decision: RoutingDecision, category: str | None, subcategory: str | None,
    confidence: float | None, now: datetime, hop: int = 1,
) -> Assignment:  # fmt: skip
    """The assignment event of one routing decision."""
    assignment = assignment_from_decision(
        decision, appeal_id=appeal.appeal_id, assigned_at=now, hop=hop, category=category,
        subcategory=subcategory, category_confidence=confidence,
    )  # fmt: skip
    assignment.appeal_type = appeal.appeal_type
    assignment.urgency = appeal.urgency  # the agent's 紧急 mark; an emergency overrides it
    assignment.channel, assignment.received_at = appeal.channel, appeal.received_at
    assignment.title, assignment.content = appeal.title, appeal.content
    assignment.address, assignment.attachments = appeal.address, appeal.attachments
    assignment.contact_ref = appeal.contact_ref
    return assignment


def after_review(
    appeal: Appeal,
    decision: ReviewDecision,
    route: RouteFn,
    now: datetime,
    lead: Department | None = None,
    refinement: Refinement | None = None,
    emergency_route: EmergencyRouteFn | None = None,
    catalogue: Catalogue | None = None,
) -> Assignment:
    """The assignment after a reviewer decided: their category, and their department if given.

    ``lead`` is the catalogue ``Department`` named by ``decision.department_code`` (the
    caller looks it up and dead-letters unknown codes). ``refinement`` is what the text adds
    under the reviewer's category (:func:`understand.refinement.refine`): its sub-category
    and topic, and the emergency flag, pick the time limits as for an appeal not reviewed.
    An emergency the reviewer confirmed (:func:`reviewed_emergency`) does the same.

    A department serving another district than the one routed to means the reviewer
    corrected the place: the appeal is routed again in the department's district
    (:func:`reviewed_place`), so the assignment's district and its assisting departments
    are that district's, not the old one's. The lead is never also an assisting
    department. ``catalogue`` is the one ``lead`` comes from (default: the configured one).
    """
    subcategory = refinement.subcategory if refinement else decision.subcategory

    def route_in(district: District | str | None) -> RoutingDecision:
        return route(appeal.title, appeal.content, decision.category, subcategory, district,
                     category_confidence=1.0, address=appeal.address)  # fmt: skip

    routed = route_in(appeal.district)
    moved_to = None
    if lead is not None:
        catalogue = catalogue if catalogue is not None else load_catalogue()
        place = reviewed_place(lead, routed.district, catalogue)
        if place != routed.district:
            moved_to = place
            routed = route_in(place)
        routed = _replace(routed, assisting=_serving(routed.assisting, place, catalogue))
    assignment = _assign(
        appeal, routed, now, category=decision.category, subcategory=subcategory,
        confidence=1.0, topic=refinement.topic if refinement else None,
        emergency=reviewed_emergency(decision, refinement), emergency_route=emergency_route,
    )  # fmt: skip
    if lead is not None:
        assignment.lead_code, assignment.lead_name = lead.code, lead.name
        # the lead is not also assisting (an emergency's follow-up may name assisting
        # departments of its own, so this is checked on the assignment)
        assignment.assisting = [a for a in assignment.assisting or () if a.code != lead.code]
    assignment.rule_id = "review"
    assignment.decision_id = decision.decision_id
    # the reviewer's tags and the text's, less what the reviewer found the text wrong about
    tags = (set(decision.tags or ()) | set(assignment.tags or ())) - set(decision.dismissed or ())
    assignment.tags = sorted(tags) or None
    assignment.rule_explanation = f"人工复核：{decision.reviewer} 定为「{decision.category}」" + (
        f"，主办 {assignment.lead_name}" + (f"，地点改为{moved_to.name}" if moved_to else "")
        if lead is not None
        else f"；按目录规则派单（{assignment.rule_explanation}）"
    )
    assignment.fallback = False
    return assignment


def reviewed_place(
    lead: Department, routed: District | None, catalogue: Catalogue
) -> District | None:
    """Where an appeal is once a reviewer chose ``lead`` for it (routed to ``routed``).

    * ``lead`` serves the routed district → the routed district;
    * ``lead`` is a city department (it serves ``catalogue.city``: 公安局, 供水公司 …) → the
      routed district if it is in that city (a city bureau handles matters of every
      district; the district still says where and keeps its street), else the city alone
      (the appeal was about another city or no known place, and the reviewer placed it in
      this one);
    * ``lead`` serves other districts → the (first) district it serves: the reviewer
      corrected the place (a wrong district in the text or address), and is not refused.
    """
    city = catalogue.city
    in_city = routed is not None and routed.city == city
    if in_city and routed.district is not None and routed.district in lead.serves:
        return routed
    if city in lead.serves:
        return routed if in_city else District(city=city, district=None)
    districts = [unit for unit in lead.serves if unit != city]
    return District(city=city, district=districts[0]) if districts else routed


def _serving(
    assisting: Sequence[Department], place: District | None, catalogue: Catalogue
) -> tuple[Department, ...]:
    """``assisting`` without departments of a district other than ``place``'s (city
    departments stay)."""
    here = {catalogue.city, place.district} if place is not None else {catalogue.city}
    return tuple(d for d in assisting if here.intersection(d.serves))


#: The reason a transfer carries when the reviewer who confirmed the emergency gave none.
REVIEWED_EMERGENCY_REASON = "人工复核确认紧急"


def reviewed_emergency(
    decision: ReviewDecision, refinement: Refinement | None = None
) -> Emergency | None:
    """The emergency a reviewer confirmed (``decision.emergency_service``), else the one
    the emergency rules find in the text (``refinement.emergency``) unless the reviewer
    dismissed it, else None."""
    if decision.emergency_service:
        return Emergency(
            reason=(decision.emergency_reason or "").strip() or REVIEWED_EMERGENCY_REASON,
            service=decision.emergency_service,
            evidence=f"人工复核：{decision.reviewer}",
        )
    if "emergency" in (decision.dismissed or ()):
        return None
    return refinement.emergency if refinement else None


def review_transfer(
    appeal: Appeal, decision: ReviewDecision, refinement: Refinement | None, now: datetime
) -> EmergencyTransfer | None:
    """The transfer a decision asks for, published ahead of its assignment: None without
    ``emergency_service``, or when the emergency rules transferred the appeal to that
    service already (at triage; ``refinement`` runs the same rules on the same text)."""
    if not decision.emergency_service:
        return None
    flagged = refinement.emergency if refinement else None
    if flagged is not None and flagged.service == decision.emergency_service:
        return None
    return emergency_transfer(appeal, reviewed_emergency(decision), now)
