"""Which agents and timers make up each stage of the worker.

One worker runs every stage by default (``HOTLINE_WORKER_STAGES``). A busy centre runs
them as separate workers instead, each scaled on its own: intake is I/O-bound, understand
is CPU-bound, sla is Redis-bound. A worker registers only what it imports.
"""

from __future__ import annotations

import importlib

STAGE_MODULES: dict[str, tuple[str, ...]] = {
    "intake": (
        "streams.agents.intake_direct",
        "streams.agents.intake_wechat",
        "streams.timers.wechat_idle",
        "streams.timers.contact_retention",
    ),
    "understand": (
        "streams.agents.understand_route",
        "streams.agents.review_decisions",
        "streams.timers.department_metadata",
        "streams.timers.review_alerts",
    ),
    "sla": (
        "streams.agents.sla_clocks",
        "streams.timers.sla_alerts",
        "streams.timers.sla_early_events",
        "streams.timers.calendar_runway",
        "streams.timers.calendar_change",
    ),
}


def load_stages(stages: tuple[str, ...]) -> None:
    """Import the modules of ``stages`` (unknown names raise ``KeyError``)."""
    for stage in stages:
        for module in STAGE_MODULES[stage]:
            importlib.import_module(module)
