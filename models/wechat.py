"""Internal WeChat intake records: masked message pieces and the open session they form."""

import faust

from models.appeal import RawRef


class WeChatPiece(faust.Record, serializer="json", include_metadata=False, coerce=True):
    """One validated WeChat message, personal data masked, keyed by contact reference."""

    contact_ref: str
    msg_id: str
    create_time: int
    msg_type: str
    raw: RawRef
    text: str | None = None
    label: str | None = None  # place name sent with a location message
    latitude: float | None = None
    longitude: float | None = None
    media_id: str | None = None
    requested_at: float | None = None  # flush requests only: when the idle timer asked


class WeChatSession(faust.Record, serializer="json", include_metadata=False, coerce=True):
    """Consecutive pieces of one user; closed into one appeal after a quiet window."""

    contact_ref: str
    pieces: list[WeChatPiece]
    last_seen_wall: float  # when the last piece was processed (for idle flushing)
    #: its messages describe an emergency: closed after a short quiet spell, not the idle period
    emergency: bool = False
