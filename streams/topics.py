"""Every topic of the system, its key and its payload record.

``TOPICS`` is the single list the worker, the publishers, the schema generator and the
tests read; names carry ``HOTLINE_TOPIC_PREFIX``.
"""

from __future__ import annotations

from dataclasses import dataclass

import faust

from models.appeal import Appeal
from models.dead_letter import DeadLetter
from models.raw import HotlineWorkOrder, MailboxMessage, WeChatMessage
from models.wechat import WeChatPiece
from streams.app import app, settings


@dataclass(frozen=True)
class TopicSpec:
    """A topic's base name, what its key is, its payload and who may read it."""

    name: str
    key: str
    payload: type
    description: str
    restricted: bool = False  # carries personal data: raw input and dead letters
    wire_format: str = "json"


SPECS: dict[str, TopicSpec] = {
    spec.name: spec
    for spec in (
        TopicSpec("raw.hotline", "ticket number (any key accepted)", HotlineWorkOrder,
                  "12345 phone-hotline work orders as JSON, from the call-centre system", True),
        TopicSpec("raw.mailbox", "message id (any key accepted)", MailboxMessage,
                  "Mayor's-mailbox messages as JSON, shaped like the mailbox export", True),
        TopicSpec("raw.wechat", "FromUserName (any key accepted)", WeChatMessage,
                  "WeChat official-account push messages in WeChat's XML", True, "xml"),
        TopicSpec("intake.wechat.pieces", "contact_ref", WeChatPiece,
                  "Internal: validated, masked WeChat messages, partitioned by sender"),
        TopicSpec("appeals.received", "appeal_id", Appeal,
                  "Normalised, masked, de-duplicated appeals from every channel"),
        TopicSpec("intake.deadletter", "source topic/partition/offset", DeadLetter,
                  "Raw records intake could not accept, with original bytes and the reason", True),
    )
}  # fmt: skip


def _topic(name: str, **kwargs) -> faust.TopicT:
    spec = SPECS[name]
    kwargs.setdefault("value_type", spec.payload)
    kwargs.setdefault("key_type", str)
    return app.topic(
        settings.topic(name),
        key_serializer="raw",
        partitions=settings.partitions,
        internal=True,
        **kwargs,
    )


def _raw_topic(name: str) -> faust.TopicT:
    # raw channel topics are read as bytes, keys too: intake validates them itself
    return _topic(name, key_type=bytes, value_type=bytes, value_serializer="raw")


raw_hotline = _raw_topic("raw.hotline")
raw_mailbox = _raw_topic("raw.mailbox")
raw_wechat = _raw_topic("raw.wechat")
wechat_pieces = _topic("intake.wechat.pieces")
received = _topic("appeals.received")
dead_letters = _topic("intake.deadletter")


ALL = (raw_hotline, raw_mailbox, raw_wechat, wechat_pieces, received, dead_letters)
