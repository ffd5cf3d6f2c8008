"""The worker refuses to start, with the reason, when it could only fail later."""

import os
import socket
import subprocess
import sys

import pytest

from config.stack import PROJECT_ROOT


def _worker(tmp_path, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "streams", "worker", "-l", "warn"],
        cwd=PROJECT_ROOT,
        # no web server unless a test asks: a worker left running (`make demo`) holds 6066
        env={
            **os.environ,
            "HOTLINE_KAFKA_BOOTSTRAP": "127.0.0.1:1",
            "HOTLINE_WEB_PORT": "0",
            **env,
        },  # fmt: skip
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_understand_stage_without_a_classifier_exits_2_before_touching_kafka(tmp_path):
    done = _worker(
        tmp_path,
        HOTLINE_WORKER_STAGES="understand",
        HOTLINE_UNDERSTAND_MODEL_DIR=str(tmp_path / "no-model"),
        HOTLINE_UNDERSTAND_MODEL_PATH="",
    )
    assert done.returncode == 2, done.stderr
    assert "needs a classifier" in done.stderr and "hotline train" in done.stderr
    assert "Kafka" not in done.stderr  # checked first: no broker was needed to say so


def test_understand_stage_with_a_cut_off_classifier_exits_2_naming_it(tmp_path):
    from understand.artifact import resolve_artifact

    good = resolve_artifact()
    cut = tmp_path / good.name
    cut.write_bytes(good.read_bytes()[:100_000])
    done = _worker(
        tmp_path, HOTLINE_WORKER_STAGES="understand", HOTLINE_UNDERSTAND_MODEL_PATH=str(cut)
    )
    assert done.returncode == 2, done.stderr
    assert "needs a classifier" in done.stderr and str(cut) in done.stderr
    assert "Traceback" not in done.stderr and "Kafka" not in done.stderr


def test_unreachable_kafka_is_a_one_line_error(tmp_path):
    done = _worker(tmp_path, HOTLINE_WORKER_STAGES="intake")
    assert done.returncode == 2, done.stderr
    assert "Kafka at 127.0.0.1:1 is not reachable" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(
    "name,value",
    [
        ("HOTLINE_UNDERSTAND_REVIEW_ALERT_AFTER", "2 hours"),
        ("HOTLINE_UNDERSTAND_REVIEW_ALERT_AFTER_EMERGENCY", "half an hour"),
    ],
)
def test_a_bad_review_wait_setting_exits_2_naming_it(tmp_path, name, value):
    done = _worker(tmp_path, HOTLINE_WORKER_STAGES="understand", **{name: value})
    assert done.returncode == 2, done.stderr
    assert f"{name}: " in done.stderr and repr(value) in done.stderr
    assert "Traceback" not in done.stderr and "Kafka" not in done.stderr


@pytest.mark.parametrize(
    ("value", "said"), [("-7", "0 (forever) or more days"), ("a year", "integer")]
)
def test_a_bad_case_log_retention_exits_2_naming_it(tmp_path, value, said):
    done = _worker(tmp_path, HOTLINE_WORKER_STAGES="sla", HOTLINE_CASE_LOG_RETENTION_DAYS=value)
    assert done.returncode == 2, done.stderr
    assert "HOTLINE_CASE_LOG_RETENTION_DAYS" in done.stderr and said in done.stderr
    assert "Traceback" not in done.stderr and "Kafka" not in done.stderr


@pytest.mark.parametrize(
    ("name", "value", "said"),
    [
        ("HOTLINE_PARTITIONS", "0", "of 1 or more"),  # "Topic cannot have zero partitions"
        ("HOTLINE_BATCH_SIZE", "-1", "of 1 or more"),  # faust's ImproperlyConfigured
        ("HOTLINE_TRIAGE_PROCESSES", "-1", "of 0 or more"),
        ("HOTLINE_WEB_PORT", "99999", "from 0 to 65535"),
    ],
)
def test_an_integer_setting_out_of_range_exits_2_naming_it(tmp_path, name, value, said):
    done = _worker(tmp_path, HOTLINE_WORKER_STAGES="intake", **{name: value})
    assert done.returncode == 2, done.stderr
    assert done.stderr == f"error: {name} must be an integer {said}, got '{value}'\n"


def test_a_web_port_in_use_exits_2_naming_it_before_touching_kafka(tmp_path):
    # a second worker on the machine: faust bound the port only after joining the group,
    # and ended in "OSError: [Errno 98] ... address already in use" (exit 1)
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        done = _worker(tmp_path, HOTLINE_WORKER_STAGES="intake", HOTLINE_WEB_PORT=str(port))
    assert done.returncode == 2, done.stderr
    assert f"web port 127.0.0.1:{port} cannot be used" in done.stderr
    assert "HOTLINE_WEB_PORT" in done.stderr and len(done.stderr.splitlines()) == 1
    assert "Kafka" not in done.stderr


def test_the_web_options_follow_the_setting_unless_given(monkeypatch):
    import dataclasses

    import streams.__main__ as main

    with socket.socket() as free:  # a port free now (the check binds it and lets it go)
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    monkeypatch.setattr(main, "settings", dataclasses.replace(main.settings, web_port=port))
    assert main.web_options(["worker"]) == ["--web-port", str(port), "--web-bind", "127.0.0.1"]
    assert main.web_options(["worker", "--web-port", "7000"]) == []
    monkeypatch.setattr(main, "settings", dataclasses.replace(main.settings, web_port=0))
    assert main.web_options(["worker"]) == ["--without-web"]  # 0: no web server, no check


def test_a_missing_calendar_overrides_file_is_warned_about(tmp_path):
    # was silent: a mistyped path dropped every local day off from the deadlines
    missing = tmp_path / "overrides.toml"
    done = _worker(
        tmp_path, HOTLINE_WORKER_STAGES="sla", HOTLINE_SLA_CALENDAR_OVERRIDES=str(missing)
    )
    assert f"warning: HOTLINE_SLA_CALENDAR_OVERRIDES names {missing}" in done.stderr
    missing.write_text("", encoding="utf-8")
    done = _worker(
        tmp_path, HOTLINE_WORKER_STAGES="sla", HOTLINE_SLA_CALENDAR_OVERRIDES=str(missing)
    )
    assert "HOTLINE_SLA_CALENDAR_OVERRIDES" not in done.stderr
