"""WeChat intake: XML messages → masked pieces per sender → one appeal per session."""

from __future__ import annotations

import base64
import logging
import time
from collections import Counter
from dataclasses import replace
from datetime import datetime

import orjson

from intake import wechat, wechat_session
from intake.errors import ErrorCode, IntakeError
from models.appeal import RawRef
from models.dead_letter import DeadLetter
from models.wechat import WeChatPiece, WeChatSession
from stores.closed_wechat_messages import FIRST
from streams import topics
from streams.agent_guard import stop_worker_on_error
from streams.app import app, settings
from streams.dead_letters import send_dead_letter
from streams.intake_step import TZ, convert_all, intake_settings, publish_with_letters
from streams.outages import all_delivered, until_reachable, waited_out
from streams.publish_appeals import publish_appeals
from streams.stores import closed_wechat_messages, contact_store, intake_counters
from streams.tables.wechat_sessions import wechat_sessions
from streams.wechat_backlog import IntakeBacklog, kafka_offsets

log = logging.getLogger(__name__)
FLUSH = "flush"  # msg_type of the control piece the idle timer sends

#: Idle flushes wait after each assignment until the raw.wechat messages waiting then are
#: pieces (see ``streams/wechat_backlog.py``): a session restored after a downtime longer
#: than the idle period would otherwise close before its sender's later messages. Waited
#: for at most 6 idle periods (an hour by default), then sessions close as before.
intake_backlog = IntakeBacklog(
    kafka_offsets(settings.broker, settings.topic("raw.wechat"), app.conf.id),
    max_wait_s=6 * intake_settings.wechat_idle_flush_s,
)


@app.on_partitions_assigned.connect
async def _backlog_after_assignment(sender, assigned, **kwargs) -> None:
    intake_backlog.close(time.time())


def _to_piece(data, ref, now):
    return wechat.to_piece(wechat.parse(data), ref, now, intake_settings)


@app.agent(topics.raw_wechat)
async def wechat_intake(stream):
    """WeChat XML → validated, masked pieces keyed by the sender's contact reference."""
    async for events in stream.take_events(settings.batch_size, within=settings.batch_window_s):
        async with stop_worker_on_error("wechat intake"):
            await _batch(events)


async def _batch(events) -> None:
    """Convert once (no I/O); the dead letters are sent and counted once, the pieces
    retried through an outage on their own (see ``intake_direct._batch``)."""
    results, letters = convert_all(events, "wechat", _to_piece)
    await publish_with_letters("wechat intake", letters, _pieces, results)


async def _pieces(results) -> None:
    if results:
        await contact_store().save_many([contact for _, contact in results])
    sent = [await topics.wechat_pieces.send(key=p.contact_ref, value=p) for p, _ in results]
    await all_delivered(sent)  # before the raw offsets are acknowledged


async def _close(session: WeChatSession) -> None:
    """Publish the session's appeal, or dead-letter the session; then mark it closed.

    An unexpected error (a bug of ours, a record the broker refuses) dead-letters the
    session itself as ``INTERNAL``, and it is closed all the same: raised, it would stay
    in the table, fail again at each later message of its sender (each dead-lettered in
    its place) and at each idle tick, and never close. An outage is raised, for
    :func:`until_reachable` to wait out with the table as it was."""
    try:
        await _appeal_of(session)
    except Exception as exc:
        if waited_out(exc):
            raise
        log.exception("closing the WeChat session of %s (%d messages from %s) failed",
                      session.contact_ref, len(session.pieces),
                      session.pieces[0].raw.as_text())  # fmt: skip
        await _dead_letter_session(session, ErrorCode.INTERNAL, f"{type(exc).__name__}: {exc}")
    await _remember_closed(session)


async def _appeal_of(session: WeChatSession) -> None:
    """Publish the appeal of a closed session (dead-letter it if it is no valid appeal)."""
    try:
        normalised = wechat_session.close(session, datetime.now(TZ), intake_settings)
    except IntakeError as exc:
        await _dead_letter_session(session, exc.code, exc.reason)
        return
    # the sender's openid reached the contact store with each piece (the session knows
    # only its reference: identity left out, not overwritten); what only the joined text
    # shows (a name split over messages: 我叫 / 张三) is saved now
    found = replace(normalised.contact, identity="")
    await publish_appeals([normalised.appeal], [found])


async def _remember_closed(session: WeChatSession) -> None:
    """Mark the session's messages as closed, once its appeal (or dead letter) is out and
    before the table forgets the session (see ``stores/closed_wechat_messages.py``)."""
    await closed_wechat_messages().remember(session.contact_ref, [p.msg_id for p in session.pieces])


async def _dead_letter_session(session: WeChatSession, code: ErrorCode, reason: str) -> None:
    first: RawRef = session.pieces[0].raw
    payload = orjson.dumps(session.asdict(), default=lambda o: o.asdict())
    await send_dead_letter(
        DeadLetter(
            error_code=str(code), reason=f"WeChat session of {len(session.pieces)} messages: {reason}",
            source_topic=first.topic, source_partition=first.partition, source_offset=first.offset,
            payload_b64=base64.b64encode(payload).decode(), failed_at=datetime.now(TZ),
            channel="wechat", stage="wechat-session",
        )
    )  # fmt: skip


@app.agent(topics.wechat_pieces)
async def wechat_sessions_agent(stream):
    """Join one sender's consecutive pieces; close a session on a long gap or when idle.

    An unexpected error on a piece dead-letters it as ``INTERNAL`` instead of crashing the
    agent: a crash would drop the piece (faust moves past the event) and, if the cause
    persists, every piece after it. (An error in closing the session the piece ends is
    the closed session's: :func:`_close` dead-letters that session, and the piece goes on.)
    """
    # pieces are decoded by faust: one it cannot decode ends the stream, acknowledged and
    # without a word, which the outer guard turns into a stop (written by our intake only)
    async with stop_worker_on_error("wechat session stream"):
        async for piece in stream:
            # the last resort: dead-lettering the piece failed too
            async with stop_worker_on_error("wechat session"):
                await _piece_or_dead_letter(piece)


async def _piece_or_dead_letter(piece: WeChatPiece) -> None:
    try:
        await until_reachable("wechat session", _on_piece, piece)
    except Exception as exc:  # a bug of ours, or faust's table: keep the piece for replay
        log.exception("WeChat piece %s failed", piece.raw.as_text())
        if piece.msg_type != FLUSH:  # a flush request carries nothing to keep
            session = WeChatSession(contact_ref=piece.contact_ref, pieces=[piece],
                                    last_seen_wall=time.time())  # fmt: skip
            reason = f"{type(exc).__name__}: {exc}"
            await _dead_letter_session(session, ErrorCode.INTERNAL, reason)


async def _on_piece(piece: WeChatPiece) -> None:
    """One piece. A closed session is published before the table changes, so a retry
    after a failed publish finds the table as it was and closes the session again."""
    current = wechat_sessions.get(piece.contact_ref)
    now = time.time()
    if piece.msg_type == FLUSH:
        # a request older than the gate's opening may have overtaken backlog pieces
        if (
            current is not None
            and intake_backlog.allows(piece.requested_at)
            and wechat_session.is_idle(
                current, now, wechat_session.idle_period(current, intake_settings)
            )
        ):
            await _close(current)
            del wechat_sessions[piece.contact_ref]
        return
    known = current is not None and any(p.msg_id == piece.msg_id for p in current.pieces)
    closed = (
        None if known else await closed_wechat_messages().closed(piece.contact_ref, piece.msg_id)
    )
    if closed is not None:
        log.info("WeChat message %s (%s) is in a closed session already: skipped",
                 piece.msg_id, piece.raw.as_text())  # fmt: skip
        if closed == FIRST:  # the session's appeal, sent again: counted once per appeal
            await intake_counters().add(Counter({"wechat.resent": 1}))
        return
    session, closed = wechat_session.add_piece(
        current, piece, now, intake_settings.wechat_window_s,
        max_chars=intake_settings.max_content_chars,
        max_messages=intake_settings.wechat_max_session_messages,
    )  # fmt: skip
    if closed is not None:
        await _close(closed)
    wechat_sessions[piece.contact_ref] = session


def flush_request(contact_ref: str, requested_at: float) -> WeChatPiece:
    """The control piece asking the session agent to close an idle session."""
    return WeChatPiece(
        contact_ref=contact_ref, msg_id="", create_time=0, msg_type=FLUSH,
        raw=RawRef("", 0, 0), requested_at=requested_at,
    )  # fmt: skip
