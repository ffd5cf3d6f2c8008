"""The worker's contact store keeps a citizen's details HOTLINE_CONTACT_TTL_S, not forever."""

import os
import subprocess
import sys

from config.stack import PROJECT_ROOT

_PROBE = "from streams.stores import contact_store; print(contact_store().ttl_s)"


def _ttl_s(**env: str) -> int:
    base = {k: v for k, v in os.environ.items() if k != "HOTLINE_CONTACT_TTL_S"}
    done = subprocess.run(
        [sys.executable, "-c", _PROBE],
        cwd=PROJECT_ROOT, env={**base, **env}, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return int(done.stdout.strip())


def test_default_is_180_days():
    assert _ttl_s() == 180 * 86400


def test_the_setting_reaches_the_store():
    assert _ttl_s(HOTLINE_CONTACT_TTL_S="3600") == 3600
