"""``hotline review decide`` when Kafka does not answer, or a file it checks the decision
against cannot be read: one line, nothing left open."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from typer.testing import CliRunner

from cli import review
from cli.main import app
from models.appeal import Appeal, RawRef

UNUSED = "127.0.0.1:2"  # nothing listens on port 2
AT = datetime(2026, 12, 7, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


class Queue:
    """The review queue with MB-1 waiting (Redis answers; Kafka does not)."""

    def __init__(self):
        self.client = SimpleNamespace(aclose=self._aclose)

    async def _aclose(self):
        pass

    async def get(self, appeal_id):
        return Appeal(
            appeal_id=appeal_id, channel="mailbox", source_id="1", received_at=AT,
            appeal_type="投诉", title="噪音", content="楼下KTV很吵。",
            raw=RawRef("raw.mailbox", 0, 1), ingested_at=AT,
        )  # fmt: skip


def test_decide_with_kafka_down_says_it_in_one_line_and_closes_its_producer(monkeypatch):
    import aiokafka

    made = []

    class Producer(aiokafka.AIOKafkaProducer):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            made.append(self)

    settings = SimpleNamespace(broker=UNUSED, topic=lambda name: name)
    monkeypatch.setattr(review, "_store", lambda: (settings, Queue()))
    monkeypatch.setattr(aiokafka, "AIOKafkaProducer", Producer)
    args = ["review", "decide", "MB-1", "--category", "城乡建设", "--reviewer", "张审核"]
    result = CliRunner().invoke(app, [*args, "--wait", "0"])
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("error: Kafka at") and len(result.stderr.splitlines()) == 1
    # before: start() failed outside the try, so the producer was never stopped and said
    # 'Unclosed AIOKafkaProducer' on stderr after the command's own line
    assert len(made) == 1 and made[0]._closed


@pytest.mark.parametrize(
    ("variable", "said"),
    [
        ("HOTLINE_ROUTING_CATALOGUE", "cannot read the catalogue (No such file or directory)"),
        ("HOTLINE_SLA_POLICY_FILE", "cannot read the SLA policies (No such file or directory)"),
    ],
)
def test_decide_with_a_file_it_cannot_read_names_it_in_one_line(tmp_path, variable, said):
    # a FileNotFoundError traceback before, as the decision was checked
    absent = tmp_path / "absent.toml"
    args = ["review", "decide", "MB-1", "--category", "城乡建设", "--reviewer", "张审核"]
    done = subprocess.run(
        [sys.executable, "-m", "cli", *args, "--department", "a3.zjj", "--wait", "0"],
        env={**os.environ, variable: str(absent), "HOTLINE_REDIS_URL": "redis://127.0.0.1:2/0"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr == f"{absent}: {said}\n"
