"""A HOTLINE_* value that cannot be used, or an argument that is not text, stops a command
with one line saying so (exit 2)."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys

import pytest

import config.env
import config.understand
from config.catalogue import all_settings
from config.env import SettingError, float_setting, int_setting
from config.intake import IntakeSettings
from config.sla import SlaSettings
from config.streams import StreamSettings

#: Every integer setting (the documented ones whose default is an integer).
INT_SETTINGS = sorted(name for name, doc in all_settings().items() if doc.default.isdigit())


@pytest.fixture(autouse=True)
def _registry(monkeypatch) -> None:
    # the test settings below must not join the documented ones (the README's table)
    monkeypatch.setattr(config.env, "REGISTRY", dict(config.env.REGISTRY))


@pytest.mark.parametrize("raw", ["nan", "NaN", "inf", "-inf", "1.5", "60", "-0.1", "sixty"])
def test_a_threshold_must_be_a_finite_number_in_its_range(monkeypatch, raw: str) -> None:
    # nan compares false with everything: a review threshold of nan sent nothing to review
    monkeypatch.setenv("HOTLINE_TEST_THRESHOLD", raw)
    with pytest.raises(SettingError, match=r"HOTLINE_TEST_THRESHOLD must be a number from 0 to 1"):
        float_setting("TEST_THRESHOLD", 0.6, "test", high=1.0)


@pytest.mark.parametrize(("raw", "value"), [("0", 0.0), ("1", 1.0), ("0.35", 0.35)])
def test_a_threshold_in_its_range_is_read(monkeypatch, raw: str, value: float) -> None:
    monkeypatch.setenv("HOTLINE_TEST_THRESHOLD", raw)
    assert float_setting("TEST_THRESHOLD", 0.6, "test", high=1.0) == value


@pytest.mark.parametrize("raw", ["0", "65536", "99999", "-1", "80.5", "port"])
def test_an_integer_must_be_a_whole_number_in_its_range(monkeypatch, raw: str) -> None:
    # a Redis port of 99999 ended in redis-py's "Port out of range" traceback
    monkeypatch.setenv("HOTLINE_TEST_PORT", raw)
    with pytest.raises(
        SettingError, match=rf"^HOTLINE_TEST_PORT must be an integer from 1 to 65535, got '{raw}'$"
    ):
        int_setting("TEST_PORT", 16379, "test", low=1, high=65535)


@pytest.mark.parametrize(("raw", "value"), [("1", 1), ("65535", 65535), ("080", 80)])
def test_an_integer_in_its_range_is_read(monkeypatch, raw: str, value: int) -> None:
    monkeypatch.setenv("HOTLINE_TEST_PORT", raw)
    assert int_setting("TEST_PORT", 16379, "test", low=1, high=65535) == value


def test_an_integer_with_a_lower_bound_only_says_so(monkeypatch) -> None:
    monkeypatch.setenv("HOTLINE_TEST_SIZE", "0")
    with pytest.raises(SettingError, match=r"^HOTLINE_TEST_SIZE must be an integer of 1 or more"):
        int_setting("TEST_SIZE", 500, "test", low=1)


def _read_every_setting() -> None:
    importlib.reload(config.understand)  # its settings are read at import
    StreamSettings(), IntakeSettings(), SlaSettings()  # StreamSettings reads StackSettings


@pytest.mark.parametrize("name", INT_SETTINGS)
def test_every_integer_setting_refuses_a_negative_value(monkeypatch, name: str) -> None:
    # none has a use for one: a batch size of -1 ended in a faust traceback
    monkeypatch.setenv(name, "-1")
    try:
        with pytest.raises(SettingError, match=rf"^{name} must be "):
            _read_every_setting()
    finally:
        monkeypatch.delenv(name)
        importlib.reload(config.understand)


@pytest.mark.parametrize(
    "name", ["HOTLINE_KAFKA_PORT", "HOTLINE_KAFKA_CONTROLLER_PORT", "HOTLINE_REDIS_PORT"]
)
@pytest.mark.parametrize("raw", ["0", "65536"])
def test_a_service_port_is_one_to_65535(monkeypatch, name: str, raw: str) -> None:
    monkeypatch.setenv(name, raw)
    with pytest.raises(SettingError, match=rf"^{name} must be an integer from 1 to 65535"):
        StreamSettings()


def test_the_web_port_may_be_0_which_turns_the_web_server_off(monkeypatch) -> None:
    monkeypatch.setenv("HOTLINE_WEB_PORT", "0")
    assert StreamSettings().web_port == 0
    monkeypatch.setenv("HOTLINE_WEB_PORT", "65536")
    with pytest.raises(SettingError, match=r"^HOTLINE_WEB_PORT must be an integer from 0 to 65535"):
        StreamSettings()


@pytest.mark.parametrize(
    ("name", "value", "argv"),
    [
        # read when the command runs
        ("HOTLINE_UNDERSTAND_REVIEW_THRESHOLD", "nan", ["classify", "路灯", "路灯坏了"]),
        # read when the commands are imported (config/sla.py's defaults)
        ("HOTLINE_SLA_WARN_FIRST", "-1", ["sla", "overdue"]),
        ("HOTLINE_WORKER_STAGES", "everything", ["config"]),
        # a misspelt zone, and a Redis address without its scheme: tracebacks before
        ("HOTLINE_SLA_TIMEZONE", "Asia/Shangai", ["sla", "is-workday", "2025-01-27"]),
        ("HOTLINE_TIMEZONE", "Asia/Beijing", ["config"]),
        ("HOTLINE_REDIS_URL", "localhost:6379", ["review", "list"]),
        ("HOTLINE_REDIS_URL", "127.0.0.1:16379", ["sla", "remaining", "MB-1"]),
        # integers out of range: tracebacks in redis-py and the Kafka client before
        ("HOTLINE_REDIS_PORT", "99999", ["review", "list"]),
        ("HOTLINE_KAFKA_PORT", "99999", ["tail", "appeals.received"]),
        ("HOTLINE_UNDERSTAND_MAX_CHARS", "0", ["classify", "路灯", "路灯坏了"]),
    ],
)
def test_a_command_names_the_bad_setting_in_one_line(name: str, value: str, argv) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "cli", *argv],
        env={**os.environ, name: value},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith(f"error: {name} must") and "Traceback" not in done.stderr


@pytest.mark.parametrize(
    "argv", [["classify", b"\xff\xfe", "路灯坏了"], ["routing", "route", "路灯", b"\xff"]]
)
def test_an_argument_the_terminal_could_not_decode_is_refused_in_one_line(argv) -> None:
    # bytes that are not UTF-8 (a GBK terminal with a UTF-8 locale) used to end in a
    # UnicodeEncodeError deep in the feature code
    done = subprocess.run(
        [os.fsencode(sys.executable), b"-m", b"cli", *(os.fsencode(a) for a in argv)],
        env={**os.environ, "LC_ALL": "C.UTF-8"},
        capture_output=True,
        timeout=120,
    )
    assert done.returncode == 2, done.stderr
    err = done.stderr.decode()
    assert err.startswith("error: argument ") and "Traceback" not in err
