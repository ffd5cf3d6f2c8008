"""Channel timestamps to timezone-aware datetimes, with sanity limits."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from intake.errors import ErrorCode, IntakeError

# the mailbox export writes e.g. 2019/4/25 9:32:09 (no zero padding), and a midnight time
# as the date alone (2018/4/24, as Excel does)
_LOCAL_FORMATS = (
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y/%m/%d",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
)
EARLIEST = datetime(2000, 1, 1, tzinfo=ZoneInfo("UTC"))

# Chinese systems' own ways: 2019年4月25日 9:32, 2019.04.25 09:32:09, 2019/4/25 下午3:32
# (a Chinese-locale Excel), 2019年4月25日9时32分
_CHINESE = re.compile(
    r"(\d{4})\s*[年./-]\s*(\d{1,2})\s*[月./-]\s*(\d{1,2})\s*日?"
    r"(?:\s*(上午|早上|凌晨|中午|下午|晚上)?\s*(\d{1,2})\s*[:：时点]\s*(\d{1,2})\s*分?"
    r"(?:\s*[:：]?\s*(\d{1,2})\s*秒?)?)?"
)
# compact digits, as database exports write them: 20190425093209, 201904250932, 20190425
_COMPACT = re.compile(r"(\d{4})(\d{2})(\d{2})(?:(\d{2})(\d{2})(\d{2})?)?")
_AFTERNOON = {"下午", "晚上"}


def _chinese_style(text: str) -> datetime | None:
    """A naive datetime from the Chinese forms above, or None."""
    m = _CHINESE.fullmatch(text) or _COMPACT.fullmatch(text)
    if m is None:
        return None
    groups = m.groups()
    half = groups[3] if m.re is _CHINESE else None
    numbers = [int(g) if g else 0 for g in (groups[4:] if m.re is _CHINESE else groups[3:])]
    hour, minute, second = (numbers + [0, 0, 0])[:3]
    # 下午3点 is 15:00; 中午1点 is 13:00 and 中午12点 noon; 晚上12点 the midnight that ends
    # the day (the next day's 00:00), 凌晨12点 the one that starts it
    next_day = half == "晚上" and hour == 12
    if (half in _AFTERNOON and hour < 12) or (half == "中午" and hour < 6):
        hour += 12
    elif (half in ("上午", "早上", "凌晨") and hour == 12) or next_day:
        hour = 0
    try:
        day = datetime(int(groups[0]), int(groups[1]), int(groups[2]), hour, minute, second)
    except ValueError:
        return None
    return day + timedelta(days=1) if next_day else day


def parse_local(value: str, tz: ZoneInfo, field: str) -> datetime:
    """Parse ISO 8601, the mailbox's ``Y/M/D H:MM:SS`` or a Chinese form (``2019年4月25日
    9:32``, ``2019.04.25``, ``20190425093209``); naive times are local (``tz``)."""
    text = value.strip()
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        for fmt in _LOCAL_FORMATS:
            try:
                parsed = datetime.strptime(text, fmt)
                break
            except ValueError:
                continue
        else:
            parsed = _chinese_style(text)
            if parsed is None:
                raise IntakeError(
                    ErrorCode.BAD_TIMESTAMP, f"{field}: unrecognised time {value!r:.40}"
                ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=tz)
    try:
        return parsed.astimezone(tz)
    except OverflowError:  # e.g. 9999-12-31T23:59:59Z, past year 9999 in local time
        raise IntakeError(
            ErrorCode.BAD_TIMESTAMP, f"{field}: {value!r:.40} is out of range"
        ) from None


def from_unix(seconds: int, tz: ZoneInfo, field: str) -> datetime:
    """Unix seconds (WeChat's CreateTime) to local time."""
    try:
        return datetime.fromtimestamp(seconds, tz)
    except (OverflowError, OSError, ValueError):
        raise IntakeError(
            ErrorCode.BAD_TIMESTAMP, f"{field}: {seconds} is not a valid Unix time"
        ) from None


def check_not_future(when: datetime, now: datetime, skew_s: int, field: str) -> datetime:
    """Reject times further than ``skew_s`` in the future (clock bugs, typos) or before 2000."""
    if when > now + timedelta(seconds=skew_s):
        raise IntakeError(
            ErrorCode.FUTURE_TIMESTAMP,
            f"{field} {when.isoformat()} is after now ({now.isoformat()})",
        )
    if when < EARLIEST:
        raise IntakeError(ErrorCode.BAD_TIMESTAMP, f"{field} {when.isoformat()} is before 2000")
    return when
