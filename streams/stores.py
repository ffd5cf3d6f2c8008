"""The worker's Redis-backed stores (one connection pool per process)."""

from __future__ import annotations

from functools import cache

import redis.asyncio as aioredis

from config.sla import SlaSettings
from sla.redis_store import SlaStore
from stores.appeals_seen import SeenAppeals
from stores.case_dossiers import CaseDossiers
from stores.closed_wechat_messages import ClosedWeChatMessages
from stores.contacts import ContactStore
from stores.early_case_events import EarlyCaseEvents
from stores.intake_counters import IntakeCounters
from stores.pending_reviews import PendingReviews
from stores.processed_positions import ProcessedPositions
from stores.replayed_dead_letters import ReplayedDeadLetters
from stores.unsaved_corrections import UnsavedCorrections
from streams.app import settings


@cache
def redis_client() -> aioredis.Redis:
    """The process-wide asyncio Redis client (created lazily inside the worker's loop)."""
    return aioredis.Redis.from_url(settings.redis_url)


def contact_store() -> ContactStore:
    return ContactStore(
        redis_client(), prefix=f"{settings.redis_prefix}contact:", ttl_s=settings.contact_ttl_s
    )


#: Keys of the seen-appeals index (``<this><appeal_id>``) and of the intake counters hash;
#: ``hotline demo`` reads both with a client of its own.
SEEN_PREFIX = f"{settings.redis_prefix}seen:"
INTAKE_COUNTERS_KEY = f"{settings.redis_prefix}intake:counters"


@cache  # registers its claim script once
def seen_appeals() -> SeenAppeals:
    return SeenAppeals(redis_client(), prefix=SEEN_PREFIX, ttl_s=settings.seen_ttl_s)


def closed_wechat_messages() -> ClosedWeChatMessages:
    """Messages of WeChat sessions already closed (see ``stores/closed_wechat_messages.py``)."""
    return ClosedWeChatMessages(
        redis_client(), prefix=f"{settings.redis_prefix}wechat-closed:", ttl_s=settings.seen_ttl_s
    )


def case_dossiers() -> CaseDossiers:
    """Each case's appeal, for its next hop (see ``stores/case_dossiers.py``)."""
    return CaseDossiers(
        redis_client(), prefix=f"{settings.redis_prefix}dossier:", ttl_s=settings.dossier_ttl_s
    )


def intake_counters() -> IntakeCounters:
    return IntakeCounters(redis_client(), key=INTAKE_COUNTERS_KEY)


def pending_reviews() -> PendingReviews:
    return PendingReviews(redis_client(), prefix=settings.redis_prefix)


def unsaved_corrections() -> UnsavedCorrections:
    """Corrections the corrections file could not take yet."""
    return UnsavedCorrections(redis_client(), prefix=settings.redis_prefix)


def replayed_dead_letters() -> ReplayedDeadLetters:
    """Dead letters already sent back by ``hotline deadletter replay``."""
    return ReplayedDeadLetters(redis_client(), key=f"{settings.redis_prefix}deadletter:replayed")


@cache
def sla_store() -> SlaStore:
    """SLA clocks share the worker's Redis; keys carry the run's prefix too."""
    return SlaStore(redis_client(), settings=SlaSettings(), prefix=settings.sla_redis_prefix)


def early_case_events() -> EarlyCaseEvents:
    """Case events waiting for their assignment (see ``stores/early_case_events.py``)."""
    return EarlyCaseEvents(
        redis_client(), prefix=settings.sla_redis_prefix, wait_s=SlaSettings().early_event_wait
    )


@cache
def sla_processed_positions() -> ProcessedPositions:
    """How far the SLA stage got in each partition (see ``stores/processed_positions.py``);
    under the SLA prefix, so a rebuild that wipes the clocks wipes these marks too."""
    return ProcessedPositions(redis_client(), prefix=f"{settings.sla_redis_prefix}processed:")
