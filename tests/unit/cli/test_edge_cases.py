"""The ``hotline`` commands as an operator meets them: wrong input, services that do not
answer, times past the calendar's end. Each failure is one clear line and a non-zero exit,
never a traceback, and never a quietly wrong answer."""

from __future__ import annotations

import asyncio
import gc
import json
import socket
import threading
import time
import warnings
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from typer.testing import CliRunner

from cli.main import app
from config.sla import DEFAULTS
from sla.events import AssignmentIn, SlaEngine
from sla.working_time import working_time_for

runner = CliRunner()
UNUSED = "127.0.0.1:2"  # nothing listens on port 2


def run(*args: str, env: dict[str, str] | None = None):
    return runner.invoke(app, list(args), env=env)


def refused(r, code: int = 2) -> str:
    """stderr of a command that failed as it should: exit ``code``, no traceback."""
    assert r.exit_code == code, r.output
    assert isinstance(r.exception, SystemExit), r.exception  # not an uncaught exception
    assert "Traceback" not in r.output
    return r.stderr


# -- Redis or Kafka unreachable ------------------------------------------------------------


@pytest.mark.parametrize("cmd", [["remaining", "HL-0123456789abcdef"], ["overdue"]])
def test_sla_queries_with_redis_unreachable(cmd: list[str]) -> None:
    err = refused(run("sla", *cmd, "--redis-url", f"redis://{UNUSED}/0"))
    said = err.strip().splitlines()[-1]  # overdue may warn of the calendar's end first
    assert said.startswith("error: Redis is not reachable") and UNUSED in said
    assert "hotline stack up" in said


def test_sla_queries_read_the_workers_redis_url() -> None:
    """The worker keeps its SLA clocks at $HOTLINE_REDIS_URL: the queries read them there,
    not at $HOTLINE_REDIS_HOST:$HOTLINE_REDIS_PORT, database 0."""
    env = {"HOTLINE_REDIS_URL": f"redis://{UNUSED}/3"}
    err = refused(run("sla", "remaining", "HL-0123456789abcdef", env=env))
    assert UNUSED in err


def test_commands_reading_kafka_with_kafka_unreachable(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    env = {"HOTLINE_KAFKA_BOOTSTRAP": UNUSED, "HOTLINE_TOPIC_PREFIX": "itedge."}
    out = tmp_path / "reassignments.csv"
    err = refused(run("routing", "harvest-reassignments", "--out", str(out), env=env))
    assert err.startswith(f"error: Kafka at {UNUSED} is not reachable") and "stack up" in err
    assert len(err.strip().splitlines()) == 1, err
    assert "Unable connect" not in caplog.text  # the client's own line says it again
    assert not out.exists()


def test_topic_reads_close_their_consumer_when_kafka_is_down() -> None:
    """A consumer that could not start is stopped: no 'Unclosed AIOKafkaConsumer' after
    the command's own error."""
    from aiokafka.errors import KafkaConnectionError

    from stack.topic_read import read_to_end
    from stack.topic_stats import total_records

    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        for read in (lambda: read_to_end(UNUSED, "t"), lambda: total_records(UNUSED, ["t"])):
            with pytest.raises(KafkaConnectionError):
                asyncio.run(read())
        gc.collect()
    assert not [w for w in seen if "Unclosed AIOKafkaConsumer" in str(w.message)]


def test_redis_health_check_of_a_silent_port_is_quick() -> None:
    """`hotline stack status` with something on the Redis port that never answers (a hung
    or stopped server): DOWN after one timeout, not after redis-py's retries (25 s)."""
    from config.stack import StackSettings
    from stack import redis as stack_redis

    server = socket.create_server(("127.0.0.1", 0))
    accepted: list[socket.socket] = []

    def accept() -> None:
        for _ in range(10):
            try:
                accepted.append(server.accept()[0])
            except OSError:
                return

    threading.Thread(target=accept, daemon=True).start()
    try:
        settings = StackSettings(redis_host="127.0.0.1", redis_port=server.getsockname()[1])
        started = time.monotonic()
        assert not stack_redis.healthy(settings)
        assert time.monotonic() - started < 6
    finally:
        server.close()
        for conn in accepted:
            conn.close()


# -- hotline sla: odd times and wrong input ------------------------------------------------


class FakeStore:
    """The few reads the SLA queries make, over cases held in memory."""

    def __init__(self, *states) -> None:
        self.engine = working_engine()
        self.states = {s.appeal_id: s for s in states}

    async def load(self, appeal_id: str):
        return self.states.get(appeal_id)

    async def load_many(self, ids):
        return {i: self.states[i] for i in ids if i in self.states}

    async def department_cases(self, department: str):
        return [i for i, s in self.states.items() if s.department == department]

    async def late_candidates(self, district=None, category=None, until=None):
        return list(self.states)


def working_engine() -> SlaEngine:
    return SlaEngine.from_settings()


def open_case(appeal_id: str = "HL-0123456789abcdef"):
    """A general case assigned on Tuesday 2026-12-01 10:00 to a3.zjj (no sign-for yet)."""
    start = datetime(2026, 12, 1, 10, tzinfo=ZoneInfo("Asia/Shanghai"))
    assignment = AssignmentIn(appeal_id, "as1", 1, "a3.zjj", start, district="A市A3区")
    state, outcomes = working_engine().replay([assignment])
    assert all(o.applied for o in outcomes)
    return state


@pytest.fixture
def fake_redis(monkeypatch: pytest.MonkeyPatch) -> FakeStore:
    import cli.sla

    store = FakeStore(open_case())

    async def with_store(url, prefix, fn):
        return await fn(store)

    async def no_reviews(url, at):
        return []

    monkeypatch.setattr(cli.sla, "_with_store", with_store)
    monkeypatch.setattr(cli.sla, "_review_overdue", no_reviews)
    return store


def test_fake_store_sees_the_case(fake_redis: FakeStore) -> None:
    r = run("sla", "overdue", "--department", "a3.zjj", "--now", "2026-12-12T10:00", "--json")
    assert r.exit_code == 0, r.output
    assert [c["appeal_id"] for c in json.loads(r.stdout)["cases"]] == ["HL-0123456789abcdef"]
    r = run("sla", "remaining", "HL-0123456789abcdef", "--now", "2026-12-02T10:00")
    assert r.exit_code == 0 and "a3.zjj" in r.stdout


@pytest.mark.parametrize(
    "cmd",
    [
        ["remaining", "HL-0123456789abcdef"],
        ["overdue", "--department", "a3.zjj"],
        ["overdue", "--department", "a3.zjj", "--json"],
    ],
)
def test_sla_queries_past_the_calendar_end(fake_redis: FakeStore, cmd: list[str]) -> None:
    """Past the provisional years (or --now there): what to do, not a CalendarRangeError
    traceback. In the provisional year the same query answers."""
    end = working_time_for(DEFAULTS).calendar.last_day
    r = run("sla", *cmd, "--now", f"{end + timedelta(days=4)}T10:00")
    err = refused(r)
    assert "outside the working-day calendar" in err and "declare-year" in err
    assert r.stdout == ""
    r = run("sla", *cmd, "--now", f"{end.year}-01-05T10:00")
    assert r.exit_code == 0 and "HL-0123456789abcdef" in r.stdout


@pytest.mark.parametrize(
    "amount",
    [["--days", "-3"], ["--hours", "-2"], ["--days", "nan"], ["--hours", "inf"],
     ["--days", "-1", "--wall"], ["--hours", "nan", "--wall"]],
)  # fmt: skip
def test_deadline_needs_a_finite_amount_not_below_zero(amount: list[str]) -> None:
    err = refused(run("sla", "deadline", "2026-09-30T16:00", *amount))
    assert "--days" in err or "--hours" in err


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["2025-01-27T16:00", "--days", "1e9", "--wall"], "after the year 9999"),
        (["9998-12-31T16:00", "--days", "1000", "--wall"], "after the year 9999"),
        (["9999-12-31T16:00", "--hours", "10", "--wall"], "from 1970 to 9998"),
        (["0001-01-01T00:00", "--days", "1"], "from 1970 to 9998"),
    ],
)
def test_deadline_past_the_dates_python_holds_is_refused_in_one_line(args, says) -> None:
    # these ended in OverflowError or ValueError tracebacks (exit 1)
    assert says in refused(run("sla", "deadline", *args))


def test_overdue_at_a_time_before_1970_is_refused() -> None:
    assert "from 1970 to 9998" in refused(run("sla", "overdue", "--now", "0001-01-01T00:00"))


def test_deadline_of_zero_is_the_start() -> None:
    r = run("sla", "deadline", "2026-09-30T16:00", "--days", "0", "--json")
    assert r.exit_code == 0 and json.loads(r.stdout)["deadline"] == "2026-09-30T16:00:00+08:00"


def test_overdue_limit_is_not_negative(fake_redis: FakeStore) -> None:
    """--limit -1 printed all cases but the last one (a slice)."""
    refused(run("sla", "overdue", "--limit", "-1", "--now", "2026-12-12T10:00"))
    r = run("sla", "overdue", "--department", "a3.zjj", "--limit", "0", "--now", "2026-12-12T10:00")
    assert r.exit_code == 0 and r.stdout.startswith("1 case(s)")


@pytest.mark.parametrize(
    ("option", "value", "said"),
    [
        ("--department", "a3.zjjj", "unknown department code 'a3.zjjj'"),
        ("--district", "A3区", "A市A3区"),
        ("--district", "火星", "火星"),
    ],
)
def test_overdue_filter_that_matches_nothing_by_construction(
    fake_redis: FakeStore, option: str, value: str, said: str
) -> None:
    """A typo in a department code or a district written otherwise than stored gave
    '0 case(s)', which reads as 'all is well'."""
    err = refused(run("sla", "overdue", option, value, "--now", "2026-12-12T10:00"))
    assert said in err


NOTICE_2027 = """国务院办公厅关于2027年部分节假日安排的通知
一、元旦：1月1日至3日放假，共3天。
二、春节：2月6日至13日放假调休，共8天。2月14日（周日）上班。
三、清明节：4月3日至5日放假，共3天。
四、劳动节：5月1日至5日放假调休，共5天。4月25日（周日）上班。
五、端午节：6月9日至11日放假，共3天。
六、中秋节：9月15日放假。
七、国庆节：10月1日至7日放假调休，共7天。9月26日（周日）、10月9日（周六）上班。
"""  # made up for the tests, with make-up days on weekends as the parser checks


def test_declare_year_warns_of_a_notice_copied_in_part(tmp_path: Path) -> None:
    """Only the first items pasted: 2027 would be declared with 春节 … 国庆节 as working
    days, without a word."""
    overrides = tmp_path / "overrides.toml"
    part = tmp_path / "part.txt"
    part.write_text(NOTICE_2027.split("三、")[0])
    r = run("sla", "declare-year", str(part), "--overrides", str(overrides), "--dry-run")
    assert r.exit_code == 0, r.output
    assert r.stderr.startswith("warning: ") and "清明节、劳动节、端午节、中秋节、国庆节" in r.stderr
    whole = tmp_path / "whole.txt"
    whole.write_text(NOTICE_2027)
    r = run("sla", "declare-year", str(whole), "--overrides", str(overrides))
    assert r.exit_code == 0, r.output
    assert r.stderr == "" and "known_years = [2027]" in overrides.read_text()


def test_declare_year_into_an_unwritable_overrides_file(tmp_path: Path) -> None:
    notice = tmp_path / "notice.txt"
    notice.write_text(NOTICE_2027)
    for overrides in (tmp_path, tmp_path / "missing" / "overrides.toml"):
        err = refused(run("sla", "declare-year", str(notice), "--overrides", str(overrides)))
        assert str(overrides) in err
    bad = tmp_path / "bad.toml"
    bad.write_bytes(b"\xff\xfe")
    assert str(bad) in refused(run("sla", "declare-year", str(notice), "--overrides", str(bad)))


# -- hotline routing: files and numbers ----------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content"),
    [("missing.toml", None), ("bad.toml", b"units = ["), ("binary.toml", b"\xff\xfe\x00"),
     ("folder", "dir")],
)  # fmt: skip
@pytest.mark.parametrize("cmd", [["catalogue-check"], ["route", "噪音扰民"]])
def test_catalogue_that_cannot_be_read(
    tmp_path: Path, name: str, content: bytes | str | None, cmd: list[str]
) -> None:
    path = tmp_path / name
    if content == "dir":
        path.mkdir()
    elif content is not None:
        path.write_bytes(content)
    err = refused(run("routing", *cmd, "--catalogue", str(path)))
    assert str(path) in err


@pytest.mark.parametrize(
    "args",
    [["cv", "--folds", "0"], ["cv", "--folds", "1"], ["cv", "--folds", "-2"], ["cv", "--c", "0"],
     ["cv", "--c", "-1"], ["train", "--c", "0"]],
)  # fmt: skip
def test_routing_cv_and_train_numbers(tmp_path: Path, args: list[str]) -> None:
    """--folds 0 reported accuracies of 0.0 (no fold ran) with exit 0; --c 0 raised out of
    scikit-learn."""
    refused(run("routing", *args, "--out", str(tmp_path / "m.json")) if args[0] == "train"
            else run("routing", *args))  # fmt: skip
    assert not (tmp_path / "m.json").exists()


def test_route_eval_with_a_kind_model_that_does_not_exist(tmp_path: Path) -> None:
    """An explicit --model that is not there was read as 'no model': rules only, exit 0."""
    replies = tmp_path / "replies.csv"
    replies.write_text("id,subject,detail,reply\n1,噪音,楼下噪音,A3区城管局已处理\n")
    missing = tmp_path / "kind_model.json"
    args = ["--model", str(missing), "--replies", str(replies), "--no-classifier"]
    err = refused(run("routing", "route-eval", *args))
    assert "--model" in err and "does not exist" in err


def test_routing_train_into_a_folder(tmp_path: Path) -> None:
    err = refused(run("routing", "train", "--out", str(tmp_path)))
    assert "cannot write" in err and "--out" in err


def test_catalogue_build_into_a_folder(tmp_path: Path) -> None:
    err = refused(run("routing", "catalogue-build", "--out", str(tmp_path)))
    assert "cannot write" in err and "--out" in err


@pytest.mark.parametrize("content", [b"\xff\xfe", b"not json", b"{}"])
def test_kind_model_file_that_is_no_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, content: bytes
) -> None:
    """$HOTLINE_ROUTING_KIND_MODEL, or route-eval's --model, naming a file of another kind."""
    import cli.routing
    from routing.kind_model import load_kind_model

    model = tmp_path / "kind_model.json"
    model.write_bytes(content)
    monkeypatch.setattr(cli.routing, "KIND_MODEL_PATH", model)
    monkeypatch.setattr("routing.kind_model.KIND_MODEL_PATH", model)
    load_kind_model.cache_clear()  # the default model may be cached from other tests
    try:
        err = refused(run("routing", "route", "噪音扰民"))
    finally:
        load_kind_model.cache_clear()
    assert err.startswith(f"{model}: not a department-kind model")
    replies = tmp_path / "replies.csv"
    replies.write_text("id,subject,detail,reply\n1,噪音,楼下噪音,A3区城管局已处理\n")
    args = ["--model", str(model), "--replies", str(replies), "--no-classifier"]
    err = refused(run("routing", "route-eval", *args))
    assert err.startswith(f"{model}: not a department-kind model")


# -- hotline evaluate, hotline demo --------------------------------------------------------


def test_evaluate_with_a_model_file_that_is_no_classifier(tmp_path: Path) -> None:
    import joblib

    data = tmp_path / "one.csv"
    data.write_text("subject,detail,label\n噪音,楼下噪音,城乡建设\n")
    other = tmp_path / "other.joblib"
    joblib.dump({"not": "a classifier"}, other)
    garbage = tmp_path / "garbage.joblib"
    garbage.write_bytes(b'{"kinds": []}')
    for model in (other, garbage):
        err = refused(run("evaluate", "--data", str(data), "--model", str(model), "-q"))
        assert err.startswith("error: ") and str(model) in err
        assert len(err.strip().splitlines()) == 1


def test_train_on_too_few_examples(tmp_path: Path) -> None:
    data = tmp_path / "one.csv"
    data.write_text("subject,detail,label\n噪音,楼下噪音,城乡建设\n")
    args = ["--data", str(data), "--corrections", str(tmp_path / "none.csv")]
    err = refused(run("train", *args, "--out", str(tmp_path / "model"), "--no-cv", "-q"))
    assert err.startswith("error: cannot train on this data: ") and len(err.splitlines()) == 1
    assert not (tmp_path / "model").exists()


def test_demo_says_why_the_stack_would_not_start(monkeypatch: pytest.MonkeyPatch) -> None:
    from stack import redis as stack_redis
    from stack.process import StackError

    def taken(settings):
        raise StackError("port 16379 is taken by something that is not Redis")

    monkeypatch.setattr(stack_redis, "start", taken)
    err = refused(run("demo", "--limit", "1"), code=1)
    assert "port 16379 is taken by something that is not Redis" in err


# -- SLA settings that cannot be used ---------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "args"),
    [
        ("working_hours", "bad", ("sla", "deadline", "2026-03-02T09:00", "--days", "1")),
        ("policy_file", Path("/nonexistent/policies.toml"), ("sla", "policies")),
    ],
)
def test_unusable_sla_settings_are_one_line(monkeypatch, field, value, args):
    import dataclasses

    import cli.sla

    monkeypatch.setattr(
        cli.sla, "DEFAULTS", dataclasses.replace(cli.sla.DEFAULTS, **{field: value})
    )
    said = refused(run(*args))
    assert said.startswith("SLA settings: ") and "hotline config" in said
    assert said.count("\n") == 1
