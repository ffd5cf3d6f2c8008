"""``hotline review decide`` when Kafka does not answer, or a file it checks the decision
against cannot be read: one line, nothing left open."""

from __future__ import annotations

import json
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


DECIDE = ["review", "decide", "MB-1", "--category", "城乡建设"]


class Unreachable:
    """A store the command must not reach: the decision is refused before."""

    def __call__(self):
        raise AssertionError("a decision the worker would refuse went on to be published")


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--reviewer", "张" * 65], "reviewer is 65 characters, at most 64 allowed"),
        (["--reviewer", "  "], "reviewer is blank"),
        (["--reviewer", "张审核", "--note", "注" * 2_001], "note is 2,001 characters, at most"),
    ],
)
def test_decide_refuses_what_the_worker_refuses_before_publishing(monkeypatch, args, said):
    # before: a 65-character reviewer or a 2,001-character note was published (and
    # applied: the worker checked no sizes either)
    monkeypatch.setattr(review, "_store", Unreachable())
    result = CliRunner().invoke(app, [*DECIDE, *args, "--wait", "0"])
    assert result.exit_code == 2, result.output
    assert said in " ".join(result.stderr.split())
    assert max(result.stderr.count("张"), result.stderr.count("注")) <= 40  # not echoed whole


class Producer:
    """Kafka takes the decision (nothing is sent anywhere)."""

    sent: list = []

    def __init__(self, *args, **kwargs):
        pass

    async def start(self):
        pass

    async def send_and_wait(self, topic, value, key):
        self.sent.append((topic, key))

    async def stop(self):
        pass


def _published(monkeypatch, outcome, queue=None):
    """``decide`` with the queue, Kafka taking the decision and ``outcome`` after it."""
    import aiokafka

    import stack.topic_stats

    async def ends(bootstrap, topics):
        return {(topic, 0): 0 for topic in topics}

    async def seen(*args):
        return outcome

    Producer.sent = []
    settings = SimpleNamespace(broker=UNUSED, topic=lambda name: name)
    monkeypatch.setattr(review, "_store", lambda: (settings, queue or Queue()))
    monkeypatch.setattr(stack.topic_stats, "partition_ends", ends)
    monkeypatch.setattr(aiokafka, "AIOKafkaProducer", Producer)
    monkeypatch.setattr(review, "_outcome", seen)
    return CliRunner().invoke(app, [*DECIDE, "--reviewer", "张审核", "--wait", "1"])


def test_decide_without_an_outcome_in_time_exits_3_and_says_it_is_published(monkeypatch):
    # before: exit 0 and "is a worker with the understand stage running?", as if nothing
    # had happened; a reviewer then decided again and had the second decision refused
    result = _published(monkeypatch, (None, None))
    assert result.exit_code == review.NO_OUTCOME_YET == 3, result.output
    assert Producer.sent == [("appeals.review.decisions", b"MB-1")]
    said = " ".join(result.stderr.split())
    assert "is published; no outcome within 1 s" in said
    assert "applies it when it runs and can reach Kafka and Redis" in said
    assert "do not decide MB-1 again (a second decision would be refused)" in said
    summary = json.loads(result.stdout.splitlines()[-1])
    assert summary["published"] is True
    assert summary["assignment"] is None and summary["refused"] is None
    assert "3 published, no outcome seen yet" in " ".join(
        CliRunner().invoke(app, ["review", "decide", "--help"]).stdout.split()
    )


def test_decide_refused_by_the_worker_shows_its_reason_as_written(monkeypatch):
    reason = "appeal MB-1 was decided already by decision D-1"
    letter = SimpleNamespace(error_code="UNKNOWN_APPEAL", reason=reason)
    result = _published(monkeypatch, (None, letter))
    assert result.exit_code == 1, result.output
    assert f"the worker refused the decision: UNKNOWN_APPEAL {reason}" in result.stderr
    assert json.loads(result.stdout.splitlines()[-1])["refused"]["reason"] == reason


def test_decide_for_an_appeal_not_waiting_is_not_published(monkeypatch):
    class Absent(Queue):
        async def get(self, appeal_id):
            return None

    result = _published(monkeypatch, (None, None), Absent())
    assert result.exit_code == 1, result.output
    assert "(decided already, or no such id)" in result.stderr and Producer.sent == []
