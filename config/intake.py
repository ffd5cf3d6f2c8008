"""Intake limits and behaviour."""

from __future__ import annotations

from dataclasses import dataclass, field

from config.env import int_setting, setting, zone_setting


@dataclass(frozen=True)
class IntakeSettings:
    """Validation limits, WeChat session window and the contact-reference secret."""

    max_content_chars: int = field(
        default_factory=lambda: int_setting(
            "MAX_CONTENT_CHARS", 20_000, "Longer appeal text is dead-lettered (OVERSIZED)", low=1
        )
    )
    max_future_skew_s: int = field(
        default_factory=lambda: int_setting(
            "MAX_FUTURE_SKEW_S",
            600,
            "A timestamp further than this in the future is dead-lettered",
            low=0,
        )
    )
    wechat_window_s: int = field(
        default_factory=lambda: int_setting(
            "WECHAT_WINDOW_S",
            600,
            "Consecutive WeChat messages of one user within this gap form one appeal",
            low=0,
        )
    )
    wechat_max_session_messages: int = field(
        default_factory=lambda: int_setting(
            "WECHAT_MAX_SESSION_MESSAGES",
            50,
            "A WeChat session closes into an appeal at this many messages, or before its text "
            "would pass HOTLINE_MAX_CONTENT_CHARS; the next message starts the next appeal",
            low=1,
        )
    )
    wechat_idle_flush_s: int = field(
        default_factory=lambda: int_setting(
            "WECHAT_IDLE_FLUSH_S",
            600,
            "Close a WeChat session after this long without a new message (wall clock); after "
            "a start, a rebalance, a broker outage or an intake lag of over 90 s only once the "
            "raw.wechat messages waiting then are taken in (at most 6 idle periods; at once, "
            "with a warning, if offsets cannot be read for another reason than an unreachable "
            "broker)",
            low=1,
        )
    )
    wechat_emergency_idle_s: int = field(
        default_factory=lambda: int_setting(
            "WECHAT_EMERGENCY_IDLE_S",
            30,
            "Close a WeChat session whose messages describe an emergency (fire, gas leak, "
            "injury…) after this long without a new message, so it reaches the emergency "
            "transfer in seconds rather than after the idle period",
            low=1,
        )
    )
    contact_secret: str = field(
        default_factory=lambda: setting(
            "CONTACT_SECRET",
            "change-me",
            "HMAC key for opaque contact references; set a real secret in production",
        )
    )
    timezone: str = field(
        default_factory=lambda: zone_setting(
            "TIMEZONE", "Asia/Shanghai", "Local time zone of the centre"
        )
    )
