"""``hotline stack down --wipe``: the data goes, the jars stay, and only when stopped."""

from __future__ import annotations

import socket

from typer.testing import CliRunner

from cli.stack import app


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _state(tmp_path, monkeypatch):
    monkeypatch.setenv("HOTLINE_STATE_DIR", str(tmp_path))
    monkeypatch.setenv("HOTLINE_KAFKA_PORT", str(_free_port()))
    monkeypatch.setenv("HOTLINE_REDIS_PORT", str(_free_port()))
    for folder in (
        "kafka/data/raw.mailbox-0",
        "kafka/libs-4.3.1",
        "redis/appendonlydir",
        "faust/x",
    ):
        (tmp_path / folder).mkdir(parents=True)
    (tmp_path / "redis" / "redis.log").write_text("log")
    (tmp_path / "kafka" / "libs-4.3.1" / "kafka.jar").write_text("jar")


def test_down_with_wipe_deletes_the_data_and_keeps_the_jars(tmp_path, monkeypatch):
    _state(tmp_path, monkeypatch)
    result = CliRunner().invoke(app, ["down", "--wipe"])
    assert result.exit_code == 0, result.output
    assert "wiped" in result.output
    assert not (tmp_path / "kafka" / "data").exists()
    assert not (tmp_path / "redis" / "appendonlydir").exists()
    assert not (tmp_path / "faust").exists()
    assert (tmp_path / "kafka" / "libs-4.3.1" / "kafka.jar").exists()
    assert (tmp_path / "redis" / "redis.log").exists()


def test_down_without_wipe_keeps_the_data(tmp_path, monkeypatch):
    _state(tmp_path, monkeypatch)
    assert CliRunner().invoke(app, ["down"]).exit_code == 0
    assert (tmp_path / "kafka" / "data" / "raw.mailbox-0").exists()


def test_wipe_refuses_while_a_server_still_answers(tmp_path, monkeypatch):
    _state(tmp_path, monkeypatch)
    with socket.socket() as listener:  # something on the Redis port that is not ours
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        monkeypatch.setenv("HOTLINE_REDIS_PORT", str(listener.getsockname()[1]))
        monkeypatch.setattr("stack.redis.healthy", lambda s: True)
        result = CliRunner().invoke(app, ["down", "--wipe"])
    assert result.exit_code == 1
    assert (tmp_path / "kafka" / "data").exists()
