"""Triage outcomes as the exact records the producer sends (topic, key bytes, value bytes).

No faust app here: the triage process builds these too. The bytes are what faust's
``Topic.send`` would produce for the same record (``Record.dumps``).
"""

from __future__ import annotations

from dataclasses import dataclass

import faust

from config.streams import StreamSettings
from models.assignment import Assignment
from models.emergency import EmergencyTransfer
from routing.catalogue import department_topic
from triage.outcome import Outcome

_settings = StreamSettings()


@dataclass(frozen=True)
class Wire:
    """One record ready for the producer: full topic name, key and value bytes."""

    topic: str
    key: bytes
    value: bytes


def _wire(topic: str, key: str, value: faust.Record) -> Wire:
    return Wire(_settings.topic(topic), key.encode(), value.dumps())


def assignment_wires(assignment: Assignment) -> list[Wire]:
    """An assignment on the all-assignments topic and on its lead department's own topic."""
    key, value = assignment.appeal_id.encode(), assignment.dumps()  # one record, two topics
    return [
        Wire(_settings.topic("assignments.all"), key, value),
        Wire(_settings.topic(department_topic(assignment.lead_code)), key, value),
    ]


def transfer_wire(transfer: EmergencyTransfer) -> Wire:
    """An emergency transfer on the emergency-transfer topic."""
    return _wire("appeals.emergency", transfer.appeal_id, transfer)


def outcome_wires(appeal_id: str, outcome: Outcome) -> list[Wire]:
    """Emergency transfer first, then the classification, then review request or assignment."""
    out = []
    if outcome.emergency is not None:
        out.append(transfer_wire(outcome.emergency))
    out.append(_wire("appeals.classified", appeal_id, outcome.classification))
    if outcome.review is not None:
        out.append(_wire("appeals.review", appeal_id, outcome.review))
    if outcome.assignment is not None:
        out += assignment_wires(outcome.assignment)
    return out
