"""Routing decisions (派单): which department leads an appeal, who assists, and why.

Pure logic over the dispatch catalogue: no Kafka, no Redis, no model. Every decision names
the rule that fired and explains it in words staff read, so a wrong dispatch can be traced
to a catalogue line and fixed there.

How a decision is made:

1. The district comes from the caller or, if missing, from the address, title and content;
   an appeal naming no district but a street or town of the catalogue (in its address
   first, else in its title or content) is in its district, and that street or town
   assists wherever the decision has a street assist (属地).
2. Every rule is scored: +3 per keyword in the title, +1 per keyword only in the content,
   +2 when the (confident enough) category is one of the rule's categories, +2 more for a
   matching subcategory. The best score wins; ties go to the rule listed first.
3. The rule's lead kind is resolved in the appeal's district (``level = "district"``) or
   the city (``level = "city"``); a district without that kind falls back to the city's.
4. No rule scoring → the district government (属地兜底), or the 12345 centre itself when
   the district is unknown (人工派单); appeals about another city go to the centre for
   transfer (转办). These decisions are marked ``fallback``.

With a trained kind model (:mod:`routing.kind_model`, loaded by :func:`default_router`)
step 2's verdict becomes one of the model's features and the model picks the lead *kind*:

* model agrees with the best rule → the rule's decision (level, assisting), explanation
  extended with ``model: kind X (p=…) agrees``;
* model disagrees (and its probability ≥ ``HOTLINE_ROUTING_MIN_KIND_PROBABILITY``, or no
  rule fired) → rule id ``model``: the department of that kind in the appeal's district
  (the city's when the district has none or is unknown); kind ``zf`` (属地) → the district
  government with the street or town the text names as assisting; ``zf`` with the district
  unknown → the best rule's decision (there is no district government to send it to), the
  centre by hand only when no rule fired; a kind without a department in the catalogue
  → likewise the best rule's decision, the fallback only when no rule fired;
* without the model file everything above still works on the rules alone.

An appeal flagged as an emergency gets one more step (:meth:`Router.for_emergency`, called
by the understand stage): a decision nothing in the text backs goes to the catalogue's
department for the emergency service or reason (rule id ``emergency``), the city's when
the district is unknown.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from config.routing import MIN_CATEGORY_CONFIDENCE, MIN_KIND_PROBABILITY
from routing.catalogue import (
    FALLBACK_RULE_ID,
    GOVERNMENT_KIND,
    STREET_KIND,
    Catalogue,
    Department,
    Rule,
    load_catalogue,
)
from routing.department_names import find_mentions
from routing.district import District, catalogue_districts, extract_district
from routing.keyword_index import KeywordIndex
from routing.kind_model import CONTENT_CHARS as KIND_CONTENT_CHARS
from routing.kind_model import (
    LOCAL_KIND,
    NO_RULE,
    KindModel,
    KindPrediction,
    load_kind_model,
)
from routing.text import router_text

#: Rule id of decisions for appeals about a city the centre does not serve.
OUT_OF_AREA_RULE_ID = "out-of-area"
#: Rule id of emergencies no rule covered, sent to the catalogue's department for the service.
EMERGENCY_RULE_ID = "emergency"
#: Rule id of decisions whose lead kind the trained kind model chose against the rules.
MODEL_RULE_ID = "model"
TITLE_WEIGHT = 3
CONTENT_WEIGHT = 1
CATEGORY_WEIGHT = 2
SUBCATEGORY_WEIGHT = 2
#: Only the start of long contents is searched for keywords: the problem is stated first,
#: long tails quote laws and earlier correspondence that mention every department's words.
CONTENT_CHARS = 600
#: At most this many content-only keywords count per rule: a long story brushes against
#: many rules' vocabulary, the title and the first hits say what the appeal is about.
MAX_CONTENT_HITS = 3


@dataclass(frozen=True)
class RoutingDecision:
    """Where one appeal goes and why.

    ``confidence`` is a heuristic in [0, 1] from the winning score and its margin over the
    runner-up (not a calibrated probability); 0 for fallback decisions.
    """

    lead: Department
    assisting: tuple[Department, ...]
    district: District | None
    rule_id: str
    rule_name: str
    explanation: str
    confidence: float
    fallback: bool
    matched_keywords: tuple[str, ...] = field(default=())
    #: The rule took the appeal only because the verdict before it was 属地 (the best rule's
    #: or the kind model's) and, the district being unknown, there was no district
    #: government to send it to: what backs the rule is then not why it was chosen.
    stand_in: bool = False

    @property
    def lead_code(self) -> str:
        """Code of the lead department (its topic is ``assign.<code>``)."""
        return self.lead.code

    @property
    def lead_name(self) -> str:
        """Chinese name of the lead department."""
        return self.lead.name

    def as_dict(self) -> dict[str, object]:
        """Plain JSON-ready form for CLIs and logs."""
        return {
            "lead": {"code": self.lead.code, "name": self.lead.name},
            "assisting": [{"code": d.code, "name": d.name} for d in self.assisting],
            "district": self.district.name if self.district else None,
            "rule_id": self.rule_id,
            "rule_name": self.rule_name,
            "explanation": self.explanation,
            "confidence": round(self.confidence, 3),
            "fallback": self.fallback,
            "matched_keywords": list(self.matched_keywords),
        }


#: Rule keywords found in an appeal: (in the title, in the head of the content).
_Hits = tuple[set[str], set[str]]


@dataclass(frozen=True)
class _Score:
    rule: Rule
    score: int
    keywords: tuple[str, ...]


#: One appeal for :meth:`Router.route_batch`: ``(title, content)`` optionally followed by
#: ``category, subcategory, district, category_confidence, address`` in :meth:`Router.route`
#: order.
RouteItem = tuple
#: Where the appeal's text may name its street or town, most reliable first: the address,
#: then the title and content.
_Places = tuple[str, ...]


def _rules_by(rules: tuple[Rule, ...], attribute: str) -> dict[str, tuple[int, ...]]:
    """Rule numbers per category (``attribute="categories"``) or subcategory."""
    out: dict[str, list[int]] = {}
    for number, rule in enumerate(rules):
        for value in dict.fromkeys(getattr(rule, attribute)):
            out.setdefault(value, []).append(number)
    return {value: tuple(numbers) for value, numbers in out.items()}


def _local(kind: str) -> str:
    return LOCAL_KIND if kind == STREET_KIND else kind


class Router:
    """Routes appeals with one catalogue; build once, call :meth:`route` per appeal."""

    def __init__(self, catalogue: Catalogue, kind_model: KindModel | None = None) -> None:
        self.catalogue = catalogue
        self.kind_model = kind_model
        self._rules = catalogue.rules
        # keyword -> (rule number, rank): a rule reads its keywords longest first (ties in
        # catalogue order); scoring visits only the rules whose keywords were found.
        self._keyword_rules: dict[str, list[tuple[int, int]]] = {}
        for number, rule in enumerate(catalogue.rules):
            ordered = dict.fromkeys(sorted(rule.keywords, key=len, reverse=True))
            for rank, word in enumerate(ordered):
                self._keyword_rules.setdefault(word, []).append((number, rank))
        self._category_rules = _rules_by(catalogue.rules, "categories")
        self._subcategory_rules = _rules_by(catalogue.rules, "subcategories")
        self._keywords = frozenset(w for rule in catalogue.rules for w in rule.keywords)
        self._keyword_index = KeywordIndex(self._keywords)
        self._rule_by_id = {rule.id: rule for rule in catalogue.rules}
        self._districts = catalogue_districts(catalogue.city, (u.name for u in catalogue.units))

    def route(
        self,
        title: str,
        content: str,
        category: str | None = None,
        subcategory: str | None = None,
        district: District | str | None = None,
        *,
        category_confidence: float | None = None,
        address: str | None = None,
    ) -> RoutingDecision:
        """Decide lead and assisting departments for one appeal; never raises on bad text.

        ``district`` may be a :class:`District`, a district string as the intake stores it
        (``"A市A3区"``) or ``None`` (then found in address, title and content). The
        ``address`` (a work order's 地址) is read for the place only, never for keywords: a
        street or town it names places an appeal without a district and assists as one the
        text names would. A category whose ``category_confidence`` is below
        ``HOTLINE_ROUTING_MIN_CATEGORY_CONFIDENCE`` is ignored: keywords, district (and the
        kind model, if loaded) decide alone.
        """
        title, content = router_text(title), router_text(content)
        return self._route(
            title, content, category, subcategory, district, category_confidence, address
        )

    def route_batch(self, items: Iterable[RouteItem]) -> list[RoutingDecision]:
        """Route many appeals; same decisions as :meth:`route`, the model runs batched.

        Each item is ``(title, content)`` optionally followed by ``category, subcategory,
        district, category_confidence, address``.
        """
        rows = [
            (router_text(item[0]), router_text(item[1]), *item[2:], *(None,) * (7 - len(item)))
            for item in items
        ]
        if self.kind_model is None or not rows:
            return [self._route(*row) for row in rows]
        prepared, wanted, model_rows = [], [], []
        for i, row in enumerate(rows):
            p = self._prepare(*row)
            prepared.append(p)
            if p[0] is None:
                title, content = row[0] or "", row[1] or ""
                wanted.append(i)
                model_rows.append(
                    (title, content, self._model_tags(title, content, p[2], row[2:4], p[4]))
                )
        preds = self.kind_model.predict_batch(model_rows)
        by_row = dict(zip(wanted, preds, strict=True))
        out = []
        for i, (done, place, scores, text, _) in enumerate(prepared):
            out.append(done if done is not None else self._decide(place, scores, text, by_row[i]))
        return out

    def lead_kind(
        self,
        title: str,
        content: str,
        category: str | None = None,
        subcategory: str | None = None,
        *,
        category_confidence: float | None = None,
    ) -> tuple[str, str]:
        """``(kind, rule_id)`` the router would choose wherever the appeal is (city-independent).

        Used to score appeals about other cities, whose replies name their own departments
        of the same kinds; ``zf`` stands for the district government and its streets (属地).
        """
        title, content = router_text(title), router_text(content)
        if category_confidence is not None and category_confidence < MIN_CATEGORY_CONFIDENCE:
            category, subcategory = None, None
        hits = self._keyword_hits(title, content)
        scores = self._scores(hits, category, subcategory)
        best = scores[0] if scores else None
        pred = self._predict(title, content, scores, (category, subcategory), hits)
        kind, rule = self._choose(best, pred)
        if rule is not None and kind == _local(rule.lead):
            return kind, rule.id
        return kind, MODEL_RULE_ID if pred is not None and kind == pred.kind else FALLBACK_RULE_ID

    def _route(
        self,
        title: str,
        content: str,
        category: str | None,
        subcategory: str | None,
        district: District | str | None,
        category_confidence: float | None,
        address: str | None = None,
    ) -> RoutingDecision:
        done, place, scores, text, hits = self._prepare(
            title, content, category, subcategory, district, category_confidence, address
        )
        if done is not None:
            return done
        if category_confidence is not None and category_confidence < MIN_CATEGORY_CONFIDENCE:
            category, subcategory = None, None
        pred = self._predict(title or "", content or "", scores, (category, subcategory), hits)
        return self._decide(place, scores, text, pred)

    def _prepare(
        self,
        title: str | None,
        content: str | None,
        category: str | None,
        subcategory: str | None,
        district: District | str | None,
        category_confidence: float | None,
        address: str | None = None,
    ) -> tuple[RoutingDecision | None, District | None, list[_Score], _Places, _Hits | None]:
        title, content = title or "", content or ""
        address = router_text(address) if isinstance(address, str) else ""
        if isinstance(district, str):
            district = router_text(district)
        place = self._locate(title, content, district, address)
        if category_confidence is not None and category_confidence < MIN_CATEGORY_CONFIDENCE:
            category, subcategory = None, None
        if place is not None and self.catalogue.unit(place.city) is None:
            return self._out_of_area(place), place, [], (), None
        hits = self._keyword_hits(title, content)
        places = (address, title + content)
        return None, place, self._scores(hits, category, subcategory), places, hits

    def _predict(
        self, title: str, content: str, scores: list[_Score], categories: tuple, hits: _Hits
    ) -> KindPrediction | None:
        if self.kind_model is None:
            return None
        return self.kind_model.predict(
            title, content, self._model_tags(title, content, scores, categories, hits)
        )

    def _model_tags(
        self, title: str, content: str, scores: list[_Score], categories: tuple, hits: _Hits
    ) -> list[str]:
        """Tags as in training: the rule verdict *without* the classifier's category.

        The model was trained on category-free rule verdicts; feeding it verdicts shifted by
        a category it never saw would skew it (train/serve mismatch), so with a category the
        rules are scored a second time without it (from the same keyword hits).
        """
        if any(categories):
            scores = self._scores(hits, None, None)
        return self._tags(title, content, scores[0] if scores else None)

    def kind_tags(self, title: str, content: str) -> list[str]:
        """The kind model's tag features of one appeal (rules only, no category)."""
        title, content = router_text(title), router_text(content)
        scores = self._scores(self._keyword_hits(title, content), None, None)
        return self._tags(title, content, scores[0] if scores else None)

    def _tags(self, title: str, content: str, best: _Score | None) -> list[str]:
        """Rule verdict and the kinds of department the appeal itself names."""
        tags = [f"rule:{best.rule.lead}" if best else NO_RULE]
        tags += [f"t:{m.kind}" for m in find_mentions(title, self.catalogue)]
        head = content[:KIND_CONTENT_CHARS]
        tags += [f"c:{m.kind}" for m in find_mentions(head, self.catalogue)]
        return tags

    @staticmethod
    def _choose(best: _Score | None, pred: KindPrediction | None) -> tuple[str, Rule | None]:
        """The lead kind and the rule behind it (``None``: the model's own choice)."""
        if pred is None:
            return (_local(best.rule.lead), best.rule) if best else (LOCAL_KIND, None)
        if best is not None and (
            _local(best.rule.lead) == pred.kind or pred.probability < MIN_KIND_PROBABILITY
        ):
            return _local(best.rule.lead), best.rule
        return pred.kind, None

    def _decide(
        self,
        place: District | None,
        scores: list[_Score],
        text: _Places,
        pred: KindPrediction | None,
    ) -> RoutingDecision:
        # A rule whose lead has no department here (a district's government when the
        # district is unknown) cannot take the appeal; the next rule can: 停水 with no
        # district goes to the water company, not to the centre's manual dispatch.
        top = scores[0] if scores else None
        scores = [s for s in scores if self._resolve(s.rule.lead, s.rule.level, place)]
        best = scores[0] if scores else None
        kind, rule = self._choose(best, pred)
        if rule is not None and best is not None:
            decision = self._rule_decision(scores, place, text)
            # the next rule stands in for the best one, unless the kind model (which knows
            # no district) chose its kind on its own: it would have with the district known
            stand_in = best is not top and not (
                pred is not None and pred.kind == kind and pred.probability >= MIN_KIND_PROBABILITY
            )
            if decision is not None and stand_in:
                decision = _replace(decision, stand_in=True)
            if decision is not None and pred is not None:
                return _replace(
                    decision,
                    explanation=f"{decision.explanation}；{pred.explain()} agrees",
                )
            if decision is not None:
                return decision
        if pred is None:
            return self._fallback(place, text)
        return self._model_decision(pred, scores, place, text)

    def _rule_decision(
        self, scores: list[_Score], place: District | None, text: _Places
    ) -> RoutingDecision | None:
        """The best-scoring rule's decision (``scores`` non-empty, best first), or ``None``
        when its lead kind has no department here."""
        best = scores[0]
        runner_up = scores[1].score if len(scores) > 1 else 0
        lead = self._resolve(best.rule.lead, best.rule.level, place)
        if lead is None:
            return None
        return RoutingDecision(
            lead=lead,
            assisting=self._assisting(best.rule, lead, place, text),
            district=place,
            rule_id=best.rule.id,
            rule_name=best.rule.name,
            explanation=best.rule.explanation,
            confidence=best.score / (best.score + runner_up + 1),
            fallback=False,
            matched_keywords=best.keywords,
        )

    def _model_decision(
        self, pred: KindPrediction, scores: list[_Score], place: District | None, text: _Places
    ) -> RoutingDecision:
        best = scores[0] if scores else None
        overruled = (
            f"；规则 {best.rule.id} 建议 {best.rule.lead}，模型未采用" if best is not None else ""
        )
        if pred.kind == LOCAL_KIND:
            decision = self._fallback(place, text)
            if decision.lead.kind != GOVERNMENT_KIND:
                # District unknown, so no district government to send it to: a rule that
                # fired still names a department (the city's); only without one does the
                # centre dispatch by hand.
                ruled = self._rule_decision(scores, place, text) if scores else None
                if ruled is None:
                    return decision
                return _replace(
                    ruled,
                    explanation=f"{ruled.explanation}；{pred.explain()}（属地），区县不明，按规则派单",
                    stand_in=True,
                )
            return _replace(
                decision,
                rule_id=MODEL_RULE_ID,
                rule_name="模型派单（属地）",
                explanation=f"{pred.explain()}：属地事项由{decision.lead.name}办理或转所属街道"
                + overruled,
                confidence=pred.probability,
                fallback=False,
            )
        lead = self._resolve(pred.kind, "district", place)
        if lead is None:
            # No department of the model's kind in this catalogue (a model trained with
            # another one): a rule that fired still names one; the fallback only without.
            ruled = self._rule_decision(scores, place, text) if scores else None
            if ruled is None:
                return self._fallback(place, text)
            return _replace(
                ruled,
                explanation=f"{ruled.explanation}；{pred.explain()}，目录中无此类部门，按规则派单",
            )
        street = self._street(place, text)
        kind = self.catalogue.kinds.get(pred.kind)
        return RoutingDecision(
            lead=lead,
            assisting=(street,) if street else (),
            district=place,
            rule_id=MODEL_RULE_ID,
            rule_name=f"模型派单（{kind.name if kind else pred.kind}）",
            explanation=f"{pred.explain()}：{kind.responsibilities if kind else ''}由{lead.name}主办"
            + overruled,
            confidence=pred.probability,
            fallback=False,
            matched_keywords=best.keywords if best is not None else (),
        )

    def locate(
        self,
        title: str,
        content: str,
        given: District | str | None = None,
        address: str | None = None,
    ) -> District | None:
        """Where the appeal is: ``given`` (a :class:`District`, or a district string as the
        intake stores it), else the district named in address, title and content; without
        a named district, the one whose street or town the address names, else the title
        and content (in this catalogue's city)."""
        if isinstance(given, str):
            given = router_text(given)
        return self._locate(
            router_text(title), router_text(content), given, router_text(address or "")
        )

    def _locate(
        self, title: str, content: str, given: District | str | None, address: str = ""
    ) -> District | None:
        if isinstance(given, District):
            return given
        known = self._districts
        place = (
            extract_district(given, known=known) if isinstance(given, str) and given else None
        ) or extract_district(address, title, content, known=known)
        if place is None or (place.district is None and place.city == self.catalogue.city):
            # the address first: it is where the work order says the matter is
            for text in (address, f"{title}\n{content}"):
                unit = self.catalogue.district_by_place(text) if text else None
                if unit is not None:
                    return District(city=self.catalogue.city, district=unit)
        return place

    def _scores(
        self, keyword_hits: _Hits, category: str | None, subcategory: str | None
    ) -> list[_Score]:
        in_title, in_content = keyword_hits
        found: dict[int, list[tuple[int, str]]] = {}
        for word in in_title | in_content:
            for number, rank in self._keyword_rules[word]:
                found.setdefault(number, []).append((rank, word))
        bonus: dict[int, int] = {}
        for number in self._category_rules.get(category, ()) if category else ():
            bonus[number] = CATEGORY_WEIGHT
        for number in self._subcategory_rules.get(subcategory, ()) if subcategory else ():
            bonus[number] = bonus.get(number, 0) + SUBCATEGORY_WEIGHT
        scores = []
        for number in sorted(found.keys() | bonus.keys()):
            score, hits, content_hits = bonus.get(number, 0), [], 0
            # Longest keywords first, and a keyword inside one already matched is not
            # counted again: 乱收费 in a title is one piece of evidence, not 乱收费 + 收费.
            for _, word in sorted(found.get(number, ())):
                if any(word in longer for longer in hits):
                    continue
                if word in in_title:
                    score += TITLE_WEIGHT
                    hits.append(word)
                elif content_hits < MAX_CONTENT_HITS:
                    score += CONTENT_WEIGHT
                    content_hits += 1
                    hits.append(word)
            if score:
                scores.append(_Score(self._rules[number], score, tuple(hits)))
        # sorted() is stable: equal scores keep catalogue order, the documented tie-break.
        return sorted(scores, key=lambda s: -s.score)

    def _keyword_hits(self, title: str, content: str) -> _Hits:
        """Keywords in the title and in the head of the content, found once per appeal;
        every scoring of the rules reads them."""
        index = self._keyword_index
        return index.found_in(title), index.found_in(content[:CONTENT_CHARS])

    def for_emergency(
        self,
        decision: RoutingDecision,
        service: str,
        reason: str,
        subcategory: str | None = None,
    ) -> RoutingDecision:
        """``decision`` for an appeal flagged as an emergency for ``service`` (110/119/…).

        A decision nothing in the text backs goes to the department the catalogue's
        ``emergencies`` names for the reason, else for the service, in the appeal's
        district (the city's when it is unknown): the centre's manual dispatch and the
        district government's catch-all (an emergency must not wait for a dispatcher), and
        a rule that fired on the first-level category alone (城乡建设 → 属地: the seven
        categories have no place for 撬门 or 持刀). A decision by keywords, by the appeal's
        ``subcategory`` (电梯 → 质监: the lift's inspector) or by the kind model (unless its
        verdict is 属地) stands: its department handles what caused the emergency. A rule
        that only stood in for a 属地 verdict because the district is unknown
        (:attr:`RoutingDecision.stand_in`) stands on its keywords alone: with the district
        known the verdict would have been 属地 and the emergency the service's, so the
        follow-up department does not depend on whether the district is known (持刀伤人 in a
        小区, 城市建设和市政管理 read from 小区: 公安, not 城管).
        """
        leads = self.catalogue.emergencies
        kind = leads.get(reason) or leads.get(service)
        rule = self._rule_by_id.get(decision.rule_id)
        # the kind model's 属地 verdict is its answer when it knows no department (it leans
        # to 属地): for an emergency no better than the catch-all
        by_model = decision.rule_id == MODEL_RULE_ID and decision.lead.kind != GOVERNMENT_KIND
        by_text = (
            by_model
            or (bool(decision.matched_keywords) and decision.rule_id != MODEL_RULE_ID)
            or (
                rule is not None
                and not decision.stand_in
                and subcategory is not None
                and subcategory in rule.subcategories
            )
        )
        if kind is None or decision.rule_id == OUT_OF_AREA_RULE_ID or by_text:
            return decision
        lead = self._resolve(kind, "district", decision.district)
        if lead is None:
            return decision
        return RoutingDecision(
            lead=lead,
            assisting=(),
            district=decision.district,
            rule_id=EMERGENCY_RULE_ID,
            rule_name=f"紧急事项跟进（{service} {reason}）",
            explanation=f"{reason}：已转{service}，由{lead.name}跟进（原派单：{decision.rule_name}）",
            confidence=1.0,
            fallback=False,
        )

    def _resolve(self, kind: str, level: str, place: District | None) -> Department | None:
        city = self.catalogue.city
        if level == "district" and place is not None and place.district:
            found = self.catalogue.find(kind, place.district)
            if found is not None:
                return found
        return self.catalogue.find(kind, city)

    def _assisting(
        self, rule: Rule, lead: Department, place: District | None, text: _Places
    ) -> tuple[Department, ...]:
        found: list[Department] = []
        for kind in rule.assist:
            if kind == STREET_KIND:
                dept = self._street(place, text)
            else:
                dept = self._resolve(kind, "district", place)
            if dept is not None and dept != lead and dept not in found:
                found.append(dept)
        return tuple(found)

    def _street(self, place: District | None, places: _Places) -> Department | None:
        """The street or town of the appeal's district the address names, else the title
        and content, if any."""
        if place is None or not place.district:
            return None
        streets = self.catalogue.streets(place.district)
        for text in places:
            for street in streets:
                # 泉塘街道 is also written 泉塘街道办事处 or plain 泉塘; the full place name is
                # required so a village called 泉塘 is not taken for the street.
                if street.place and street.place in text:
                    return street
        return None

    def _fallback(self, place: District | None, text: _Places) -> RoutingDecision:
        gov = None
        if place is not None and place.district:
            gov = self.catalogue.find(GOVERNMENT_KIND, place.district)
        if gov is not None:
            street = self._street(place, text)
            return RoutingDecision(
                lead=gov,
                assisting=(street,) if street else (),
                district=place,
                rule_id=FALLBACK_RULE_ID,
                rule_name="属地兜底",
                explanation=f"无派单规则覆盖，按属地由{gov.name}办理或转所属街道、部门",
                confidence=0.0,
                fallback=True,
            )
        centre = self.catalogue.centre_department
        return RoutingDecision(
            lead=centre,
            assisting=(),
            district=place,
            rule_id=FALLBACK_RULE_ID,
            rule_name="人工派单",
            explanation=f"无派单规则覆盖且区县不明，由{centre.name}人工派单",
            confidence=0.0,
            fallback=True,
        )

    def _out_of_area(self, place: District) -> RoutingDecision:
        centre = self.catalogue.centre_department
        return RoutingDecision(
            lead=centre,
            assisting=(),
            district=place,
            rule_id=OUT_OF_AREA_RULE_ID,
            rule_name="外市转办",
            explanation=f"诉求涉及{place.name}，不属本市辖区，由{centre.name}转办{place.city}",
            confidence=0.0,
            fallback=True,
        )


def _replace(decision: RoutingDecision, **changes: object) -> RoutingDecision:
    return replace(decision, **changes)  # type: ignore[arg-type]


_default_router: Router | None = None


def default_router() -> Router:
    """The router over the configured catalogue and kind model (loaded once; no model file:
    rules only)."""
    global _default_router
    if _default_router is None:
        _default_router = Router(load_catalogue(), load_kind_model())
    return _default_router


def route(
    title: str,
    content: str,
    category: str | None = None,
    subcategory: str | None = None,
    district: District | str | None = None,
    *,
    category_confidence: float | None = None,
    address: str | None = None,
) -> RoutingDecision:
    """Route one appeal with the configured catalogue and model; see :meth:`Router.route`."""
    return default_router().route(
        title,
        content,
        category,
        subcategory,
        district,
        category_confidence=category_confidence,
        address=address,
    )


def route_batch(items: Iterable[RouteItem]) -> list[RoutingDecision]:
    """Route many appeals with the default router; see :meth:`Router.route_batch`."""
    return default_router().route_batch(items)


def for_emergency(
    decision: RoutingDecision, service: str, reason: str, subcategory: str | None = None
) -> RoutingDecision:
    """:meth:`Router.for_emergency` with the default router."""
    return default_router().for_emergency(decision, service, reason, subcategory)
