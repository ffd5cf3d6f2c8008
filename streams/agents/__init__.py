"""Stream agents, one module per concern."""

from streams.agents import dedupe, intake_direct, intake_wechat  # noqa: F401
