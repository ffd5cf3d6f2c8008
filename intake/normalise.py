"""Shared last step of every channel: mask, check and assemble the ``Appeal``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from config.intake import IntakeSettings
from intake import pii
from intake.contact import Contact
from intake.errors import ErrorCode, IntakeError
from intake.fields import clean_text
from intake.identity import appeal_id, contact_ref
from models.appeal import Appeal, RawRef
from routing.district import extract_district

#: Largest encoded ``Appeal``: the producer takes records of up to 1,000,000 bytes (faust's
#: ``producer_max_request_size``), and the understand stage's records carry the appeal plus
#: their own fields. A record the producer refuses is not an outage to wait out: it crashed
#: the intake agent and faust moved past the rest of its batch. A GB18030 work order (two
#: bytes a character) of 700 KB, which the broker takes, is a UTF-8 appeal of over 1 MB.
MAX_APPEAL_BYTES = 900_000
#: JSON bytes a character can take at most (a control character escaped as ``\u0001``).
_MAX_BYTES_PER_CHAR = 6
#: Bytes of an appeal's fields besides its texts (ids, times, the raw reference).
_FIXED_BYTES = 4096


@dataclass
class Normalised:
    """An appeal safe to publish, and the contact details that must stay in the store."""

    appeal: Appeal
    contact: Contact


@dataclass
class AppealDraft:
    """Channel-specific values, unmasked, ready for the shared checks."""

    channel: str
    source_id: str
    received_at: datetime
    appeal_type: str
    title: str
    content: str
    identity: str
    address: str | None = None
    name: str | None = None
    phone: str | None = None
    email: str | None = None
    attachments: list[str] | None = None
    contact_ref: str | None = None  # already known (WeChat sessions are keyed by it)
    urgency: str | None = None  # "urgent": the agent marked the work order 紧急/特急


def finish(draft: AppealDraft, raw: RawRef, now: datetime, settings: IntakeSettings) -> Normalised:
    """Validate size and emptiness, mask personal data and build the appeal."""
    content = clean_text(draft.content)  # text of only zero-width spaces or NULs is empty too
    title = clean_text(draft.title)
    address = clean_text(draft.address) if draft.address else None
    if not content and not title:
        raise IntakeError(ErrorCode.EMPTY_CONTENT, "the appeal has no title and no content")
    # the title too: it stands in for missing content, and nothing else bounds it
    for name, text in (("content", content), ("title", title)):
        if len(text) > settings.max_content_chars:
            raise IntakeError(
                ErrorCode.OVERSIZED,
                f"{name} has {len(text)} characters, limit {settings.max_content_chars}",
            )
    masked_title, masked_content = pii.mask(title), pii.mask(content)
    masked_address = pii.mask(address) if address else None
    aid = appeal_id(draft.channel, draft.source_id)
    ref = draft.contact_ref or contact_ref(settings.contact_secret, draft.channel, draft.identity)
    found = (
        masked_title.found + masked_content.found + (masked_address.found if masked_address else [])
    )
    district = extract_district(address, title, content)
    appeal = Appeal(
        appeal_id=aid,
        channel=draft.channel,
        source_id=draft.source_id,
        received_at=draft.received_at,
        appeal_type=draft.appeal_type,
        title=masked_title.text or masked_content.text[:30],
        content=masked_content.text or masked_title.text,
        raw=raw,
        ingested_at=now,
        address=masked_address.text if masked_address else None,
        district=district.name if district else None,
        contact_ref=ref,
        attachments=draft.attachments,
        urgency=draft.urgency,
    )
    _check_size(appeal)
    contact = Contact(
        ref=ref, channel=draft.channel, identity=draft.identity, name=draft.name,
        phone=draft.phone, email=draft.email, found_in_text={aid: found}, appeal_id=aid,
    )  # fmt: skip
    return Normalised(appeal, contact)


def _check_size(appeal: Appeal) -> None:
    """Refuse an appeal whose record would be too large to publish (``OVERSIZED``).

    The texts are bounded by characters, but the address, the source id and a WeChat
    session's media ids are not; the encoded size is measured only when the characters
    could add up to the limit, so ordinary appeals pay a few length sums.
    """
    texts = (appeal.title, appeal.content, appeal.address or "", appeal.source_id)
    chars = sum(map(len, texts)) + sum(map(len, appeal.attachments or ()))
    if chars * _MAX_BYTES_PER_CHAR + _FIXED_BYTES <= MAX_APPEAL_BYTES:
        return
    size = len(appeal.dumps())
    if size > MAX_APPEAL_BYTES:
        longest = max(
            ("title", "content", "address", "source_id", "attachments"),
            key=lambda name: len(str(getattr(appeal, name) or "")),
        )
        raise IntakeError(
            ErrorCode.OVERSIZED,
            f"the appeal would be {size} bytes, limit {MAX_APPEAL_BYTES} "
            f"(longest field: {longest})",
        )
