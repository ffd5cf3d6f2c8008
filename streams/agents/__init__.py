"""Stream agents, one module per concern."""

from streams.agents import intake_direct, intake_wechat  # noqa: F401
