"""Understanding appeals: segmentation, category, sub-category, emergencies, review support.

The public API is imported lazily, so ``import understand`` does not load scikit-learn or
jieba until a function that needs them is called::

    from understand import load_classifier
    clf = load_classifier()                     # current artifact, or ModelNotFoundError
    results = clf.classify_batch([(title, content), ...])
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from understand.artifact import ModelNotFoundError, load_classifier
    from understand.classifier import AppealClassifier, ClassificationResult
    from understand.corrections import append_correction
    from understand.emergency import EmergencyMatch, detect_emergency
    from understand.segment import tokenize
    from understand.taxonomy import match_subcategory
    from understand.training import train, train_default

_EXPORTS = {
    "load_classifier": "understand.artifact",
    "ModelNotFoundError": "understand.artifact",
    "AppealClassifier": "understand.classifier",
    "ClassificationResult": "understand.classifier",
    "append_correction": "understand.corrections",
    "EmergencyMatch": "understand.emergency",
    "detect_emergency": "understand.emergency",
    "tokenize": "understand.segment",
    "match_subcategory": "understand.taxonomy",
    "train": "understand.training",
    "train_default": "understand.training",
}

__all__ = [
    "AppealClassifier",
    "ClassificationResult",
    "EmergencyMatch",
    "ModelNotFoundError",
    "append_correction",
    "classify_batch",
    "detect_emergency",
    "load_classifier",
    "match_subcategory",
    "tokenize",
    "train",
    "train_default",
]

_default_classifier = None


def classify_batch(
    items: list[tuple[str | None, str | None]], threshold: float | None = None
) -> list[ClassificationResult]:
    """Classify ``(title, content)`` pairs with the current model (loaded once per process)."""
    global _default_classifier
    if _default_classifier is None:
        from understand.artifact import load_classifier as load

        _default_classifier = load()
    return _default_classifier.classify_batch(items, threshold)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(import_module(_EXPORTS[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'understand' has no attribute {name!r}")
