"""The classified appeal: what the "understand" step adds to an appeal.

Records here avoid ``from __future__ import annotations``: faust reads the annotations
at class creation to coerce nested records and datetimes.
"""

from datetime import datetime

import faust

SCHEMA_VERSION = 1

#: Emergency services an appeal can be transferred to.
EMERGENCY_SERVICES = {
    "110": "公安报警",
    "119": "消防救援",
    "120": "医疗急救",
    "122": "交通事故报警",
}


class Alternative(faust.Record, serializer="json", include_metadata=False):
    """One candidate first-level category with its calibrated probability."""

    category: str
    probability: float


class Emergency(faust.Record, serializer="json", include_metadata=False):
    """Why an appeal looks like an emergency and which service should take it now."""

    reason: str  # e.g. 火灾, 燃气泄漏, 人员被困
    service: str  # 110 / 119 / 120 / 122
    evidence: str  # the matched words, for the operator


class Classification(
    faust.Record, serializer="json", isodates=True, coerce=True, include_metadata=False
):
    """Category, sub-category, confidence and emergency flag of one appeal.

    ``confidence`` is the calibrated probability of ``category``; ``needs_review`` is set
    when it is below the configured threshold or the text had nothing to classify.
    ``alternatives`` holds the top three categories, best first (``category`` included).
    """

    appeal_id: str
    category: str
    confidence: float
    alternatives: list[Alternative]
    needs_review: bool
    model_version: str
    classified_at: datetime
    subcategory: str | None = None  # 二级标签, e.g. 住房保障与房地产
    topic: str | None = None  # 三级标签, e.g. 物业服务
    emergency: Emergency | None = None
    review_reason: str | None = None  # low_confidence / no_chinese_text
    schema_version: int = SCHEMA_VERSION
