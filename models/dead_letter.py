"""A raw record intake could not accept, kept whole with the reason."""

from datetime import datetime

import faust


class DeadLetter(
    faust.Record, serializer="json", include_metadata=False, isodates=True, coerce=True
):
    """What went wrong with which raw record.

    ``payload_b64`` holds the original bytes unchanged (base64), so the record can be
    fixed and replayed; the dead-letter topic is therefore as restricted as raw topics.
    A record too large to keep (base64 would take its letter past the producer's request
    limit) leaves ``payload_b64`` empty and ``key_b64`` unset; the reason gives its size
    and position (``streams.dead_letters.fitting``).
    """

    error_code: str
    reason: str
    source_topic: str
    source_partition: int
    source_offset: int
    payload_b64: str
    failed_at: datetime
    channel: str | None = None
    key_b64: str | None = None
    stage: str = "intake"
