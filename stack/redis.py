"""Redis from Debian's ``redis-server`` package, on loopback, AOF into the state folder."""

from __future__ import annotations

import os
import shutil
import subprocess

from config.stack import StackSettings
from stack.process import (
    StackError,
    join_running,
    port_open,
    spawn,
    start_lock,
    stop_pid,
    wait_or_stop,
)

# what identifies our server in a pid file written without the process's identity
LEGACY = (("redis-server",),)


def install() -> str:
    """Install Debian's ``redis-server`` if it is missing; return its path."""
    found = shutil.which("redis-server")
    if found:
        return found
    apt = shutil.which("apt-get")
    if not apt:
        raise StackError(
            "redis-server not found and apt-get is unavailable: install Redis 7+ yourself"
        )
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for cmd in (
        [*sudo, apt, "update", "-qq"],
        [*sudo, apt, "install", "-y", "-qq", "redis-server"],
    ):
        result = subprocess.run(cmd, capture_output=True, text=True, env=env)
        if result.returncode != 0:
            raise StackError(f"{' '.join(cmd)} failed:\n{result.stderr[-2000:]}")
    found = shutil.which("redis-server")
    if not found:
        raise StackError("redis-server still missing after apt-get install")
    return found


def pid_file(s: StackSettings):
    return s.redis_dir / "redis.pid"


def healthy(s: StackSettings) -> bool:
    """Redis answers PING."""
    if not port_open(s.redis_host, s.redis_port):
        return False
    import redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    # one try: a server that accepts but never answers (hung, stopped) is DOWN after one
    # timeout, not after redis-py's default retries (about 25 s)
    client = redis.Redis(
        host=s.redis_host, port=s.redis_port, socket_timeout=2, retry=Retry(NoBackoff(), 0)
    )
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False
    finally:
        client.close()


def start(s: StackSettings, timeout: float = 20.0) -> str:
    """Start redis-server with AOF persistence unless it already answers.

    A server an earlier start left coming up (loading a large AOF) is waited for, not
    started twice; a server this start spawned that does not answer in time is stopped.
    """
    with start_lock(s.redis_dir, "Redis"):
        if healthy(s):
            return f"Redis already running on {s.redis_host}:{s.redis_port}"
        log = s.redis_dir / "redis.log"
        pid = join_running(pid_file(s), LEGACY, lambda: healthy(s), timeout, "Redis", log)
        if pid is not None:
            return f"Redis already running on {s.redis_host}:{s.redis_port} (pid {pid})"
        if port_open(s.redis_host, s.redis_port):
            raise StackError(f"port {s.redis_port} is taken by something that is not Redis")
        server = install()
        cmd = [
            server, "--bind", s.redis_host, "--port", str(s.redis_port),
            "--dir", str(s.redis_dir),
            "--appendonly", "yes", "--appendfsync", "everysec", "--save", "",
            "--protected-mode", "yes", "--daemonize", "no",
        ]  # fmt: skip
        proc = spawn(cmd, log, pid_file(s))
        wait_or_stop(
            proc,
            pid_file(s),
            lambda: healthy(s),
            timeout,
            "Redis",
            log,
            exited=lambda: f"redis-server exited at start; see {log}",
            stop_timeout=15,
        )
    return f"Redis started on {s.redis_host}:{s.redis_port} (AOF in {s.redis_dir})"


def stop(s: StackSettings) -> str:
    """Stop the Redis started by :func:`start` (it flushes the AOF on SIGTERM)."""
    return "Redis stopped" if stop_pid(pid_file(s), legacy=LEGACY) else "Redis was not running"
