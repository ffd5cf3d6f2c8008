"""Stable appeal ids and opaque contact references."""

from __future__ import annotations

import hashlib
import hmac

_CHANNEL_CODES = {"hotline": "HL", "mailbox": "MB", "wechat": "WX"}


def appeal_id(channel: str, source_id: str) -> str:
    """Derive the appeal id from channel and source id: a re-sent record gets the same id.

    Hashed so the id has a fixed shape whatever the source system's ids look like.
    """
    digest = hashlib.sha256(f"{channel}\x1f{source_id}".encode()).hexdigest()[:16]
    return f"{_CHANNEL_CODES[channel]}-{digest}"


def contact_ref(secret: str, channel: str, identity: str) -> str:
    """An opaque, stable reference to a citizen (HMAC, so it cannot be reversed or guessed)."""
    mac = hmac.new(secret.encode(), f"{channel}\x1f{identity}".encode(), hashlib.sha256)
    return "C-" + mac.hexdigest()[:20]
