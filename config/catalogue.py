"""Every setting of the project, collected from the per-concern modules of this package."""

from __future__ import annotations

import importlib

from config.env import REGISTRY, SettingDoc

_MODULES = ("config.data", "config.stack", "config.streams", "config.intake", "config.understand",
            "config.routing", "config.sla")  # fmt: skip


def all_settings() -> dict[str, SettingDoc]:
    """Import each settings module and build its settings object so every variable is registered."""
    from config.intake import IntakeSettings
    from config.sla import SlaSettings
    from config.stack import StackSettings
    from config.streams import StreamSettings

    for name in _MODULES:
        importlib.import_module(name)
    StackSettings(), StreamSettings(), IntakeSettings(), SlaSettings()
    return dict(REGISTRY)
