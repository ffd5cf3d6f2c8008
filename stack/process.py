"""Start, find and stop the background server processes the project owns (pid files)."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path


class StackError(RuntimeError):
    """A local service could not be fetched, started or reached; the message says why."""


def port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    """Whether something accepts TCP connections on ``host:port``."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def read_pid(pid_file: Path) -> int | None:
    """The pid in ``pid_file`` if that process is still alive, else ``None``."""
    try:
        pid = int(pid_file.read_text().strip())
    except (FileNotFoundError, ValueError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        return pid
    return pid


def spawn(
    cmd: list[str], log_file: Path, pid_file: Path, env: dict[str, str] | None = None
) -> subprocess.Popen:
    """Start ``cmd`` detached from this process group, logging to ``log_file``.

    Callers poll the returned handle while waiting for health, so a process that
    exits at start is noticed at once (a zombie still answers ``kill -0``).
    """
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with open(log_file, "ab") as log:
        proc = subprocess.Popen(
            cmd,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={**os.environ, **(env or {})},
            start_new_session=True,  # survives the CLI that started it, like a daemon
        )
    pid_file.write_text(str(proc.pid))
    return proc


def wait_until(
    check: Callable[[], bool], timeout: float, what: str, log_file: Path | None = None
) -> None:
    """Poll ``check`` until it holds or raise :class:`StackError` with the log's tail."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.25)
    tail = ""
    if log_file and log_file.exists():
        tail = "\n".join(log_file.read_text(errors="replace").splitlines()[-20:])
    raise StackError(f"{what} did not become healthy within {timeout:.0f}s.\n{tail}")


def stop_pid(pid_file: Path, timeout: float = 30.0) -> bool:
    """SIGTERM the process in ``pid_file``, SIGKILL after ``timeout``; True if one was running."""
    pid = read_pid(pid_file)
    if pid is None:
        pid_file.unlink(missing_ok=True)
        return False
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and read_pid(pid_file) is not None:
        with contextlib.suppress(ChildProcessError):  # reap it if it is our child
            os.waitpid(pid, os.WNOHANG)
        time.sleep(0.2)
    if read_pid(pid_file) is not None:
        os.kill(pid, signal.SIGKILL)
    pid_file.unlink(missing_ok=True)
    return True


def child_pids(pid: int) -> list[int]:
    """Live child processes of ``pid`` (Linux ``/proc``), e.g. a worker's triage processes."""
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parent = stat.read_text().rsplit(")", 1)[1].split()[1]
        except OSError:
            continue
        if parent == str(pid):
            out.append(int(stat.parent.name))
    return out
