"""Channel timestamps to timezone-aware datetimes, with sanity limits."""

from __future__ import annotations

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


def parse_local(value: str, tz: ZoneInfo, field: str) -> datetime:
    """Parse ISO 8601 or the mailbox's ``Y/M/D H:MM:SS``; naive times are local (``tz``)."""
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
