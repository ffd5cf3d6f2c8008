"""Fixtures for the pure SLA tests: the real calendar, default hours, the shipped policies."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from sla.calendar import WorkdayCalendar
from sla.events import SlaEngine
from sla.policies import load_policies
from sla.working_time import WorkingHours, WorkingTime

TZ = ZoneInfo("Asia/Shanghai")
POLICIES = Path(__file__).resolve().parents[3] / "sla" / "data" / "policies.toml"
FRACTIONS = (0.5, 0.8, 1.0, 1.25)


def at(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    """A Beijing-time instant."""
    return datetime(y, mo, d, h, mi, tzinfo=TZ)


@pytest.fixture(scope="session")
def wt() -> WorkingTime:
    return WorkingTime(WorkdayCalendar(), WorkingHours.parse("09:00-12:00,13:30-17:30"), TZ)


@pytest.fixture(scope="session")
def engine(wt: WorkingTime) -> SlaEngine:
    return SlaEngine(wt, load_policies(POLICIES), FRACTIONS)
