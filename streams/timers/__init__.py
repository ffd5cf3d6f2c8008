"""Periodic and start-up tasks, one module each."""

from streams.timers import department_metadata, sla_alerts, wechat_idle  # noqa: F401
