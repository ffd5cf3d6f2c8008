"""One run of a timer's step (or a start task's): an error is logged, never allowed to stop
the worker.

faust runs a timer as one of the app's tasks, and a task that raises crashes the whole
worker (mode's ``Service.crash``): its agents too, so one case state the SLA alert scan
cannot read would stop intake and classification as well, again on every restart while
the state is there. Each timer's step therefore runs here:

* an outage (Redis, the broker) is waited out as everywhere (:func:`until_reachable`);
* any other error is logged with its traceback (the first time, then at most once per
  ``every`` seconds while it repeats, saying how many were held back) and the step is
  simply run again at the next tick. The steps are built for that: SLA claims not
  acknowledged are redelivered, alert ids are deterministic, events are deduplicated.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from streams.outages import until_reachable

log = logging.getLogger(__name__)
T = TypeVar("T")

#: step name -> (when its failure was last logged, failures held back since)
_failing: dict[str, tuple[float, int]] = {}


async def run_timer_step(
    what: str,
    step: Callable[..., Awaitable[T]],
    *args: object,
    every: float = 300.0,
    clock: Callable[[], float] = time.monotonic,
    then: str = "the next tick tries again",
) -> T | None:
    """``step(*args)``'s result, or ``None`` if it failed (logged; the next tick retries).

    ``then`` ends the logged line: what happens next (a start task runs again only at
    the next start).
    """
    try:
        result = await until_reachable(what, step, *args)
    except Exception:
        now = clock()
        shown, held = _failing.get(what, (float("-inf"), 0))
        if now - shown < every:
            _failing[what] = (shown, held + 1)
            return None
        _failing[what] = (now, 0)
        more = f" ({held} more failure(s) held back in {every:.0f} s)" if held else ""
        log.exception("%s failed%s; the worker goes on and %s", what, more, then)
        return None
    if _failing.pop(what, None) is not None:
        log.info("%s works again", what)
    return result
