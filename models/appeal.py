"""The normalised appeal: what every intake channel becomes.

Records here avoid ``from __future__ import annotations``: faust reads the annotations
at class creation to coerce nested records and datetimes.
"""

from datetime import datetime

import faust

SCHEMA_VERSION = 1

#: Intake channels and their Chinese names (UI labels for centre staff).
CHANNELS = {"hotline": "12345热线", "mailbox": "市长信箱", "wechat": "微信"}

#: Appeal types (诉求类型) as 12345 centres record them; 表扬 is praise of a department or
#: its staff, passed on to them like any appeal.
APPEAL_TYPES = ("咨询", "求助", "投诉", "举报", "建议", "表扬")


class RawRef(faust.Record, serializer="json", include_metadata=False):
    """Where the raw channel record sits in Kafka (topic, partition, offset)."""

    topic: str
    partition: int
    offset: int

    def as_text(self) -> str:
        return f"{self.topic}/{self.partition}/{self.offset}"


class Appeal(faust.Record, serializer="json", isodates=True, coerce=True, include_metadata=False):
    """One citizen appeal from any channel, with personal data already masked.

    ``appeal_id`` is derived from ``channel`` and ``source_id`` so that a re-sent raw
    record maps to the same appeal. Contact details never travel here: only the opaque
    ``contact_ref`` into the restricted contact store.
    """

    appeal_id: str
    channel: str
    source_id: str
    received_at: datetime  # when the channel received it, Asia/Shanghai
    appeal_type: str
    title: str
    content: str
    raw: RawRef
    ingested_at: datetime
    address: str | None = None
    district: str | None = None
    contact_ref: str | None = None
    attachments: list[str] | None = None
    #: "urgent" when the call-centre agent marked the work order 紧急/特急 (the SLA
    #: policies read it); None for routine appeals and channels without such a mark
    urgency: str | None = None
    schema_version: int = SCHEMA_VERSION
