"""Periodic tasks, one module each."""

from streams.timers import wechat_idle  # noqa: F401
