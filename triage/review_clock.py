"""The review wait (复核时限): how long an appeal may wait for a reviewer, and its alerts (pure).

An appeal parked for human review has no department yet, so no case clock: the SLA
engine's clocks start with the first assignment. Until a reviewer decides, this clock
stands in: a yellow card (``warn80``) at a fraction of the allowed wait and a red card
(``overdue``) at its end, published on ``sla.alerts`` like every other SLA alert, so a
supervisor watching that topic sees a queue nobody works.

Each waiting appeal has its deadline and its *next* threshold instant; a scan takes the
appeals whose next instant has come, raises that threshold's alert and moves on to the
next (``warn80`` → ``overdue`` → done). Alert ids are deterministic
(``<appeal>/review/<threshold>``): published twice, consumers drop the copy.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from models.sla_alert import SlaAlert
from sla.calendar import CalendarRangeError
from sla.clocks import Timebase
from sla.policies import ClockMode, Duration

CLOCK = "review"
CLOCK_ID = "review"


@dataclass(frozen=True, slots=True)
class ReviewDeadline:
    """When the yellow card and the red card of one waiting appeal are due (epoch s)."""

    warn_at: int
    due_at: int
    #: True when a working-time limit ran past the working-day calendar and was counted
    #: in wall time instead (a deadline, even an early one, beats none).
    wall_fallback: bool = False


@dataclass(frozen=True, slots=True)
class ReviewClock:
    """The allowed review wait, counted in its own kind of time; shorter for emergencies
    (transferred to 110/119/120/122 at once, their department follow-up due in hours)."""

    limit: Duration
    timebase: Timebase
    warn_fraction: float
    day_seconds: int
    emergency_limit: Duration | None = None  # None: the same as ``limit``

    @property
    def enabled(self) -> bool:
        """False when both limits are zero (review alerts turned off)."""
        return self.limit.amount > 0 or bool(self.emergency_limit and self.emergency_limit.amount)

    def deadline(self, requested_at: int, emergency: bool = False) -> ReviewDeadline | None:
        """Deadlines of an appeal parked at ``requested_at``; ``None`` if its alerts are off."""
        limit = self.emergency_limit if emergency and self.emergency_limit else self.limit
        if limit.amount == 0:
            return None
        seconds = limit.seconds(self.day_seconds)
        warn = int(seconds * self.warn_fraction)

        def counted_in(mode: ClockMode) -> ReviewDeadline:
            return ReviewDeadline(
                warn_at=self.timebase.advance(mode, requested_at, warn),
                due_at=self.timebase.advance(mode, requested_at, seconds),
                wall_fallback=mode is not limit.mode,
            )

        try:
            return counted_in(limit.mode)
        except CalendarRangeError:  # wall time never leaves the calendar
            return counted_in(ClockMode.WALL)


def threshold_due(at: int, due_at: int) -> tuple[str, int | None]:
    """The threshold reached at the next instant ``at`` of a clock due at ``due_at``, and
    the instant after it (``None``: nothing more to raise)."""
    if at < due_at:
        return "warn80", due_at
    return "overdue", None


def review_alert(
    appeal_id: str, threshold: str, at: int, due_at: int, raised_at: datetime,
    district: str | None = None,
) -> SlaAlert:  # fmt: skip
    """The alert for one threshold of one appeal's review wait (no department yet)."""
    tz = raised_at.tzinfo
    return SlaAlert(
        alert_id=f"{appeal_id}/{CLOCK_ID}/{threshold}",
        appeal_id=appeal_id,
        clock=CLOCK,
        clock_id=CLOCK_ID,
        threshold=threshold,
        threshold_at=datetime.fromtimestamp(at, tz),
        due_at=datetime.fromtimestamp(due_at, tz),
        raised_at=raised_at,
        district=district,
    )
