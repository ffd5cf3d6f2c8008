"""A call for help over WeChat reaches the emergency transfer in seconds.

WeChat messages of one sender are joined into one appeal once the sender has been quiet
for the idle period (10 minutes by default). An emergency must not wait that long: a
session whose messages describe one closes after a short quiet spell instead, with the
messages that followed it (the address) still joined.
"""

from __future__ import annotations

import asyncio
import time

import pytest

from intake.identity import appeal_id
from models.appeal import Appeal
from models.emergency import EmergencyTransfer
from tests.integration.raw_records import wechat_xml
from tests.integration.worker_process import publish, read_all, wait_for

pytestmark = pytest.mark.integration

#: the idle period stays far beyond the test; the emergency quiet spell is short
WORKER_ENV = {"HOTLINE_WECHAT_IDLE_FLUSH_S": "600", "HOTLINE_WECHAT_EMERGENCY_IDLE_S": "2"}


async def test_an_emergency_session_closes_after_a_short_quiet_spell(worker):
    now = int(time.time())
    calm, urgent = "oWX-calm-1", "oWX-urgent-1"
    await publish(worker.bootstrap, worker.topic("raw.wechat"), [
        wechat_xml(calm, 9801, now - 5, "text", Content="小区门口的路灯坏了"),
        wechat_xml(urgent, 9811, now - 5, "text", Content="你好"),
        wechat_xml(urgent, 9812, now - 4, "text", Content="救命，家里煤气漏气了"),
        wechat_xml(urgent, 9813, now - 3, "text", Content="地址是A3区杜鹃路5号"),
    ])  # fmt: skip
    aid = appeal_id("wechat", "9811")
    started = time.monotonic()
    records = await wait_for(
        worker.bootstrap, worker.topic("appeals.emergency"),
        lambda rs: aid in {r.key.decode() for r in rs}, timeout=30,
    )  # fmt: skip
    took = time.monotonic() - started
    transfer = next(EmergencyTransfer.loads(r.value) for r in records if r.key.decode() == aid)
    assert transfer.service == "119"
    assert "杜鹃路5号" in transfer.content  # the message after the call for help is joined
    assert took < 25, f"transfer after {took:.0f} s"
    await asyncio.sleep(2)
    appeals = [Appeal.loads(r.value) for r in await read_all(
        worker.bootstrap, worker.topic("appeals.received"))]  # fmt: skip
    # the calm sender's session waits for the idle period, as before
    assert appeal_id("wechat", "9801") not in {a.appeal_id for a in appeals}
