"""The worker's producer waits HOTLINE_PRODUCER_LINGER_MS for more records, no longer."""

import os
import subprocess
import sys

import pytest

from config.stack import PROJECT_ROOT

_PROBE = "import streams.app as a; print(a.app.producer.linger_ms)"


def _linger_ms(**env: str) -> int:
    base = {k: v for k, v in os.environ.items() if k != "HOTLINE_PRODUCER_LINGER_MS"}
    done = subprocess.run(
        # -W error: faust's deprecated producer_linger_ms would warn, and fail here
        [sys.executable, "-W", "error::UserWarning", "-c", _PROBE],
        cwd=PROJECT_ROOT, env={**base, **env}, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return int(done.stdout.strip())


def test_default_is_one_millisecond():
    # the understand stage waits for each batch's acks: a longer linger is pure latency
    assert _linger_ms() == 1


@pytest.mark.parametrize("value", ["0", "20"])
def test_the_setting_reaches_the_producer(value):
    assert _linger_ms(HOTLINE_PRODUCER_LINGER_MS=value) == int(value)
