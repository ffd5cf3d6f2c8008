"""``hotline stack up/down``: pid files name our own servers only, and a start that fails
leaves nothing running. Real short-lived processes (``sleep``, a fake ``redis-server`` or
``java`` that never opens its port), on free ports in a temporary state folder."""

from __future__ import annotations

import logging
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.stack import app
from config.stack import StackSettings
from stack import kafka as stack_kafka
from stack import process
from stack import redis as stack_redis
from stack import worker as stack_worker
from stack.process import StackError

pytestmark = pytest.mark.skipif(
    not Path("/proc/self/stat").exists(), reason="pid identities are read from Linux /proc"
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def settings(tmp_path, monkeypatch) -> StackSettings:
    ports = {
        "HOTLINE_KAFKA_PORT": _free_port(),
        "HOTLINE_KAFKA_CONTROLLER_PORT": _free_port(),
        "HOTLINE_REDIS_PORT": _free_port(),
    }
    monkeypatch.setenv("HOTLINE_STATE_DIR", str(tmp_path / "state"))
    for name, port in ports.items():
        monkeypatch.setenv(name, str(port))
    s = StackSettings()
    for folder in (s.redis_dir, s.kafka_dir, stack_worker.worker_dir(s)):
        folder.mkdir(parents=True)
    return s


@pytest.fixture
def procs():
    """Processes a test starts; whatever is left is killed at the end."""
    started: list[subprocess.Popen] = []
    yield started
    for proc in started:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@pytest.fixture
def unrelated(procs) -> subprocess.Popen:
    """Someone else's process (an editor, a shell) that got a pid our pid file recorded."""
    proc = subprocess.Popen(["sleep", "60"])
    procs.append(proc)
    return proc


def _fake_server(tmp_path: Path, name: str) -> Path:
    """An executable called ``name`` that stays up without ever opening a port (a server
    still loading, or hung)."""
    folder = tmp_path / "bin"
    folder.mkdir(exist_ok=True)
    path = folder / name
    path.write_text("#!/bin/sh\nexec sleep 120\n")
    path.chmod(0o755)
    return path


def _record_spawns(monkeypatch, module, procs) -> list[subprocess.Popen]:
    spawned: list[subprocess.Popen] = []

    def spawn(*args, **kwargs):
        proc = process.spawn(*args, **kwargs)
        spawned.append(proc)
        procs.append(proc)
        return proc

    monkeypatch.setattr(module, "spawn", spawn)
    return spawned


# -- bug 1: a stale pid file names another process ---------------------------------------------


@pytest.mark.parametrize(
    ("module", "pid_file"),
    [
        (stack_redis, stack_redis.pid_file),
        (stack_kafka, stack_kafka.pid_file),
        (stack_worker, lambda s: stack_worker.worker_dir(s) / "worker.pid"),
    ],
    ids=["redis", "kafka", "worker"],
)
def test_stop_leaves_an_unrelated_process_named_by_an_old_pid_file_alone(
    settings, unrelated, caplog, module, pid_file
):
    """After a reboot the pid in an old pid file (pid only) is someone else's process:
    `stack down` must not SIGTERM/SIGKILL it, and removes the stale file with a warning."""
    path = pid_file(settings)
    path.write_text(str(unrelated.pid))
    with caplog.at_level(logging.WARNING, logger="stack.process"):
        said = module.stop(settings)
    time.sleep(0.2)
    assert unrelated.poll() is None, "an unrelated process was signalled"
    assert "was not running" in said
    assert not path.exists()
    assert f"removed stale pid file {path}" in caplog.text
    assert "sleep 60" in caplog.text


def test_stop_leaves_alone_a_pid_reused_since_the_pid_file_was_written(settings, unrelated):
    """A pid file with an identity names another process when the start time or the boot
    differs (the pid was reused after our server died, or after a reboot)."""
    start = process._stat_start(unrelated.pid)
    boot = process._boot_id()
    path = stack_redis.pid_file(settings)
    for recorded in (f"start={int(start) - 1}\nboot={boot}", f"start={start}\nboot=other-boot"):
        path.write_text(f"{unrelated.pid}\n{recorded}\n")
        assert process.read_pid(path, stack_redis.LEGACY) is None
        assert not path.exists()
        path.write_text(f"{unrelated.pid}\n{recorded}\n")
        assert stack_redis.stop(settings) == "Redis was not running"
    time.sleep(0.2)
    assert unrelated.poll() is None


def test_a_process_we_spawned_is_recognised_and_stopped(settings, tmp_path):
    path = stack_redis.pid_file(settings)
    proc = process.spawn(["sleep", "60"], tmp_path / "log", path)
    try:
        lines = path.read_text().split()
        assert lines[0] == str(proc.pid)
        assert f"start={process._stat_start(proc.pid)}" in lines
        assert process.read_pid(path) == proc.pid  # the identity suffices, no markers
        assert stack_redis.stop(settings) == "Redis stopped"
        assert proc.poll() is not None and not path.exists()
    finally:
        if proc.poll() is None:
            proc.kill()


@pytest.mark.parametrize(
    ("module", "argv"),
    [
        (stack_redis, ["/usr/bin/redis-server", "60"]),  # argv[0] says redis-server
        (stack_kafka, [sys.executable, "-c", "import time; time.sleep(60)", "kafka.Kafka", "x"]),
        (stack_worker, [sys.executable, "-c", "import time; time.sleep(60)", "-m", "streams", "worker"]),
    ],
    ids=["redis", "kafka", "worker"],
)  # fmt: skip
def test_an_old_pid_file_still_stops_our_server(settings, procs, module, argv):
    """A pid file written before identities (pid only) still stops what we launched: its
    command line is what we ran."""
    proc = subprocess.Popen(argv, executable=shutil.which("sleep") if argv[1] == "60" else None)
    procs.append(proc)
    path = (
        stack_worker.worker_dir(settings) / "worker.pid"
        if module is stack_worker
        else module.pid_file(settings)
    )
    path.write_text(f"{proc.pid}\n")
    time.sleep(0.2)  # until the child has exec'd
    assert module.stop(settings).endswith(" stopped")
    assert proc.poll() is not None and not path.exists()


def test_worker_start_is_not_fooled_by_a_stale_pid(settings, unrelated, monkeypatch):
    """`worker already running` only for our worker: a stale pid starts a new one."""
    (stack_worker.worker_dir(settings) / "worker.pid").write_text(str(unrelated.pid))

    class Spawned(Exception):
        pass

    def spawn(cmd, *args, **kwargs):
        raise Spawned(cmd)

    monkeypatch.setattr(stack_worker, "spawn", spawn)
    with pytest.raises(Spawned):
        stack_worker.start(settings, timeout=1)
    assert unrelated.poll() is None


def test_down_with_a_pid_of_another_user_is_no_traceback(settings, unrelated, monkeypatch):
    """Run as a user, `kill` of another user's process fails with PermissionError: a stale
    pid naming it is no reason to stop `stack down`."""
    stack_kafka.pid_file(settings).write_text(str(unrelated.pid))
    stack_redis.pid_file(settings).write_text(str(unrelated.pid))

    def kill(pid, sig):
        raise PermissionError(1, "Operation not permitted")

    with monkeypatch.context() as patch:
        patch.setattr(os, "kill", kill)
        result = CliRunner().invoke(app, ["down"])
    assert result.exit_code == 0, (result.output, result.exception)
    assert "Kafka was not running" in result.output
    assert "Redis was not running" in result.output


def test_our_server_run_by_another_user_is_a_clear_error(settings, tmp_path, monkeypatch):
    """Started as root, stopped as a user: a one-line error, not a PermissionError."""
    path = stack_redis.pid_file(settings)
    proc = process.spawn(["sleep", "60"], tmp_path / "log", path)
    try:
        real_kill = os.kill

        def kill(pid, sig):
            if pid == proc.pid:
                raise PermissionError(1, "Operation not permitted")
            real_kill(pid, sig)

        with monkeypatch.context() as patch:
            patch.setattr(os, "kill", kill)
            with pytest.raises(StackError, match=f"cannot stop process {proc.pid}.*another user"):
                stack_redis.stop(settings)
            result = CliRunner().invoke(app, ["down"])
        assert isinstance(result.exception, SystemExit), result.exception
        assert result.exit_code == 1
        assert proc.poll() is None
    finally:
        proc.kill()
        proc.wait()


# -- bug 2: a start that times out, or runs twice, leaves one server we can stop ------------


def test_redis_start_timeout_stops_the_server_it_spawned(settings, tmp_path, monkeypatch, procs):
    _fake_server(tmp_path, "redis-server")
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}:{os.environ['PATH']}")
    spawned = _record_spawns(monkeypatch, stack_redis, procs)
    with pytest.raises(StackError) as err:
        stack_redis.start(settings, timeout=1)
    [proc] = spawned
    assert proc.poll() is not None, "the timed-out redis-server was left running"
    assert not stack_redis.pid_file(settings).exists()
    assert f"Redis did not become healthy within 1s, so the process this start spawned (pid {proc.pid}) was stopped" in str(err.value)  # fmt: skip


def test_kafka_start_timeout_stops_the_server_it_spawned(settings, tmp_path, monkeypatch, procs):
    java = _fake_server(tmp_path, "java")
    monkeypatch.setattr(stack_kafka, "_java", lambda: str(java))
    monkeypatch.setattr(stack_kafka, "fetch", lambda s: s.kafka_libs)
    monkeypatch.setattr(stack_kafka, "_format_storage", lambda s, config: None)
    spawned = _record_spawns(monkeypatch, stack_kafka, procs)
    with pytest.raises(StackError, match="Kafka did not become healthy within 1s, so the pro"):
        stack_kafka.start(settings, timeout=1)
    [proc] = spawned
    assert proc.poll() is not None, "the timed-out broker was left running"
    assert not stack_kafka.pid_file(settings).exists()


def test_a_second_start_waits_for_the_first_server_instead_of_spawning_another(
    settings, tmp_path, monkeypatch, procs
):
    """`stack up` again while the first Redis is still loading: no second server, and the
    pid file still names the first (so `stack down` stops it)."""
    path = stack_redis.pid_file(settings)
    first = process.spawn([str(_fake_server(tmp_path, "redis-server"))], tmp_path / "l", path)
    procs.append(first)
    recorded = path.read_text()
    spawned = _record_spawns(monkeypatch, stack_redis, procs)
    with pytest.raises(StackError, match=f"Redis \\(pid {first.pid}, from an earlier start\\)"):
        stack_redis.start(settings, timeout=1)
    assert spawned == []
    assert path.read_text() == recorded
    assert first.poll() is None  # not ours to stop: this start did not spawn it
    assert stack_redis.stop(settings) == "Redis stopped"
    assert first.poll() is not None


@pytest.mark.parametrize("module", [stack_redis, stack_kafka], ids=["redis", "kafka"])
def test_a_second_start_returns_once_the_first_server_is_healthy(
    settings, tmp_path, monkeypatch, procs, module
):
    first = process.spawn(["sleep", "60"], tmp_path / "l", module.pid_file(settings))
    procs.append(first)
    calls = iter(range(1000))
    monkeypatch.setattr(module, "healthy", lambda s: next(calls) >= 3)  # healthy a bit later
    spawned = _record_spawns(monkeypatch, module, procs)
    said = module.start(settings, timeout=10)
    assert "already running on" in said and said.endswith(f"(pid {first.pid})")
    assert spawned == []


@pytest.mark.skipif(not shutil.which("redis-server"), reason="redis-server not installed")
def test_real_redis_start_twice_and_stop(settings):
    assert stack_redis.start(settings).startswith("Redis started on")
    try:
        assert "start=" in stack_redis.pid_file(settings).read_text()
        assert stack_redis.start(settings).startswith("Redis already running")
    finally:
        assert stack_redis.stop(settings) == "Redis stopped"
    assert not stack_redis.healthy(settings)
    assert stack_redis.stop(settings) == "Redis was not running"


def test_the_worker_is_stopped_when_it_does_not_get_ready(settings, tmp_path, monkeypatch, procs):
    monkeypatch.setattr(sys, "executable", str(_fake_server(tmp_path, "python")))
    spawned = _record_spawns(monkeypatch, stack_worker, procs)
    with pytest.raises(StackError, match="the faust worker did not become healthy within 1s"):
        stack_worker.start(settings, timeout=1)
    [proc] = spawned
    assert proc.poll() is not None
    assert not (stack_worker.worker_dir(settings) / "worker.pid").exists()
