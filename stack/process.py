"""Start, find and stop the background server processes the project owns (pid files)."""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

log = logging.getLogger(__name__)


class StackError(RuntimeError):
    """A local service could not be fetched, started or reached; the message says why."""


def port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    """Whether something accepts TCP connections on ``host:port``."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


# A pid file holds the pid on its first line, then ``start=`` (the process's start time in
# clock ticks since boot, field 22 of /proc/<pid>/stat) and ``boot=`` (the kernel's boot
# id). A pid alone is not an identity: after a reboot, or once the server has died, the
# same pid may be another program's, and `stack down` runs as root. A process is ours only
# while its pid, start time and boot id all still match. A pid file written before these
# lines existed (pid only) names our process only if that process's command line is what
# we launched (``legacy`` markers).

Marker = tuple[str, ...]
_PROC = Path("/proc")


def _proc_mounted() -> bool:
    """Whether /proc tells processes apart (Linux); without it the pid is all we have."""
    return (_PROC / "self/stat").exists()


def _stat_start(pid: int) -> str | None:
    """Start time of ``pid`` in clock ticks since boot, or None if it is gone or a zombie."""
    try:
        fields = (_PROC / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    # fields[0] is field 3 (state); a zombie or dead task has exited already
    if fields[0] in ("Z", "X", "x"):
        return None
    return fields[19]  # field 22


def _boot_id() -> str:
    try:
        return (_PROC / "sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return ""


def _cmdline(pid: int) -> list[str]:
    """The arguments of ``pid``; a retitled process (redis-server, setproctitle) is split
    on whitespace, as its title is one string."""
    try:
        raw = (_PROC / str(pid) / "cmdline").read_bytes()
    except OSError:
        return []
    args = [a for a in raw.decode(errors="replace").split("\0") if a]
    if len(args) == 1:
        args = args[0].split()
    return args


def _matches(args: list[str], markers: tuple[Marker, ...]) -> bool:
    """Whether one of ``markers`` occurs in ``args`` as consecutive arguments (an argument
    matches a marker word if it is that word or a path ending in it)."""

    def same(arg: str, word: str) -> bool:
        return arg == word or arg.rsplit("/", 1)[-1] == word

    for marker in markers:
        n = len(marker)
        for i in range(len(args) - n + 1):
            if all(same(a, w) for a, w in zip(args[i : i + n], marker, strict=True)):
                return True
    return False


def _identity(pid: int) -> dict[str, str]:
    start = _stat_start(pid)
    return {"start": start, "boot": _boot_id()} if start is not None else {}


def write_pid(pid_file: Path, pid: int) -> None:
    """Record ``pid`` with its identity (start time, boot id) in ``pid_file``."""
    lines = [str(pid), *(f"{k}={v}" for k, v in _identity(pid).items())]
    tmp = pid_file.with_name(pid_file.name + ".tmp")
    tmp.write_text("\n".join(lines) + "\n")
    tmp.replace(pid_file)


def _parse(pid_file: Path) -> tuple[int, dict[str, str]] | None:
    try:
        lines = pid_file.read_text().split()
        pid = int(lines[0])
    except (FileNotFoundError, ValueError, IndexError):
        return None
    return pid, dict(line.split("=", 1) for line in lines[1:] if "=" in line)


def _ours(pid: int, recorded: dict[str, str], legacy: tuple[Marker, ...]) -> str | None:
    """None if ``pid`` is our live process, else why not (for the log line)."""
    if pid <= 0:
        return f"pid {pid} is not a process id"
    if not _proc_mounted():
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return f"process {pid} is not running"
        except PermissionError:
            return f"process {pid} belongs to another user"
        return None
    start = _stat_start(pid)
    if start is None:
        return f"process {pid} is not running"
    if "start" in recorded:
        if recorded["start"] != start or recorded.get("boot", "") != _boot_id():
            return f"pid {pid} is now another process (started after the one recorded)"
        return None
    args = _cmdline(pid)
    if not _matches(args, legacy):
        return f"pid {pid} is now another process ({' '.join(args)[:80] or 'no command line'})"
    return None


def read_pid(pid_file: Path, legacy: tuple[Marker, ...] = ()) -> int | None:
    """The pid in ``pid_file`` if that is still the process we started, else ``None``.

    A pid file that names no live process of ours (a stale one, after a crash or a
    reboot) is removed, with a warning that says so. ``legacy``: command-line markers that
    identify our process when the pid file has no recorded identity (an older file).
    """
    parsed = _parse(pid_file)
    if parsed is None:
        return None
    pid, recorded = parsed
    why = _ours(pid, recorded, legacy)
    if why is None:
        return pid
    log.warning("removed stale pid file %s: %s", pid_file, why)
    pid_file.unlink(missing_ok=True)
    return None


def _still(pid: int, start: str | None) -> bool:
    """Whether ``pid`` is still the process that had start time ``start`` (and alive)."""
    if start is None:  # no /proc: the pid is all we have
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True
    return _stat_start(pid) == start


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
    write_pid(pid_file, proc.pid)
    return proc


class StartTimeout(StackError):
    """:func:`wait_until` ran out of time."""


def _tail(log_file: Path | None, lines: int = 20) -> str:
    if log_file and log_file.exists():
        return "\n".join(log_file.read_text(errors="replace").splitlines()[-lines:])
    return ""


def wait_until(
    check: Callable[[], bool], timeout: float, what: str, log_file: Path | None = None
) -> None:
    """Poll ``check`` until it holds or raise :class:`StartTimeout` with the log's tail."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.25)
    raise StartTimeout(f"{what} did not become healthy within {timeout:.0f}s.\n{_tail(log_file)}")


def wait_or_stop(
    proc: subprocess.Popen,
    pid_file: Path,
    check: Callable[[], bool],
    timeout: float,
    what: str,
    log_file: Path,
    exited: Callable[[], str],
    stop_timeout: float = 30.0,
) -> None:
    """Wait until ``check`` holds for ``proc``, just started by :func:`spawn`.

    If ``proc`` exits first, remove its pid file and raise :class:`StackError` saying
    ``exited()``. If ``check`` does not hold within ``timeout``, stop ``proc`` (SIGTERM,
    SIGKILL after ``stop_timeout``) and remove its pid file before raising
    :class:`StackError`: a server left running after a failed start would hold the port,
    and the next start would spawn a second one.
    """
    try:
        wait_until(lambda: proc.poll() is not None or check(), timeout, what, log_file)
        if proc.poll() is not None:
            _forget(pid_file, proc.pid)
            raise StackError(exited())
    except StartTimeout:
        how = "stopped"
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(stop_timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
                how = f"killed (it ignored SIGTERM for {stop_timeout:.0f}s)"
        else:
            how = f"found exited (code {proc.returncode})"
        _forget(pid_file, proc.pid)
        raise StackError(
            f"{what} did not become healthy within {timeout:.0f}s, so the process this "
            f"start spawned (pid {proc.pid}) was {how}; see {log_file}\n{_tail(log_file)}"
        ) from None


def _forget(pid_file: Path, pid: int) -> None:
    """Remove ``pid_file`` if it still names ``pid`` (not a later start's process)."""
    parsed = _parse(pid_file)
    if parsed is not None and parsed[0] == pid:
        pid_file.unlink(missing_ok=True)


def join_running(
    pid_file: Path,
    legacy: tuple[Marker, ...],
    check: Callable[[], bool],
    timeout: float,
    what: str,
    log_file: Path,
) -> int | None:
    """If ``pid_file`` names our live process (an earlier start still coming up), wait
    until ``check`` holds and return its pid; None if there is no such process or it exits
    meanwhile (the caller starts a new one). Raise :class:`StackError` if it stays unhealthy:
    it is not stopped, as this start did not spawn it."""
    pid = read_pid(pid_file, legacy)
    if pid is None:
        return None
    log.warning("%s (pid %s) is already starting; waiting for it", what, pid)
    try:
        wait_until(lambda: read_pid(pid_file, legacy) is None or check(), timeout, what)
    except StartTimeout:
        raise StackError(
            f"{what} (pid {pid}, from an earlier start) runs but did not become healthy "
            f"within {timeout:.0f}s; `hotline stack down` stops it; see {log_file}\n"
            f"{_tail(log_file)}"
        ) from None
    return pid if read_pid(pid_file, legacy) is not None else None


@contextlib.contextmanager
def start_lock(folder: Path, what: str) -> Iterator[None]:
    """Serialise starts of one service: a second `stack up` waits for the first."""
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".start.lock", "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log.warning("another start of %s is under way; waiting for it", what)
            fcntl.flock(lock, fcntl.LOCK_EX)
        yield  # the lock goes with the file's close


def stop_pid(pid_file: Path, timeout: float = 30.0, legacy: tuple[Marker, ...] = ()) -> bool:
    """SIGTERM the process in ``pid_file``, SIGKILL after ``timeout``; True if one was running.

    Only a process that :func:`read_pid` says is ours is signalled; a process of another
    user that is ours (started by root, stopped by a user) raises :class:`StackError`.
    """
    pid = read_pid(pid_file, legacy)
    if pid is None:
        pid_file.unlink(missing_ok=True)
        return False
    start = _stat_start(pid) if _proc_mounted() else None
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        pid_file.unlink(missing_ok=True)
        return False
    except PermissionError:
        raise StackError(
            f"cannot stop process {pid} ({pid_file}): it belongs to another user; "
            "stop it as that user or as root"
        ) from None
    if not _gone(pid, start, timeout, poll=0.2):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        _gone(pid, start, 5.0, poll=0.05)
    pid_file.unlink(missing_ok=True)
    return True


def _gone(pid: int, start: str | None, timeout: float, poll: float) -> bool:
    """Wait up to ``timeout`` for ``pid`` (start time ``start``) to end; whether it did."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and _still(pid, start):
        with contextlib.suppress(ChildProcessError):  # reap it if it is our child
            os.waitpid(pid, os.WNOHANG)
        time.sleep(poll)
    return not _still(pid, start)


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
