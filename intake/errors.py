"""Why intake rejects a raw record: a stable error code plus a readable reason."""

from __future__ import annotations

from enum import StrEnum


class ErrorCode(StrEnum):
    """Dead-letter error codes (stable: operators filter and alert on them)."""

    UNDECODABLE = "UNDECODABLE"  # neither UTF-8 nor legacy GB18030/GBK text
    BAD_JSON = "BAD_JSON"
    BAD_XML = "BAD_XML"
    MISSING_FIELD = "MISSING_FIELD"
    WRONG_TYPE = "WRONG_TYPE"
    BAD_VALUE = "BAD_VALUE"
    EMPTY_CONTENT = "EMPTY_CONTENT"
    OVERSIZED = "OVERSIZED"
    UNKNOWN_MSG_TYPE = "UNKNOWN_MSG_TYPE"
    BAD_TIMESTAMP = "BAD_TIMESTAMP"
    FUTURE_TIMESTAMP = "FUTURE_TIMESTAMP"
    UNKNOWN_APPEAL = "UNKNOWN_APPEAL"  # a review decision for an appeal not waiting for review
    INTERNAL = "INTERNAL"  # a bug of ours; the record is kept for replay


class IntakeError(ValueError):
    """A raw record that cannot become an appeal."""

    def __init__(self, code: ErrorCode, reason: str) -> None:
        super().__init__(f"{code}: {reason}")
        self.code = code
        self.reason = reason
