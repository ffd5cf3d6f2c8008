"""The first-level category classifier and the batch API the stream calls.

:class:`AppealClassifier` bundles the fitted featurizer and the calibrated estimator. One
call to :meth:`AppealClassifier.classify_batch` normalises and segments each appeal once,
builds one feature matrix and predicts it in one matrix product, then adds the
sub-category and emergency checks that reuse the same normalised text. An appeal the
emergency rules leave alone but that reads like a call for help
(:mod:`understand.emergency_model`) goes to review as a ``possible_emergency``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from understand.emergency import EmergencyMatch, detect_emergency
from understand.emergency_model import POSSIBLE_EMERGENCY
from understand.features import (
    CJK_ENOUGH,
    DEFAULT_FEATURE_CHARS,
    DEFAULT_SEGMENT_CHARS,
    AppealFeaturizer,
    PreparedAppeal,
    prepare,
)
from understand.refinement import refine_prepared
from understand.text_normalise import DEFAULT_MAX_CHARS

#: Fewer Chinese characters than this and there is nothing to classify.
MIN_CJK_CHARS = CJK_ENOUGH
TOP_K = 3


@dataclass(frozen=True, slots=True)
class ClassificationResult:
    """What the classifier says about one appeal.

    ``category`` is always one of the seven first-level categories (the most likely one, or
    the most frequent class when the text is unusable); trust it only when ``needs_review``
    is false. ``alternatives`` are the top three ``(category, probability)``, best first.
    """

    category: str
    confidence: float
    alternatives: list[tuple[str, float]]
    needs_review: bool
    #: "low_confidence" / "no_chinese_text" / "no_content_words" / "possible_emergency"
    review_reason: str | None = None
    subcategory: str | None = None  # 二级标签
    topic: str | None = None  # 三级标签
    emergency: EmergencyMatch | None = None
    tokens: list[str] = field(default_factory=list, repr=False)  # jieba content words


class AppealClassifier:
    """Featurizer + calibrated estimator + metadata, as saved in an artifact."""

    def __init__(
        self,
        featurizer: AppealFeaturizer,
        estimator: Any,
        max_chars: int = DEFAULT_MAX_CHARS,
        meta: dict | None = None,
        feature_chars: int = DEFAULT_FEATURE_CHARS,
        segment_chars: int = DEFAULT_SEGMENT_CHARS,
    ):
        self.featurizer = featurizer
        self.estimator = estimator
        self.classes = [str(c) for c in estimator.classes_]
        self.max_chars = max_chars
        self.feature_chars = feature_chars
        self.segment_chars = segment_chars
        self.meta = dict(meta or {})
        self.fallback_category = self.meta.get("majority_class", self.classes[0])
        #: :class:`understand.emergency_model.EmergencyModel`, or None (artifacts trained
        #: before it: then only the rules flag emergencies)
        self.emergency_model = None

    def __setstate__(self, state):
        self.__dict__.update(state)
        self.__dict__.setdefault("emergency_model", None)

    @property
    def version(self) -> str:
        """Artifact version string (set when saved), or ``"unsaved"``."""
        return str(self.meta.get("version", "unsaved"))

    def predict_proba(self, docs: Sequence[PreparedAppeal]) -> np.ndarray:
        """Calibrated class probabilities, columns in :attr:`classes` order."""
        if not docs:
            return np.zeros((0, len(self.classes)))
        return self.estimator.predict_proba(self.featurizer.transform(docs))

    def possible_emergencies(self, docs: Sequence[PreparedAppeal]) -> list[bool]:
        """Whether each appeal reads like a call for help (the emergency model's score at
        or above ``HOTLINE_UNDERSTAND_POSSIBLE_EMERGENCY_THRESHOLD``); all False without
        a model. The rules are not consulted: the caller asks only where they found none."""
        from config.understand import POSSIBLE_EMERGENCY_THRESHOLD

        if self.emergency_model is None or not docs:
            return [False] * len(docs)
        scores = self.emergency_model.score([d.text or d.body for d in docs])
        return (scores >= POSSIBLE_EMERGENCY_THRESHOLD).tolist()

    def classify_prepared(
        self, docs: Sequence[PreparedAppeal], threshold: float | None = None
    ) -> list[ClassificationResult]:
        """Classify appeals that :func:`understand.features.prepare` already processed."""
        if threshold is None:
            from config.understand import REVIEW_THRESHOLD

            threshold = REVIEW_THRESHOLD
        proba = self.predict_proba(docs)
        possible = self.possible_emergencies(docs)
        top = np.argsort(-proba, axis=1, kind="stable")[:, :TOP_K]
        top_p = np.round(np.take_along_axis(proba, top, axis=1), 4).tolist()
        classes = self.classes
        results = []
        for doc, order, probs, maybe in zip(docs, top.tolist(), top_p, possible, strict=True):
            alternatives = [(classes[i], p) for i, p in zip(order, probs, strict=True)]
            if doc.cjk_chars < MIN_CJK_CHARS:
                results.append(
                    ClassificationResult(
                        category=self.fallback_category,
                        confidence=0.0,
                        alternatives=alternatives,
                        needs_review=True,
                        review_reason="no_chinese_text",
                        emergency=detect_emergency(doc.text or doc.body),
                        tokens=doc.tokens,
                    )
                )
                continue
            category, confidence = alternatives[0]
            refined = refine_prepared(doc, category)
            # greetings and filler only ("你好，请问一下"): the model sees nothing but its
            # priors and can still be confident, so a person decides
            empty = not doc.tokens
            low = confidence < threshold
            # reads like a call for help the rules did not recognise: a person looks first
            maybe = maybe and refined.emergency is None
            results.append(
                ClassificationResult(
                    category=category,
                    confidence=confidence,
                    alternatives=alternatives,
                    needs_review=low or empty or maybe,
                    review_reason=POSSIBLE_EMERGENCY
                    if maybe
                    else "no_content_words"
                    if empty
                    else "low_confidence"
                    if low
                    else None,
                    subcategory=refined.subcategory,
                    topic=refined.topic,
                    emergency=refined.emergency,
                    tokens=doc.tokens,
                )
            )
        return results

    def classify_batch(
        self, items: Sequence[tuple[str | None, str | None]], threshold: float | None = None
    ) -> list[ClassificationResult]:
        """Classify ``(title, content)`` pairs in one matrix call; order is preserved.

        ``threshold`` defaults to ``HOTLINE_UNDERSTAND_REVIEW_THRESHOLD``.
        """
        docs = [
            prepare(t, c, self.max_chars, self.feature_chars, self.segment_chars) for t, c in items
        ]
        return self.classify_prepared(docs, threshold)

    def classify(
        self, title: str | None, content: str | None, threshold: float | None = None
    ) -> ClassificationResult:
        """Classify one appeal (prefer :meth:`classify_batch` in the stream)."""
        return self.classify_batch([(title, content)], threshold)[0]
