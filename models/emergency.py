"""An appeal that belongs to an emergency service rather than a department."""

from datetime import datetime

import faust

SCHEMA_VERSION = 1


class EmergencyTransfer(
    faust.Record, serializer="json", isodates=True, coerce=True, include_metadata=False
):
    """Transfer request to 110/119/120/122, published ahead of normal dispatch.

    The appeal is still dispatched as usual, so the centre keeps tracking it.
    """

    appeal_id: str
    service: str  # 110 / 119 / 120 / 122
    reason: str  # e.g. 燃气泄漏
    evidence: str  # the words that matched
    title: str
    content: str  # masked, as on appeals.received
    flagged_at: datetime
    district: str | None = None
    address: str | None = None
    #: how to reach the citizen: the emergency desk looks the reference up in the restricted
    #: contact store (Redis hash ``contact:<ref>``: phone, name) to call back a mailbox or
    #: WeChat appeal; a hotline caller may still be on the line (``channel``, ``received_at``)
    contact_ref: str | None = None
    channel: str | None = None
    received_at: datetime | None = None
    schema_version: int = SCHEMA_VERSION
