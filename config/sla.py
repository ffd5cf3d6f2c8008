"""Settings of the SLA engine (时限管理): calendar, working hours, policies, alerts, Redis.

Read once per :class:`SlaSettings` instance from ``HOTLINE_SLA_*`` variables; tests build
their own instance with explicit values instead of patching the environment.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from config.env import float_setting, int_setting, setting, zone_setting

_SLA_DATA = Path(__file__).resolve().parent.parent / "sla" / "data"


@dataclass(frozen=True)
class SlaSettings:
    """Everything the SLA engine can be told from the environment."""

    timezone: str = field(
        default_factory=lambda: zone_setting(
            "SLA_TIMEZONE", "Asia/Shanghai", "Time zone of working hours and calendar days"
        )
    )
    working_hours: str = field(
        default_factory=lambda: setting(
            "SLA_WORKING_HOURS",
            "09:00-12:00,13:30-17:30",
            "Working periods of a working day, comma-separated HH:MM-HH:MM (7 h by default)",
        )
    )
    policy_file: Path = field(
        default_factory=lambda: Path(
            setting(
                "SLA_POLICY_FILE",
                str(_SLA_DATA / "policies.toml"),
                "TOML file with the time-limit policies and the rules that pick one per appeal",
            )
        )
    )
    overrides_file: Path = field(
        default_factory=lambda: Path(
            setting(
                "SLA_CALENDAR_OVERRIDES",
                str(_SLA_DATA / "calendar_overrides.toml"),
                "TOML file with local working-day announcements overriding chinese-calendar",
            )
        )
    )
    provisional_years: int = field(
        default_factory=lambda: int_setting(
            "SLA_PROVISIONAL_YEARS",
            1,
            "Years after the last declared one whose deadlines are counted provisionally on "
            "the statutory holidays alone, until the State Council's arrangement is declared "
            "(0: reject time limits reaching past the declared years)",
            low=0,
        )
    )
    handover_skew_s: int = field(
        default_factory=lambda: int_setting(
            "SLA_HANDOVER_SKEW_S",
            120,
            "A department's first event of a hop stamped up to this many seconds before the "
            "hop's assignment (its system's clock behind the centre's) is applied as made at "
            "the assignment, not rejected SLA_OUT_OF_ORDER (0: rejected)",
            low=0,
            high=3600,
        )
    )
    warn_first: float = field(
        default_factory=lambda: float_setting(
            "SLA_WARN_FIRST",
            0.5,
            "Fraction of allowed time that raises the first warning (warn50)",
            high=1.0,
        )
    )
    warn_second: float = field(
        default_factory=lambda: float_setting(
            "SLA_WARN_SECOND",
            0.8,
            "Fraction of allowed time that raises the yellow card (warn80, 'near due')",
            high=1.0,
        )
    )
    escalate_overrun: float = field(
        default_factory=lambda: float_setting(
            "SLA_ESCALATE_OVERRUN",
            0.25,
            "Overrun past the deadline, as a fraction of allowed time, that escalates to a supervisor",
        )
    )
    redis_prefix: str = field(
        default_factory=lambda: setting(
            "SLA_REDIS_PREFIX", "sla:", "Prefix of every SLA key in Redis"
        )
    )
    timer_interval: float = field(
        default_factory=lambda: float_setting(
            "SLA_TIMER_INTERVAL", 5.0, "Seconds between two scans for due SLA thresholds"
        )
    )
    scan_batch: int = field(
        default_factory=lambda: int_setting(
            "SLA_SCAN_BATCH",
            1000,
            "Cases claimed per Lua call of a scan (bounds Redis blocking)",
            low=1,
        )
    )
    alert_lease: int = field(
        default_factory=lambda: int_setting(
            "SLA_ALERT_LEASE",
            60,
            "Seconds a claimed alert may stay unacknowledged before another scan redelivers it",
            low=1,
        )
    )
    dept_buckets: int = field(
        default_factory=lambda: int_setting(
            "SLA_DEPT_BUCKETS",
            64,
            "Hashes per department index; keep open cases per department / buckets under 128 "
            "so each stays a compact listpack (changing it needs a rebuild)",
            low=1,
        )
    )
    early_event_wait: int = field(
        default_factory=lambda: int_setting(
            "SLA_EARLY_EVENT_WAIT",
            600,
            "Seconds a case event that arrived before its case's assignment waits for it "
            "(then it is dead-lettered as SLA_UNKNOWN_CASE)",
            low=0,
        )
    )
    closed_ttl: int = field(
        default_factory=lambda: int_setting(
            "SLA_CLOSED_TTL",
            30 * 86400,
            "Seconds a closed case stays in Redis (for reopen and duplicate detection)",
            low=0,
        )
    )

    @property
    def fractions(self) -> tuple[float, float, float, float]:
        """Consumed fractions of allowed time at warn50, warn80, overdue and escalate."""
        return (self.warn_first, self.warn_second, 1.0, 1.0 + self.escalate_overrun)


#: Instantiated at import so ``config.env.REGISTRY`` documents every SLA variable.
DEFAULTS = SlaSettings()
