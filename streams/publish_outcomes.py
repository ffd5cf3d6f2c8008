"""Sending prepared records (:class:`~streams.outcome_wires.Wire`) through the app's producer.

Records are serialized where they are made (in the triage thread or process) and handed
to the producer directly: faust's ``Topic.send`` costs about 100 µs of event-loop time per
record (a future message, schema lookup, callbacks, sensors), and with three records per
appeal that was a third of the worker's time.

At-least-once still holds: a batch's sends are all awaited before the agent takes the
next batch, and a send that fails (the broker away longer than the producer's retries)
makes the agent send the batch again (``streams/outages.py``) before its offsets are
acknowledged.
"""

from __future__ import annotations

from collections.abc import Awaitable, Iterable

from models.assignment import Assignment
from models.emergency import EmergencyTransfer
from streams.app import app
from streams.outages import all_delivered
from streams.outcome_wires import Wire, assignment_wires, transfer_wire


async def enqueue_wires(wires: Iterable[Wire]) -> list[Awaitable]:
    """Hand records to the producer in order; returns the futures of their acknowledgements."""
    producer = app.producer
    return [
        await producer.send(w.topic, w.key, w.value, partition=None, timestamp=None, headers=None)
        for w in wires
    ]


async def send_wires(wires: Iterable[Wire]) -> None:
    """Send records in order and wait until the broker has acknowledged all of them."""
    await all_delivered(await enqueue_wires(wires))


async def publish_assignment(
    assignment: Assignment, transfer: EmergencyTransfer | None = None
) -> None:
    """Publish one assignment (after a review decision, a 改派 or a 重办) on both its topics;
    first the emergency transfer, if a reviewer confirmed one."""
    wires = [transfer_wire(transfer)] if transfer is not None else []
    await send_wires(wires + assignment_wires(assignment))
