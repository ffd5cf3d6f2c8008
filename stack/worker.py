"""Run the faust worker in the background (for the demo) and stop it."""

from __future__ import annotations

import sys
from pathlib import Path

from config.stack import StackSettings
from stack.process import read_pid, spawn, stop_pid, wait_or_stop

# what identifies our worker in a pid file written without the process's identity (faust
# retitles the process if setproctitle is installed)
LEGACY = (("-m", "streams", "worker"), ("[Faust:Worker]",))


def worker_dir(s: StackSettings) -> Path:
    return s.state_dir / "worker"


def log_file(s: StackSettings) -> Path:
    return worker_dir(s) / "worker.log"


def start(s: StackSettings, env: dict[str, str] | None = None, timeout: float = 90.0) -> str:
    """Start ``python -m streams worker`` detached and wait until faust reports Ready."""
    pid_file = worker_dir(s) / "worker.pid"
    pid = read_pid(pid_file, LEGACY)
    if pid is not None:
        return f"worker already running (pid {pid}, log {log_file(s)})"
    worker_dir(s).mkdir(parents=True, exist_ok=True)
    log = log_file(s)
    log.write_text("")
    cmd = [sys.executable, "-m", "streams", "worker", "-l", "info"]
    proc = spawn(cmd, log, pid_file, env=env)

    def exited() -> str:
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-15:])
        return f"the worker exited at start (code {proc.returncode}); see {log}\n{tail}"

    wait_or_stop(
        proc, pid_file, lambda: "[^Worker]: Ready" in log.read_text(errors="replace"),
        timeout, "the faust worker", log, exited=exited,
    )  # fmt: skip
    return f"worker started (pid {proc.pid}, log {log})"


def stop(s: StackSettings) -> str:
    """Stop the background worker (it commits offsets and leaves the group on SIGTERM)."""
    return (
        "worker stopped"
        if stop_pid(worker_dir(s) / "worker.pid", timeout=30, legacy=LEGACY)
        else "worker was not running"
    )
