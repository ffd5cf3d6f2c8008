"""Broker health check: a real metadata round-trip with aiokafka's admin client."""

from __future__ import annotations

import asyncio
import contextlib


async def _ready(bootstrap: str) -> bool:
    from aiokafka.admin import AIOKafkaAdminClient

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=3000)
    try:
        await admin.start()
        await admin.list_topics()
        return True
    except Exception:  # any failure just means "not ready yet"
        return False
    finally:
        with contextlib.suppress(Exception):
            await admin.close()


def broker_ready(bootstrap: str) -> bool:
    """True when the broker at ``bootstrap`` answers a metadata request."""
    return asyncio.run(asyncio.wait_for(_ready(bootstrap), timeout=8))
