"""CPU time of a worker process and its children, from /proc (Linux).

On a shared machine wall-clock throughput moves with the neighbours' load; CPU seconds
per record spent by the worker are a steadier figure to compare code changes with.
"""

from __future__ import annotations

import os
from pathlib import Path


def tree_cpu_s(pid: int) -> float:
    """CPU seconds (user + system) of process ``pid`` and its live children."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if stat.parent.name == str(pid) or fields[1] == str(pid):  # fields[1]: parent pid
            total += (int(fields[11]) + int(fields[12])) / tick
    return total
