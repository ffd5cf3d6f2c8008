"""Stream agents, one module per concern."""

from streams.agents import (  # noqa: F401
    intake_direct,
    intake_wechat,
    review_decisions,
    sla_clocks,
    understand_route,
)
