"""appeal_id → the raw record (topic/partition/offset) that first produced it."""

from streams.app import app, settings

appeals_first_seen = app.Table(
    "appeals-first-seen", default=None, key_type=str, value_type=str, partitions=settings.partitions
)
