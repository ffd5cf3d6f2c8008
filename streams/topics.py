"""Every topic of the system, its key and its payload record.

``TOPICS`` is the single list the worker, the publishers, the schema generator and the
tests read; names carry ``HOTLINE_TOPIC_PREFIX``.
"""

from __future__ import annotations

from dataclasses import dataclass

import faust

from models.appeal import Appeal
from models.assignment import Assignment
from models.case_event import CaseEvent
from models.classification import Classification
from models.dead_letter import DeadLetter
from models.emergency import EmergencyTransfer
from models.raw import HotlineWorkOrder, MailboxMessage, WeChatMessage
from models.review import ReviewDecision, ReviewRequest
from models.sla_alert import SlaAlert
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
    #: part of the case log `hotline sla rebuild` replays: kept HOTLINE_CASE_LOG_RETENTION_DAYS
    #: (forever by default), not the broker's default 7 days
    case_log: bool = False


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
        TopicSpec("deadletter", "source topic/partition/offset", DeadLetter,
                  "Records that could not be accepted (raw intake, review decisions, case events): "
                  "original bytes, where they came from, error code and reason", True),
        TopicSpec("appeals.classified", "appeal_id", Classification,
                  "Category, sub-category, calibrated confidence, alternatives and emergency flag"),
        TopicSpec("appeals.emergency", "appeal_id", EmergencyTransfer,
                  "Appeals to transfer to 110/119/120/122, published ahead of normal dispatch"),
        TopicSpec("appeals.review", "appeal_id", ReviewRequest,
                  "Low-confidence classifications waiting for a person (human review queue)"),
        TopicSpec("appeals.review.decisions", "appeal_id", ReviewDecision,
                  "Reviewers' decisions (category, optional department); resumes dispatch", True),
        TopicSpec("cases.events", "appeal_id", CaseEvent,
                  "Departments' and the centre's case events: accept, return, reassign, extend, pause, reply, close",
                  case_log=True),
        TopicSpec("sla.alerts", "appeal_id", SlaAlert,
                  "SLA warnings (50 %, 80 %), overdue (100 %) and escalation, once per threshold per clock",
                  case_log=True),
        TopicSpec("assignments.all", "appeal_id", Assignment,
                  "Every assignment (派单): lead and assisting departments, district, the rule that fired",
                  case_log=True),
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


#: Each department's own topic has one partition: per-department volume is small, and
#: ~300 departments × the stream's partitions would be thousands of partitions.
DEPARTMENT_PARTITIONS = 1


def _raw_topic(name: str) -> faust.TopicT:
    # raw channel topics are read as bytes, keys too: intake validates them itself
    return _topic(name, key_type=bytes, value_type=bytes, value_serializer="raw")


raw_hotline = _raw_topic("raw.hotline")
raw_mailbox = _raw_topic("raw.mailbox")
raw_wechat = _raw_topic("raw.wechat")
wechat_pieces = _topic("intake.wechat.pieces")
received = _topic("appeals.received")
# the understand stage reads appeals as bytes: it decodes them off the event loop
received_records = _topic("appeals.received", value_type=bytes, value_serializer="raw")
dead_letters = _topic("deadletter")
classified = _topic("appeals.classified")
emergencies = _topic("appeals.emergency")
reviews = _topic("appeals.review")
# decisions come from reviewers' tools: read as bytes, validated by the agent
review_decisions = _topic(
    "appeals.review.decisions", key_type=bytes, value_type=bytes, value_serializer="raw"
)
assignments = _topic("assignments.all")
# ...and the SLA stage reads them as bytes: a record faust cannot decode would be
# acknowledged by faust and end the agent's stream without a word (no dead letter, every
# later assignment unread until a restart); the agent validates and dead-letters it
assignment_records = _topic(
    "assignments.all", key_type=bytes, value_type=bytes, value_serializer="raw"
)
# case events come from department systems: read as bytes, validated by the agent
case_events = _topic("cases.events", key_type=bytes, value_type=bytes, value_serializer="raw")
sla_alerts = _topic("sla.alerts")


ALL = (raw_hotline, raw_mailbox, raw_wechat, wechat_pieces, received, dead_letters, classified, emergencies,
       reviews, review_decisions, assignments, case_events, sla_alerts)  # fmt: skip


def case_log_topic_names() -> list[str]:
    """Full names of the case-log topics (``TopicSpec.case_log``)."""
    return [settings.topic(spec.name) for spec in SPECS.values() if spec.case_log]


def department_topic_names() -> list[str]:
    """Full names of every catalogue department's assignment topic."""
    from routing.catalogue import department_topic as topic_name
    from routing.catalogue import load_catalogue

    return [settings.topic(topic_name(d.code)) for d in load_catalogue().departments]
