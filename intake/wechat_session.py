"""Join consecutive WeChat messages of one user into one appeal (pure logic).

A citizen typically sends several short messages ("你好", "我要投诉…", a location, a
photo). Messages of one user whose ``CreateTime`` gaps stay within the window form one
session; a larger gap, or no message for the idle period (wall clock), closes it. A
session whose messages describe an emergency closes after a much shorter quiet spell, so
the emergency transfer does not wait for the idle period.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from config.intake import IntakeSettings
from intake.appeal_type import infer_appeal_type
from intake.greetings import subject_line
from intake.normalise import AppealDraft, Normalised, finish
from models.wechat import WeChatPiece, WeChatSession
from understand.emergency import detect_emergency
from understand.text_normalise import normalise


def add_piece(
    session: WeChatSession | None,
    piece: WeChatPiece,
    wall_now: float,
    window_s: int,
    *,
    max_chars: int | None = None,
    max_messages: int | None = None,
) -> tuple[WeChatSession, WeChatSession | None]:
    """Add ``piece``; return (open session, session closed by this piece or None).

    A piece whose ``msg_id`` is already in the session is a WeChat retry and changes nothing.
    A piece sent more than the window before the session's first one (a late or redelivered
    piece of a session already closed) is closed on its own and the session stays as it
    was: joined, it would give the session its id, the appeal id of the closed session.

    A session that is full closes and the piece opens the next one: ``max_messages``
    pieces, or text that would pass ``max_chars`` (the appeal's limit) with the piece's.
    A sender who keeps writing within the window would otherwise grow one session
    without end, and lose the whole conversation to one oversized dead letter.
    """
    if session is not None and any(p.msg_id == piece.msg_id for p in session.pieces):
        return session, None
    if session is None:
        return _session([piece], wall_now), None
    if min(p.create_time for p in session.pieces) - piece.create_time > window_s:
        return session, _session([piece], wall_now)
    last = max(p.create_time for p in session.pieces)
    if piece.create_time - last > window_s:
        return _session([piece], wall_now), session
    if _full(session, piece, max_chars, max_messages):
        return _session([piece], wall_now), session
    pieces = sorted([*session.pieces, piece], key=lambda p: (p.create_time, p.msg_id))
    return _session(pieces, wall_now, session.emergency), None


def _full(
    session: WeChatSession, piece: WeChatPiece, max_chars: int | None, max_messages: int | None
) -> bool:
    """Whether ``session`` has no room for ``piece`` (see :func:`add_piece`)."""
    if max_messages is not None and len(session.pieces) >= max_messages:
        return True
    if max_chars is None or not piece.text:
        return False
    # the appeal's content: the texts joined by line breaks (see :func:`close`)
    texts = [len(p.text) for p in session.pieces if p.text]
    return bool(texts) and sum(texts) + len(texts) + len(piece.text) > max_chars


def _session(pieces: list[WeChatPiece], wall_now: float, emergency: bool = False) -> WeChatSession:
    """A session of ``pieces``, flagged once its text so far describes an emergency."""
    if not emergency:
        text = "\n".join(p.text for p in pieces if p.text)
        emergency = bool(text) and detect_emergency(normalise(text)) is not None
    return WeChatSession(
        contact_ref=pieces[0].contact_ref, pieces=pieces, last_seen_wall=wall_now,
        emergency=emergency,
    )  # fmt: skip


def idle_period(session: WeChatSession, settings: IntakeSettings) -> int:
    """Seconds without a new message after which ``session`` closes: short for an emergency.

    Not at once: the next messages (the address, what is burning) usually follow within
    seconds and belong to the same call for help.
    """
    if session.emergency:
        return min(settings.wechat_emergency_idle_s, settings.wechat_idle_flush_s)
    return settings.wechat_idle_flush_s


def is_idle(session: WeChatSession, wall_now: float, idle_s: int) -> bool:
    """Whether no piece arrived for ``idle_s`` seconds of wall-clock time."""
    return wall_now - session.last_seen_wall >= idle_s


def close(session: WeChatSession, now: datetime, settings: IntakeSettings) -> Normalised:
    """Build the appeal of a closed session (raises IntakeError, e.g. only pictures)."""
    first = session.pieces[0]
    texts = [p.text for p in session.pieces if p.text]
    content = "\n".join(texts)
    labels = [p.label for p in session.pieces if p.label]
    media = [p.media_id for p in session.pieces if p.media_id]
    title = subject_line(texts)  # not a greeting ("你好", "在吗") that opened the session
    draft = AppealDraft(
        channel="wechat", source_id=first.msg_id,
        received_at=datetime.fromtimestamp(first.create_time, ZoneInfo(settings.timezone)),
        appeal_type=infer_appeal_type(title, content), title=title, content=content,
        identity=session.contact_ref, address=labels[-1] if labels else None,
        attachments=media or None, contact_ref=session.contact_ref,
    )  # fmt: skip
    # the sender's openid went to the contact store when each piece arrived
    return finish(draft, first.raw, now, settings)
