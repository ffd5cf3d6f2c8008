"""Periodic tasks, one module each."""

from streams.timers import sla_alerts, wechat_idle  # noqa: F401
