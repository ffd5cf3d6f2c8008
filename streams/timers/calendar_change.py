"""At start: recompute open deadlines if the working-day calendar changed since they were set.

The calendar changes when a year is declared (``hotline sla declare-year``, or a newer
chinese-calendar), a local day off is announced in the overrides file, or the working
hours are set otherwise. Deadlines already stored were computed on the old calendar;
those counted provisionally into an undeclared year are the usual case. The store keeps
the fingerprint of the calendar its deadlines are on (:meth:`SlaStore.calendar_changed`).

A recompute that fails for another reason than an outage (a bug, a state it cannot read;
cases that keep changing under it are waited out like an outage) is logged and the worker
goes on (:func:`~streams.timer_step.run_timer_step`): its agents and alert scans matter
more than moving deadlines. The fingerprint is then not recorded, so the next start tries
again; ``hotline sla recompute`` does it by hand.
"""

from __future__ import annotations

import logging

from streams.app import app
from streams.stores import sla_store
from streams.timer_step import run_timer_step

log = logging.getLogger(__name__)


@app.task
async def recompute_deadlines_if_the_calendar_changed() -> None:
    """Compare the calendar's fingerprint with the store's; recompute when they differ."""
    await run_timer_step(
        "recomputing the open deadlines",
        _recompute_if_changed,
        then="the deadlines stay as computed on the old calendar until the next worker "
        "start or `hotline sla recompute`",
    )


async def _recompute_if_changed() -> None:
    store = sla_store()
    if not await store.calendar_changed():
        return
    report = await store.recompute_deadlines()
    log.info(
        "SLA: working-day calendar changed: recomputed the deadlines of %d open case(s), %d moved",
        report.examined,
        report.moved,
    )
    if report.out_of_range:
        log.warning(
            "SLA: %d case(s) kept their old deadlines: the new ones fall past the calendar "
            "(e.g. %s)",
            len(report.out_of_range),
            report.out_of_range[0],
        )
