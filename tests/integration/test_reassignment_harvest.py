"""``hotline routing harvest-reassignments`` through the real broker.

Reassign events (改派) on ``cases.events`` and the appeals' text on ``appeals.received``
become rows of the harvest file, which ``hotline routing train --corrections`` reads.
"""

from __future__ import annotations

import asyncio
import csv
import json
import os
import subprocess
import sys
import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from aiokafka.admin import AIOKafkaAdminClient

from config.stack import PROJECT_ROOT
from models.appeal import Appeal, RawRef
from models.case_event import CaseEvent
from routing.catalogue import load_catalogue
from routing.training import correction_examples
from stack.topic_admin import ensure_topics_sync
from tests.integration.worker_process import publish

pytestmark = pytest.mark.integration
T0 = datetime(2026, 12, 1, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture
def prefix(kafka_bootstrap):
    name = f"it{uuid.uuid4().hex[:8]}."
    ensure_topics_sync(kafka_bootstrap, [name + "cases.events", name + "appeals.received"], 4)
    yield name

    async def delete() -> None:
        admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
        await admin.start()
        try:
            await admin.delete_topics([name + "cases.events", name + "appeals.received"])
        finally:
            await admin.close()

    asyncio.run(delete())


def _harvest(kafka_bootstrap: str, prefix: str, out) -> dict:
    env = {**os.environ, "HOTLINE_TOPIC_PREFIX": prefix, "HOTLINE_KAFKA_BOOTSTRAP": kafka_bootstrap}
    done = subprocess.run(
        [sys.executable, "-m", "cli", "routing", "harvest-reassignments", "--out", str(out)],
        cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


async def test_reassigned_appeals_are_harvested_with_their_text(kafka_bootstrap, prefix, tmp_path):
    def appeal(aid: str, title: str, content: str) -> bytes:
        return Appeal(
            appeal_id=aid, channel="hotline", source_id=aid, received_at=T0, appeal_type="投诉",
            title=title, content=content, raw=RawRef("raw.hotline", 0, 1), ingested_at=T0,
        ).dumps()  # fmt: skip

    def event(n: int, aid: str, kind: str, minutes: int, target: str | None = None) -> bytes:
        return CaseEvent(
            event_id=f"{aid}-e{n}", appeal_id=aid, kind=kind, department="a3.zjj",
            occurred_at=T0 + timedelta(minutes=minutes), target_department=target,
        ).dumps()  # fmt: skip

    await publish(kafka_bootstrap, prefix + "appeals.received", [
        appeal("HL-1", "小区门口占道经营", "每天晚上小贩占用人行道摆摊，噪音大、垃圾多"),
        appeal("HL-2", "学校周边交通拥堵", "放学时段校门口车辆乱停"),
    ])  # fmt: skip
    await publish(kafka_bootstrap, prefix + "cases.events", [
        event(1, "HL-1", "accept", 1),
        event(2, "HL-1", "return", 5),
        event(3, "HL-1", "reassign", 10, "a3.cgj"),  # 住建 returned it; 城管 is right
        event(4, "HL-2", "accept", 2),  # never reassigned: no row
        event(5, "HL-3", "reassign", 3, "a.jj"),  # text no longer on appeals.received
        b"not json",  # counted, not fatal
    ])  # fmt: skip
    out = tmp_path / "reassignments.csv"

    summary = await asyncio.to_thread(_harvest, kafka_bootstrap, prefix, out)
    assert summary["case_events"] == 6 and summary["reassigned_appeals"] == 2
    assert (summary["harvested"], summary["text_no_longer_in_topic"], summary["rows"]) == (1, 1, 1)
    assert summary["undecodable"] == {prefix + "cases.events": 1}
    with out.open(encoding="utf-8-sig", newline="") as fh:  # a BOM, for Excel
        rows = list(csv.DictReader(fh))
    assert [(r["appeal_id"], r["department_code"], r["subject"]) for r in rows] == [
        ("HL-1", "a3.cgj", "小区门口占道经营")
    ]
    examples, _ = correction_examples([out], load_catalogue())
    assert [(e.case.id, e.label) for e in examples] == [("HL-1", "cgj")]

    # Harvesting again keeps the file as it is; a later reassignment replaces the row.
    await publish(
        kafka_bootstrap, prefix + "cases.events", [event(6, "HL-1", "reassign", 60, "a3.jd01")]
    )
    summary = await asyncio.to_thread(_harvest, kafka_bootstrap, prefix, out)
    assert (summary["rows_before"], summary["rows"]) == (1, 1)
    with out.open(encoding="utf-8-sig", newline="") as fh:  # a BOM, for Excel
        assert [r["department_code"] for r in csv.DictReader(fh)] == ["a3.jd01"]
