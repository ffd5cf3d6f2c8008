"""The last resort of an agent: an error nobody anticipated stops the worker, and the
records in hand are left unacknowledged for its successor.

When an exception escapes an agent's loop body, faust acknowledges the records it was
handling (``take_events`` acknowledges its batch in a ``finally``) and its supervisor
restarts the agent, which goes on with the next records: the batch is lost with its
offsets committed, and records buffered meanwhile are acknowledged too. Outages are
waited out (``streams/outages.py``) and bad records dead-lettered where they are met; what
still escapes is a bug, or an error nobody foresaw. :func:`stop_worker_on_error` wraps a
loop body: on such an error it logs it with its traceback, withholds every record in
hand (``streams/shutdown.py``: marked done for faust's wait, never committable) and
crashes the app, so the worker stops with a non-zero exit. Its supervisor (systemd,
compose) starts it again and the records are read again from the committed offsets:
at-least-once, as after a stop during an outage. An error that comes back each time
keeps the worker from going past its record, which a lagging consumer group shows,
instead of losing every record after it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from streams.shutdown import not_acknowledged, withhold

log = logging.getLogger(__name__)


def _app():
    from streams.app import app

    return app


@asynccontextmanager
async def stop_worker_on_error(what: str) -> AsyncIterator[None]:
    """Run an agent's loop body; on an unexpected exception, stop the worker with the
    records in hand unacknowledged (see the module). Never returns after one: the body's
    agent waits, with nothing acknowledged, until the stopping worker cancels it."""
    try:
        yield
    except Exception as exc:
        app = _app()
        held = withhold(app.consumer)
        log.critical(
            "%s failed unexpectedly (%s: %s): %s, they will be redone after restart; "
            "the worker stops",
            what, type(exc).__name__, exc, not_acknowledged(held), exc_info=exc,
        )  # fmt: skip
        await app.crash(exc)  # the worker stops, and exits non-zero
        await asyncio.get_running_loop().create_future()  # until cancelled
