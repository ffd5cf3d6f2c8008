"""The review requests (the classifier's suggestion) of appeals waiting for a reviewer.

Each is kept in Redis with its appeal (:meth:`stores.pending_reviews.PendingReviews.requests`);
an appeal parked by an older version that kept none has its request on ``appeals.review``
only, which is then read whole, while the broker still retains it.
"""

from __future__ import annotations

from models.review import ReviewRequest
from stack.topic_read import read_records
from stores.pending_reviews import PendingReviews


async def review_requests(
    store: PendingReviews, appeal_ids: list[str], bootstrap: str, topic: str
) -> tuple[list[ReviewRequest], int]:
    """The requests of ``appeal_ids`` that are still known, and how many records of
    ``topic`` could not be decoded (0 when every request was kept in Redis: the topic is
    not read). An appeal may have several on the topic (reviewed again)."""
    stored = await store.requests(appeal_ids)
    missing = set(appeal_ids) - set(stored)
    if not missing:
        return list(stored.values()), 0
    pairs, undecodable = await read_records(bootstrap, topic, ReviewRequest)
    return [r for _, r in pairs if r.appeal_id in missing] + list(stored.values()), undecodable
