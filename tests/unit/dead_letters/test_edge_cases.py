"""Dead letters and their replay at the edges an operator meets: a record too large to keep
whole, a WeChat session's letter, a source topic gone from the broker, Kafka or Redis away.

Each test here failed on the code before its fix; the last ones pin what was probed and
found right (filters matching nothing, ``--since`` in other time zones, letters of the
older contract, binary payloads, a letter of a replayed letter).
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
import typer
from typer.testing import CliRunner

from config.stack import PROJECT_ROOT
from dead_letters.selection import Filters, Letter, letter_id, plan_replay, summarize
from intake.errors import ErrorCode, IntakeError
from models.appeal import RawRef
from models.dead_letter import DeadLetter
from models.wechat import WeChatPiece, WeChatSession

TZ = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 12, 24, 10, 0, tzinfo=TZ)
KNOWN = {"p.assignments.all", "p.raw.mailbox", "p.raw.wechat", "p.intake.wechat.pieces"}


def _record(code: str = "INTERNAL", *, topic: str = "p.raw.mailbox", payload: bytes = b"x",
            key: bytes | None = b"k", stage: str = "intake", minutes: int = 0,
            offset: int = 7) -> DeadLetter:  # fmt: skip
    return DeadLetter(
        error_code=code, reason="r", source_topic=topic, source_partition=0, source_offset=offset,
        payload_b64=base64.b64encode(payload).decode(), failed_at=T0 + timedelta(minutes=minutes),
        channel="mailbox", key_b64=base64.b64encode(key).decode() if key is not None else None,
        stage=stage,
    )  # fmt: skip


def _sent_letters(monkeypatch) -> list[tuple[str, DeadLetter]]:
    """What ``send_dead_letter`` publishes, with the producer's size check on each value."""
    from streams import dead_letters, topics
    from streams.app import app

    sent: list[tuple[str, DeadLetter]] = []
    limit = app.conf.producer_max_request_size

    async def send(key, value):
        # aiokafka refuses a record above max_request_size (key, value and ~70 bytes of
        # batch overhead): the worker's agent crashed and faust moved past its batch
        assert len(key.encode()) + len(value.dumps()) + 100 <= limit, "too large to send"
        sent.append((key, value))
        done = asyncio.get_running_loop().create_future()
        done.set_result(None)
        return done

    class Counters:
        async def add(self, counts) -> None:
            pass

    monkeypatch.setattr(topics.dead_letters, "send", send)
    monkeypatch.setattr(dead_letters, "intake_counters", Counters)
    return sent


# --- a record too large to keep whole ---------------------------------------------


async def test_a_record_too_large_for_a_dead_letter_is_dead_lettered_without_its_bytes(
    monkeypatch,
):
    """A 900 KB mailbox record is accepted by the broker (1 MB) and rejected as OVERSIZED;
    base64 makes its dead letter 1.2 MB, which the producer refused: the intake agent
    crashed and the good records of its batch were lost (seen on the real broker)."""
    from streams.dead_letters import send_dead_letter

    sent = _sent_letters(monkeypatch)
    huge = b'{"message_id":"MB-1","detail":"' + "噪音".encode() * 150_000 + b'"}'
    letter = _record("OVERSIZED", payload=huge)
    await send_dead_letter(letter)
    [(key, published)] = sent
    assert key == "p.raw.mailbox/0/7"
    assert published.error_code == "OVERSIZED"
    assert published.payload_b64 == "" and published.key_b64 is None
    assert str(len(huge)) in published.reason and "p.raw.mailbox/0/7" in published.reason
    assert published.reason.startswith("r")  # the original reason comes first

    small = _record("OVERSIZED", payload=b"x" * 700_000)  # still fits whole: kept as it was
    await send_dead_letter(small)
    assert sent[-1][1].payload_b64 == small.payload_b64 and sent[-1][1].reason == "r"


def test_a_letter_without_bytes_is_not_replayed_as_an_empty_record():
    """OVERSIZED is worth a replay (after raising the limit), so such a letter was sent
    back as an empty value: intake made it EMPTY_CONTENT and the letter counted as replayed."""
    empty = _record("OVERSIZED", payload=b"", key=None)
    plan = plan_replay([Letter("0/1", empty)], Filters(), KNOWN, set(), force=True)
    assert plan.resend == []
    assert plan.no_payload == ["0/1"]
    assert plan.as_dict()["unreadable"] == 1


# --- a WeChat session's letter ----------------------------------------------------


async def _session_letter(code: ErrorCode) -> DeadLetter:
    """The letter the WeChat session agent writes when a session cannot become an appeal."""
    import streams.agents.intake_wechat as intake_wechat

    letters: list[DeadLetter] = []

    async def capture(letter, pending=None):
        letters.append(letter)

    piece = WeChatPiece(contact_ref="C-1", msg_id="m1", create_time=1735700000, msg_type="text",
                        raw=RawRef("p.raw.wechat", 2, 7), text="路灯坏了")  # fmt: skip
    session = WeChatSession(contact_ref="C-1", pieces=[piece], last_seen_wall=1.0)
    with mock.patch.object(intake_wechat, "send_dead_letter", capture):
        await intake_wechat._dead_letter_session(session, code, "boom")
    return letters[0]


async def test_a_wechat_session_letter_is_not_sent_to_the_raw_topic_as_if_it_were_xml():
    """The letter of a session holds the session's pieces as JSON, with the raw position of
    its first message: sent back to raw.wechat, intake read it as BAD_XML (a new letter
    that can never pass) and the session's letter counted as replayed."""
    from intake import wechat

    letter = await _session_letter(ErrorCode.INTERNAL)  # INTERNAL: replayable by default
    assert letter.source_topic == "p.raw.wechat"
    with pytest.raises(IntakeError) as err:  # what the replay used to send
        wechat.parse(base64.b64decode(letter.payload_b64))
    assert err.value.code == ErrorCode.BAD_XML

    for force in (False, True):
        plan = plan_replay([Letter("0/3", letter)], Filters(), KNOWN, set(), force=force)
        assert plan.resend == []
        assert plan.not_original == ["0/3"]
    assert plan.as_dict()["unreadable"] == 1


# --- a source topic gone from the broker -------------------------------------------


def test_letters_whose_source_topic_is_not_on_the_broker_are_not_sent():
    """Sending to a missing topic made the broker create it (default partitions, not the
    deployment's), reported as sent and marked replayed, with nobody reading it."""
    letters = [Letter("0/0", _record()), Letter("0/1", _record(topic="p.assignments.all"))]
    plan = plan_replay(letters, Filters(), KNOWN, set(), existing_topics={"p.assignments.all"})
    assert [r.letter_id for r in plan.resend] == ["0/1"]
    assert plan.missing_topic == ["0/0"]
    assert plan.as_dict()["unknown_topic"] == 1
    # without a broker's list (unit use), every known topic counts as there
    assert len(plan_replay(letters, Filters(), KNOWN, set()).resend) == 2


# --- Kafka or Redis away -----------------------------------------------------------


@pytest.mark.parametrize(
    "args", [["summary"], ["replay", "--all"], ["replay", "--all", "--dry-run"]]
)
def test_unreachable_kafka_is_a_one_line_error_not_a_traceback(args):
    done = subprocess.run(
        [sys.executable, "-m", "cli", "deadletter", *args],
        cwd=PROJECT_ROOT, env={**os.environ, "HOTLINE_KAFKA_BOOTSTRAP": "127.0.0.1:1"},
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr and "Unclosed" not in done.stderr, done.stderr
    # aiokafka's own line may come first, as for the worker (test_worker_preflight)
    last = done.stderr.splitlines()[-1]
    assert last.startswith("error: Kafka at 127.0.0.1:1 is not reachable"), done.stderr
    assert done.stdout == ""


def _offline_cli(monkeypatch, read_letters) -> typer.Typer:
    """The deadletter commands on no broker (``read_letters`` stands in for the topic) and
    a Redis that is not there."""
    import redis.asyncio as aioredis

    from cli import deadletter
    from dead_letters import replay
    from stores.replayed_dead_letters import ReplayedDeadLetters

    class Settings:
        broker = "127.0.0.1:19092"
        redis_url = "redis://127.0.0.1:1/0"

        def topic(self, name: str) -> str:
            return f"p.{name}"

    def context():
        store = ReplayedDeadLetters(aioredis.Redis.from_url(Settings.redis_url), "k")
        return Settings(), "p.deadletter", KNOWN, store

    async def topics(bootstrap):
        return {*KNOWN, "p.deadletter"}

    monkeypatch.setattr(deadletter, "_context", context)
    monkeypatch.setattr(replay, "read_letters", read_letters)
    monkeypatch.setattr(replay, "existing_topics", topics)
    app = typer.Typer()
    app.add_typer(deadletter.app, name="deadletter")
    return app


def test_unreachable_redis_is_a_one_line_error_not_a_traceback(monkeypatch):
    async def no_letters(bootstrap, topic):
        return [], 0

    app = _offline_cli(monkeypatch, no_letters)
    for args in (["summary"], ["replay", "--all"]):
        done = CliRunner().invoke(app, ["deadletter", *args])
        assert done.exit_code == 2, done.output
        assert done.exception is None or isinstance(done.exception, SystemExit)
        assert done.output.startswith("error: Redis is not reachable"), done.output
        assert "127.0.0.1" in done.output and ", 1)" in done.output  # the address it tried
        assert done.output.count("\n") == 1


def test_an_interrupted_replay_says_how_to_go_on(monkeypatch):
    from contextlib import asynccontextmanager

    from stores.replayed_dead_letters import ReplayedDeadLetters

    async def interrupted(bootstrap, topic):
        raise KeyboardInterrupt

    @asynccontextmanager
    async def lock_taken(self):  # the lock is in Redis, which this test does not have
        yield

    monkeypatch.setattr(ReplayedDeadLetters, "exclusive", lock_taken)
    done = CliRunner().invoke(
        _offline_cli(monkeypatch, interrupted), ["deadletter", "replay", "--all"]
    )
    assert done.exit_code == 130, done.output
    assert done.output == (
        "interrupted; run the same replay again: letters marked already are not resent\n"
    )


# --- probed and found right ---------------------------------------------------------


def test_filters_that_match_nothing_or_everything():
    letters = [Letter(letter_id(0, i), _record(minutes=i, offset=i)) for i in range(3)]
    nothing = plan_replay(letters, Filters(codes={"SLA_CALENDAR_RANGE"}), KNOWN, set())
    assert not any(nothing.as_dict().values())
    everything = plan_replay(letters, Filters(), KNOWN, set())
    assert [r.letter_id for r in everything.resend] == ["0/0", "0/1", "0/2"]
    # every one replayed already: a second run sends none
    again = plan_replay(letters, Filters(), KNOWN, {"0/0", "0/1", "0/2"})
    assert (again.resend, again.already_replayed) == ([], ["0/0", "0/1", "0/2"])


def test_since_compares_instants_whatever_the_time_zone():
    from cli.deadletter import _since

    letters = [Letter("0/0", _record(minutes=0)), Letter("0/1", _record(minutes=1, offset=8))]
    utc = _since("2026-12-24T02:00:30Z")  # 10:00:30 in Shanghai
    assert utc == T0 + timedelta(seconds=30)
    assert _since("2026-12-24T10:00:30") == utc  # no zone: Shanghai time
    assert _since("2026-12-24T02:00:30+00:00") == utc
    ids = [r.letter_id for r in plan_replay(letters, Filters(since=utc), KNOWN, set()).resend]
    assert ids == ["0/1"]
    assert _since("2026-12-24") == datetime(2026, 12, 24, tzinfo=TZ)
    for bad in ("yesterday", "2026-13-01", "24/12/2026", ""):
        with pytest.raises(typer.BadParameter):
            _since(bad)


def test_letters_of_the_older_contract_and_binary_payloads():
    older = {"error_code": "INTERNAL", "reason": "r", "source_topic": "p.raw.mailbox",
             "source_partition": 0, "source_offset": 1, "payload_b64": "/wD+",
             "failed_at": "2026-12-24T10:00:00+08:00"}  # fmt: skip
    record = DeadLetter.loads(json.dumps(older).encode())  # no stage, channel or key
    assert (record.stage, record.channel, record.key_b64) == ("intake", None, None)
    [resend] = plan_replay([Letter("1/5", record)], Filters(), KNOWN, set()).resend
    assert (resend.value, resend.key) == (b"\xff\x00\xfe", None)  # not UTF-8: unchanged
    with pytest.raises(TypeError):  # a required field missing: counted as unreadable
        DeadLetter.loads(json.dumps({k: v for k, v in older.items() if k != "reason"}).encode())


def test_a_letter_of_a_replayed_letter_is_a_new_letter_sent_once():
    """A replayed record that fails again is a new letter (its new source position); the
    first is marked, so a replay sends the new one, once."""
    first = Letter("0/0", _record(minutes=0))
    second = Letter("0/9", _record(minutes=5, offset=200))  # sent back: at the topic's end
    plan = plan_replay([first, second], Filters(), KNOWN, replayed={"0/0"})
    assert [r.letter_id for r in plan.resend] == ["0/9"]
    rows = summarize([first, second], {"0/0"})
    assert [(r.count, r.replayed) for r in rows] == [(2, 1)]


def test_failed_at_in_utc_is_summarised_with_shanghai_letters():
    utc = _record(minutes=0)
    utc.failed_at = utc.failed_at.astimezone(UTC)
    rows = summarize([Letter("0/0", utc), Letter("0/1", _record(minutes=-1))], set())
    assert rows[0].last_failed_at == T0 and rows[0].first_failed_at == T0 - timedelta(minutes=1)
