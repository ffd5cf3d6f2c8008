"""CPU time of a worker process and its children, from /proc (Linux).

On a shared machine wall-clock throughput moves with the neighbours' load; CPU seconds
per record spent by the worker are a steadier figure to compare code changes with.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from stack.process import child_pids  # noqa: E402


def _cpu_s(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:  # gone meanwhile
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_cpu_s() -> tuple[float, float]:
    """``(busy, all)`` CPU seconds of the whole machine so far, every core (/proc/stat).

    Busy is everything but idle and I/O wait: our processes, the broker, the neighbours.
    """
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    idle = fields[3] + fields[4]
    tick = os.sysconf("SC_CLK_TCK")
    return (sum(fields) - idle) / tick, sum(fields) / tick


def tree_cpu_s(pid: int) -> float:
    """CPU seconds (user + system) of process ``pid`` and its live children."""
    return sum(_cpu_s(p) for p in [pid, *child_pids(pid)])


async def until_quiet(
    pid: int, below: float = 0.1, quiet_s: float = 2.0, timeout_s: float = 60.0
) -> float:
    """Wait until process ``pid`` has used less than ``below`` of a core for ``quiet_s``
    seconds in a row (or ``timeout_s`` passed); returns the seconds waited.

    Without such a pause after its warm-up, the first latency run of an invocation measured
    the throughput runs before it (p99 185-657 ms against 54-64 for the same configuration
    later in the invocation).
    """
    step = 0.5
    started = time.monotonic()
    quiet_since = started
    last = tree_cpu_s(pid)
    while time.monotonic() - started < timeout_s:
        await asyncio.sleep(step)
        now_cpu = tree_cpu_s(pid)
        if now_cpu - last > below * step:
            quiet_since = time.monotonic()
        elif time.monotonic() - quiet_since >= quiet_s:
            break
        last = now_cpu
    return time.monotonic() - started
