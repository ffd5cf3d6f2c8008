"""The first-level category classifier and the batch API the stream calls.

:class:`AppealClassifier` bundles the fitted featurizer and the calibrated estimator. One
call to :meth:`AppealClassifier.classify_batch` normalises and segments each appeal once,
builds one feature matrix and predicts it in one matrix product, then adds the
sub-category and emergency checks that reuse the same normalised text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from understand.emergency import EmergencyMatch, detect_emergency
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
    review_reason: str | None = None  # "low_confidence" / "no_chinese_text"
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

    @property
    def version(self) -> str:
        """Artifact version string (set when saved), or ``"unsaved"``."""
        return str(self.meta.get("version", "unsaved"))

    def predict_proba(self, docs: Sequence[PreparedAppeal]) -> np.ndarray:
        """Calibrated class probabilities, columns in :attr:`classes` order."""
        if not docs:
            return np.zeros((0, len(self.classes)))
        return self.estimator.predict_proba(self.featurizer.transform(docs))

    def classify_prepared(
        self, docs: Sequence[PreparedAppeal], threshold: float | None = None
    ) -> list[ClassificationResult]:
        """Classify appeals that :func:`understand.features.prepare` already processed."""
        if threshold is None:
            from config.understand import REVIEW_THRESHOLD

            threshold = REVIEW_THRESHOLD
        proba = self.predict_proba(docs)
        top = np.argsort(-proba, axis=1, kind="stable")[:, :TOP_K]
        top_p = np.round(np.take_along_axis(proba, top, axis=1), 4).tolist()
        classes = self.classes
        results = []
        for doc, order, probs in zip(docs, top.tolist(), top_p, strict=True):
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
            results.append(
                ClassificationResult(
                    category=category,
                    confidence=confidence,
                    alternatives=alternatives,
                    needs_review=low or empty,
                    review_reason="no_content_words"
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
