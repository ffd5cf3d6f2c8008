"""Bytes to text: UTF-8 first, legacy GB18030/GBK where an old system sent it."""

from __future__ import annotations

import re

from intake.errors import ErrorCode, IntakeError

_XML_ENCODING = re.compile(rb"^\s*<\?xml[^>]*encoding\s*=\s*[\"']([A-Za-z0-9_-]+)[\"']")
_LEGACY = {"gbk", "gb2312", "gb18030", "cp936"}


_TEXT_RANGES = (
    (0x2000, 0x206F),  # general punctuation: “ ” … —
    (0x3000, 0x303F),  # CJK symbols and punctuation
    (0x3400, 0x4DBF),  # CJK extension A (rare name characters)
    (0x4E00, 0x9FFF),  # CJK unified ideographs
    (0xFF00, 0xFFEF),  # full-width forms
    (0x20000, 0x2A6DF),  # CJK extension B
)


def _looks_like_text(text: str) -> bool:
    """GB18030 decodes many random byte strings; real text is mostly common characters."""
    if not text:
        return True
    ok = sum(
        1 for ch in text if ch.isascii() or any(lo <= ord(ch) <= hi for lo, hi in _TEXT_RANGES)
    )
    return ok / len(text) >= 0.95


#: Valid UTF-8 multi-byte characters per broken sequence from which bytes are damaged
#: UTF-8, not GBK. Read as UTF-8, GBK text breaks at nearly every character: at most 3
#: valid per broken one in the shared data's appeals as GBK records of every channel, at
#: most 5 in fragments of up to 12 characters. UTF-8 with one byte cut or lost has dozens,
#: except in a few words (a short WeChat message), which stay ambiguous.
_DAMAGED_UTF8_RATIO = 8


def _damaged_utf8(data: bytes) -> bool:
    """Mostly valid UTF-8 with a few broken characters (a byte lost or cut off).

    GB18030 reads many such byte strings without error, as other Chinese characters.
    """
    text = data.decode("utf-8", "replace")
    broken = text.count("\ufffd")
    valid = sum(1 for ch in text if ord(ch) > 0x7F) - broken
    return valid >= _DAMAGED_UTF8_RATIO * broken


#: Non-ASCII characters from which a body declared GBK but valid UTF-8 is read as UTF-8.
#: GBK text is rarely valid UTF-8, and then never as text: of the shared data's 24,600
#: texts and 196,800 fragments of 1 to 12 characters encoded as GBK, 4,585 fragments are
#: valid UTF-8 (一楼漏水 reads һ¥©ˮ), none of them with two or more non-ASCII characters
#: that look like text, alone or inside an XML body.
_MISLABELLED_MIN_CHARS = 2


def _utf8_text(data: bytes) -> str | None:
    """``data`` read as UTF-8 if it is UTF-8 Chinese text whatever its declaration says
    (a system that re-encoded its XML and kept the old header), else ``None``."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None
    # the non-ASCII characters alone: an XML body is mostly ASCII markup
    wide = "".join(ch for ch in text if not ch.isascii())
    return text if len(wide) >= _MISLABELLED_MIN_CHARS and _looks_like_text(wide) else None


def decode(data: bytes) -> str:
    """Decode a raw record, honouring an XML declaration's encoding (a body declared
    GBK that is UTF-8 Chinese text is read as UTF-8: the header was kept when it was
    re-encoded, and GB18030 would read it as other characters without an error).

    Raises :class:`IntakeError` (``UNDECODABLE``) when the bytes are neither valid UTF-8
    nor plausible GB18030 text.
    """
    declared = _XML_ENCODING.match(data)
    if declared and declared.group(1).decode().lower() in _LEGACY:
        mislabelled = _utf8_text(data)
        if mislabelled is not None:
            return mislabelled
        try:
            return data.decode("gb18030")
        except UnicodeDecodeError as exc:
            raise IntakeError(
                ErrorCode.UNDECODABLE, f"declared {declared.group(1).decode()} but {exc.reason}"
            ) from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as utf8_error:
        if _damaged_utf8(data):
            raise IntakeError(
                ErrorCode.UNDECODABLE,
                f"damaged UTF-8 ({utf8_error.reason} at byte {utf8_error.start})",
            ) from None
        try:
            text = data.decode("gb18030")
        except UnicodeDecodeError:
            text = None
        if text is not None and _looks_like_text(text):
            return text
        raise IntakeError(
            ErrorCode.UNDECODABLE,
            f"not UTF-8 ({utf8_error.reason} at byte {utf8_error.start}) and not GB18030/GBK text",
        ) from None
