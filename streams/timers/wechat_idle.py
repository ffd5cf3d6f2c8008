"""Ask for idle WeChat sessions to be closed.

Tables may only change inside the agent that owns the partition, so the timer sends a
flush request through the pieces topic instead of closing sessions itself. It sends none
while raw.wechat messages waiting at the last assignment are not pieces yet
(``streams/wechat_backlog.py``): they may belong to a session that looks idle.
"""

from __future__ import annotations

import logging
import time

from intake.wechat_session import idle_period, is_idle
from streams import topics
from streams.agents.intake_wechat import flush_request, intake_backlog
from streams.app import app
from streams.intake_step import intake_settings
from streams.tables.wechat_sessions import wechat_sessions
from streams.timer_step import run_timer_step

log = logging.getLogger(__name__)
_requested: dict[str, float] = {}


#: Often enough for the shorter of the two quiet spells (emergencies close after seconds).
_SHORTEST_IDLE_S = min(intake_settings.wechat_idle_flush_s, intake_settings.wechat_emergency_idle_s)


@app.timer(interval=max(1.0, min(30.0, _SHORTEST_IDLE_S / 4)))
async def request_idle_flushes() -> None:
    """Send one flush request per idle session (again only after another idle period)."""
    # an exception in a timer stops the worker: outages are waited out, errors logged
    await run_timer_step("WeChat idle flush", _request_idle_flushes)


async def _request_idle_flushes() -> None:
    now = time.time()
    if not await intake_backlog.refresh(now):
        return
    opened_at = intake_backlog.opened_at
    longest_s = intake_settings.wechat_idle_flush_s
    for stale in [ref for ref, at in _requested.items() if now - at > 10 * longest_s]:
        del _requested[stale]
    for contact_ref, session in list(wechat_sessions.items()):
        if intake_backlog.opened_at != opened_at:  # closed by a rebalance meanwhile
            return
        if session is None:
            continue
        idle_s = idle_period(session, intake_settings)
        if not is_idle(session, now, idle_s):
            continue
        asked = _requested.get(contact_ref, 0.0)
        # a request made before the gate last opened is ignored by the agent: ask again
        if asked >= opened_at and now - asked < idle_s:
            continue
        log.debug("asking to close idle WeChat session %s", contact_ref)
        await topics.wechat_pieces.send(key=contact_ref, value=flush_request(contact_ref, now))
        _requested[contact_ref] = now  # only once sent: a retried tick asks again
