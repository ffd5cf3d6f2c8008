"""Raw channel records through the real broker, worker and Redis: appeals and dead letters out."""

from __future__ import annotations

import base64
import shutil
import subprocess
import time
from datetime import datetime
from zoneinfo import ZoneInfo

import orjson
import pytest
import redis

from intake.identity import appeal_id
from models.appeal import Appeal
from models.dead_letter import DeadLetter
from tests.integration.raw_records import mailbox_json, wechat_xml
from tests.integration.worker_process import publish, read_all, wait_for

pytestmark = pytest.mark.integration
TZ = ZoneInfo("Asia/Shanghai")


def _mailbox(message_id: str, detail: str, subject: str = "A市A3区小区噪音扰民", **extra) -> bytes:
    return mailbox_json(message_id, subject, detail, "U1001", "2019/4/25 9:32:09", **extra)


def _hotline(ticket: str, content: str, caller: str = "13912345678", **extra) -> bytes:
    record = {"ticket_no": ticket, "call_id": "C-1", "caller_number": caller, "caller_name": "王女士",
              "agent_id": "A007", "call_start": "2024-03-05T10:15:00", "call_end": "2024-03-05T10:21:30",
              "appeal_type": "投诉", "title": "小区供暖不热", "content": content, "address": "A市A5区雨花路8号", **extra}  # fmt: skip
    return orjson.dumps(record)


def _appeals(records) -> dict[str, Appeal]:
    return {r.key.decode(): Appeal.loads(r.value) for r in records}


async def test_mailbox_record_becomes_a_masked_appeal(worker, redis_url):
    aid = appeal_id("mailbox", "MB-it-1")
    raw = _mailbox(
        "MB-it-1",
        "楼下KTV每晚噪音扰民，请处理。联系我13812345678。",
        phone="13812345678",
        email="li@example.com",
    )
    await publish(worker.bootstrap, worker.topic("raw.mailbox"), [raw])
    records = await wait_for(
        worker.bootstrap, worker.topic("appeals.received"), lambda rs: aid in _appeals(rs)
    )
    appeal = _appeals(records)[aid]
    assert appeal.channel == "mailbox" and appeal.source_id == "MB-it-1"
    assert appeal.received_at == datetime(2019, 4, 25, 9, 32, 9, tzinfo=TZ)
    assert appeal.received_at.utcoffset().total_seconds() == 8 * 3600
    assert appeal.appeal_type == "投诉"  # 扰民 is a complaint cue
    assert appeal.district == "A市A3区"
    assert "138****5678" in appeal.content and "13812345678" not in appeal.content
    assert appeal.raw.topic == worker.topic("raw.mailbox") and appeal.raw.offset >= 0
    assert appeal.contact_ref and appeal.contact_ref.startswith("C-")
    stored = redis.Redis.from_url(redis_url).hgetall(f"{worker.prefix}contact:{appeal.contact_ref}")
    assert stored[b"phone"] == b"13812345678" and stored[b"email"] == b"li@example.com"


async def test_hotline_work_order_becomes_an_appeal(worker):
    aid = appeal_id("hotline", "GD-it-1")
    await publish(
        worker.bootstrap,
        worker.topic("raw.hotline"),
        [_hotline("GD-it-1", "暖气片冰凉，家里只有14度。")],
    )
    records = await wait_for(
        worker.bootstrap, worker.topic("appeals.received"), lambda rs: aid in _appeals(rs)
    )
    appeal = _appeals(records)[aid]
    assert (appeal.channel, appeal.appeal_type, appeal.title) == ("hotline", "投诉", "小区供暖不热")
    assert appeal.received_at == datetime(2024, 3, 5, 10, 15, tzinfo=TZ)
    assert appeal.address == "A市A5区雨花路8号" and appeal.district == "A市A5区"
    assert b"13912345678" not in records[-1].value and "王女士" not in appeal.dumps().decode()
    assert appeal.urgency is None  # no 紧急程度 given: routine


async def test_an_urgent_work_order_is_an_urgent_appeal(worker):
    aid = appeal_id("hotline", "GD-it-urgent")
    order = _hotline("GD-it-urgent", "工地脚手架没有防护网，随时可能坠物伤人", urgency="紧急")
    await publish(worker.bootstrap, worker.topic("raw.hotline"), [order])
    records = await wait_for(
        worker.bootstrap, worker.topic("appeals.received"), lambda rs: aid in _appeals(rs)
    )
    assert _appeals(records)[aid].urgency == "urgent"


async def test_wechat_messages_of_one_user_form_one_appeal(worker):
    base = int(time.time()) - 300
    openid = "oWX-it-user-1"
    messages = [
        wechat_xml(openid, 9001, base, "text", Content="你好，我要反映A2区的问题"),
        wechat_xml(
            openid,
            9002,
            base + 30,
            "voice",
            Recognition="雨花路上的路灯坏了一个多月。",
            MediaId="m1",
        ),
        wechat_xml(
            openid,
            9003,
            base + 60,
            "location",
            Location_X="28.1",
            Location_Y="112.9",
            Label="A市A2区雨花路",
        ),
        wechat_xml(
            openid,
            9002,
            base + 30,
            "voice",
            Recognition="雨花路上的路灯坏了一个多月。",
            MediaId="m1",
        ),  # retry
    ]
    await publish(worker.bootstrap, worker.topic("raw.wechat"), messages, key=openid.encode())
    aid = appeal_id("wechat", "9001")
    records = await wait_for(
        worker.bootstrap, worker.topic("appeals.received"), lambda rs: aid in _appeals(rs)
    )
    appeal = _appeals(records)[aid]
    assert appeal.content == "你好，我要反映A2区的问题\n雨花路上的路灯坏了一个多月。"
    assert appeal.address == "A市A2区雨花路" and appeal.district == "A市A2区"
    assert appeal.received_at == datetime.fromtimestamp(base, TZ)
    assert openid not in orjson.dumps([r.value.decode() for r in records]).decode()
    # the retry of 9002 did not produce another appeal
    assert [a for a in _appeals(records).values() if a.source_id in ("9002", "9003")] == []


async def test_a_name_split_over_wechat_messages_is_masked_and_kept_for_the_callback(
    worker, redis_url
):
    base = int(time.time()) - 300
    openid = "oWX-it-user-name"
    messages = [
        wechat_xml(openid, 9201, base, "text", Content="我叫"),
        wechat_xml(openid, 9202, base + 20, "text", Content="张三丰"),
        wechat_xml(openid, 9203, base + 40, "text", Content="A2区雨花路的路灯坏了一个多月。"),
    ]
    await publish(worker.bootstrap, worker.topic("raw.wechat"), messages, key=openid.encode())
    aid = appeal_id("wechat", "9201")
    records = await wait_for(
        worker.bootstrap, worker.topic("appeals.received"), lambda rs: aid in _appeals(rs)
    )
    appeal = _appeals(records)[aid]
    assert appeal.content.startswith("我叫\n张**\n") and "张三丰" not in appeal.dumps().decode()
    # staff calling the citizen back (回访) read the name from the contact store
    stored = redis.Redis.from_url(redis_url).hgetall(f"{worker.prefix}contact:{appeal.contact_ref}")
    assert orjson.loads(stored[f"text:{aid}".encode()]) == [["name", "张三丰"]]
    assert stored[b"identity"] == openid.encode()


async def test_wechat_gap_beyond_window_splits_appeals(worker):
    base = int(time.time()) - 3 * 3600
    openid = "oWX-it-user-2"
    messages = [
        wechat_xml(openid, 9101, base, "text", Content="公交站台的广告牌松动了"),
        wechat_xml(openid, 9102, base + 3600, "text", Content="另外，小区门口的垃圾没人清运"),
    ]
    await publish(worker.bootstrap, worker.topic("raw.wechat"), messages, key=openid.encode())
    first, second = appeal_id("wechat", "9101"), appeal_id("wechat", "9102")
    records = await wait_for(
        worker.bootstrap,
        worker.topic("appeals.received"),
        lambda rs: {first, second} <= set(_appeals(rs)),
    )
    assert _appeals(records)[first].content == "公交站台的广告牌松动了"
    assert _appeals(records)[second].content == "另外，小区门口的垃圾没人清运"


async def test_same_raw_record_twice_yields_one_appeal(worker):
    aid, marker = appeal_id("mailbox", "MB-it-dup"), appeal_id("mailbox", "MB-it-dup-marker")
    raw = _mailbox("MB-it-dup", "同一封信被信箱系统重发了两次。")
    # one key keeps the three records in order on one partition: once the marker is out,
    # both copies have been handled
    await publish(
        worker.bootstrap,
        worker.topic("raw.mailbox"),
        [raw, raw, _mailbox("MB-it-dup-marker", "标记")],
        key=b"k",
    )
    received = await wait_for(
        worker.bootstrap, worker.topic("appeals.received"), lambda rs: marker in _appeals(rs)
    )
    assert sum(r.key.decode() == aid for r in received) == 1
    assert "duplicate appeal " + aid in worker.log_text()


BAD_INPUTS = [
    ("raw.mailbox", b"{not json", "BAD_JSON"),
    ("raw.mailbox", b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe\x80\x81", "UNDECODABLE"),
    (
        "raw.mailbox",
        orjson.dumps(
            {"message_id": "x", "user": "u", "time": "2019/4/25 9:32:09", "detail": "有内容"}
        ),
        "MISSING_FIELD",
    ),
    (
        "raw.mailbox",
        orjson.dumps(
            {
                "message_id": "x",
                "user": "u",
                "subject": ["不是文本"],
                "time": "2019/4/25 9:32:09",
                "detail": "有内容",
            }
        ),
        "WRONG_TYPE",
    ),  # fmt: skip
    ("raw.mailbox", _mailbox("MB-empty", "   ", subject=""), "EMPTY_CONTENT"),
    ("raw.mailbox", _mailbox("MB-big", "长" * 20_001), "OVERSIZED"),
    (
        "raw.hotline",
        _hotline(
            "GD-future",
            "来电时间在未来",
            call_start="2999-01-01T09:00:00",
            call_end="2999-01-01T09:05:00",
        ),
        "FUTURE_TIMESTAMP",
    ),  # fmt: skip
    ("raw.hotline", _hotline("GD-type", "类型不对", appeal_type="闲聊"), "BAD_VALUE"),
    ("raw.hotline", _hotline("GD-urgency", "紧急程度不对", urgency="很急"), "BAD_VALUE"),
    ("raw.wechat", b"<xml><ToUserName>gh</ToUserName><MsgType>text", "BAD_XML"),
    (
        "raw.wechat",
        wechat_xml("oWX-it-bad", 9201, int(time.time()), "link", Url="https://example.com"),
        "UNKNOWN_MSG_TYPE",
    ),
]


async def test_each_bad_input_class_is_dead_lettered_and_the_next_record_still_processed(worker):
    per_topic: dict[str, list[bytes]] = {}
    for topic, payload, _ in BAD_INPUTS:
        per_topic.setdefault(topic, []).append(payload)
    good = {
        "raw.mailbox": (
            _mailbox("MB-after-bad", "坏记录之后的正常来信"),
            appeal_id("mailbox", "MB-after-bad"),
        ),
        "raw.hotline": (
            _hotline("GD-after-bad", "坏工单之后的正常工单"),
            appeal_id("hotline", "GD-after-bad"),
        ),
        "raw.wechat": (
            wechat_xml(
                "oWX-it-good", 9301, int(time.time()) - 5, "text", Content="坏消息之后的正常消息"
            ),
            appeal_id("wechat", "9301"),
        ),  # fmt: skip
    }
    for topic, payloads in per_topic.items():
        # one partition key per topic so the good record really comes after the bad ones
        await publish(
            worker.bootstrap, worker.topic(topic), [*payloads, good[topic][0]], key=b"same-key"
        )
    expected_codes = sorted(code for _, _, code in BAD_INPUTS)
    dead = await wait_for(
        worker.bootstrap, worker.topic("deadletter"),
        lambda rs: sorted(DeadLetter.loads(r.value).error_code for r in rs) == expected_codes,
    )  # fmt: skip
    letters = [DeadLetter.loads(r.value) for r in dead]
    for topic, payload, code in BAD_INPUTS:
        # the original bytes, untouched, each dead-lettered once with its own code
        match = [d for d in letters if base64.b64decode(d.payload_b64) == payload]
        assert [d.error_code for d in match] == [code], code
        letter = match[0]
        assert letter.source_topic == worker.topic(topic) and letter.source_offset >= 0
        assert letter.reason and len(letter.reason) > 10
    received = await wait_for(
        worker.bootstrap, worker.topic("appeals.received"),
        lambda rs: {aid for _, aid in good.values()} <= set(_appeals(rs)),
    )  # fmt: skip
    assert received


async def test_legacy_gbk_bytes_are_decoded_not_rejected(worker):
    aid = appeal_id("mailbox", "MB-gbk")
    raw = _mailbox("MB-gbk", "旧系统用GBK编码发来的信：路灯不亮。").decode().encode("gbk")
    await publish(worker.bootstrap, worker.topic("raw.mailbox"), [raw])
    records = await wait_for(
        worker.bootstrap, worker.topic("appeals.received"), lambda rs: aid in _appeals(rs)
    )
    assert _appeals(records)[aid].content == "旧系统用GBK编码发来的信：路灯不亮。"


async def test_no_downstream_topic_carries_injected_personal_numbers(worker):
    secrets = {
        "mobile": "13698765432", "id18": "11010519491231002X", "card": "6222021234567890128",
        "email": "secret.person@example.org", "landline": "0731-84567890", "caller": "15011112222",
    }  # fmt: skip
    text = (f"我的手机{secrets['mobile']}，身份证{secrets['id18']}，银行卡{secrets['card']}，"
            f"邮箱{secrets['email']}，座机{secrets['landline']}。")  # fmt: skip
    base = int(time.time()) - 60
    await publish(
        worker.bootstrap,
        worker.topic("raw.mailbox"),
        [_mailbox("MB-pii", text, phone=secrets["mobile"])],
    )
    await publish(
        worker.bootstrap,
        worker.topic("raw.hotline"),
        [_hotline("GD-pii", text, caller=secrets["caller"])],
    )
    await publish(
        worker.bootstrap,
        worker.topic("raw.wechat"),
        [wechat_xml("oWX-it-pii", 9401, base, "text", Content=text)],
    )
    ids = {
        appeal_id("mailbox", "MB-pii"),
        appeal_id("hotline", "GD-pii"),
        appeal_id("wechat", "9401"),
    }
    await wait_for(
        worker.bootstrap, worker.topic("appeals.received"), lambda rs: ids <= set(_appeals(rs))
    )

    from aiokafka.admin import AIOKafkaAdminClient

    admin = AIOKafkaAdminClient(bootstrap_servers=worker.bootstrap)
    await admin.start()
    topics = [t for t in await admin.list_topics() if t.startswith(worker.prefix)]
    await admin.close()
    restricted = {
        worker.topic(n) for n in ("raw.mailbox", "raw.hotline", "raw.wechat", "deadletter")
    }
    downstream = sorted(set(topics) - restricted)
    assert worker.topic("appeals.received") in downstream and any(
        "changelog" in t for t in downstream
    )
    # one consumer over all of them: ~300 department topics read one by one take minutes
    records = await read_all(worker.bootstrap, downstream, idle_ms=2000)
    by_topic: dict[str, bytes] = {}
    for r in records:
        by_topic[r.topic] = by_topic.get(r.topic, b"") + (r.key or b"") + (r.value or b"")
    assert (
        worker.topic("appeals.received") in by_topic and worker.topic("assignments.all") in by_topic
    )
    for topic, blob in by_topic.items():
        for kind, value in secrets.items():
            assert value.encode() not in blob, f"{kind} leaked into {topic}"


@pytest.mark.skipif(
    shutil.which("kcat") is None, reason="kcat not installed (CI installs Debian's kcat)"
)
async def test_record_published_with_kcat_is_processed(worker):
    aid = appeal_id("mailbox", "MB-kcat-1")
    line = _mailbox("MB-kcat-1", "用kcat发布的一条来信：人行道井盖缺失。")
    subprocess.run(
        ["kcat", "-P", "-b", worker.bootstrap, "-t", worker.topic("raw.mailbox"), "-k", "MB-kcat-1"],
        input=line + b"\n", check=True, timeout=30,
    )  # fmt: skip
    records = await wait_for(
        worker.bootstrap, worker.topic("appeals.received"), lambda rs: aid in _appeals(rs)
    )
    assert _appeals(records)[aid].content == "用kcat发布的一条来信：人行道井盖缺失。"


async def test_a_failing_session_table_dead_letters_pieces_instead_of_losing_them(
    kafka_bootstrap, redis_url, tmp_path
):
    """A changelog with the wrong partition count makes every table write fail (faust's
    PartitionsMismatch, as on a broker that had not listed the changelog yet): the pieces
    must come out as INTERNAL dead letters, not vanish with a crashed agent."""
    from stack.topic_admin import ensure_topics
    from streams.topics import SPECS
    from tests.integration.worker_process import WorkerProcess

    proc = WorkerProcess(kafka_bootstrap, redis_url, tmp_path)
    await ensure_topics(kafka_bootstrap, [proc.topic(n) for n in SPECS], 4)
    changelog = proc.topic("hotline12345-wechat-sessions-changelog")
    await ensure_topics(kafka_bootstrap, [changelog], 2, configs={"cleanup.policy": "compact"})
    proc.start()
    try:
        openid = "oWX-it-user-broken-table"
        await publish(
            kafka_bootstrap, proc.topic("raw.wechat"),
            [wechat_xml(openid, 9701, int(time.time()), "text", Content="小区门口的路灯坏了")],
            key=openid.encode(),
        )  # fmt: skip
        dead = await wait_for(
            kafka_bootstrap, proc.topic("deadletter"),
            lambda rs: any(DeadLetter.loads(r.value).error_code == "INTERNAL" for r in rs),
        )  # fmt: skip
        letter = next(d for d in map(DeadLetter.loads, (r.value for r in dead)))
        assert letter.stage == "wechat-session" and "PartitionsMismatch" in letter.reason
        assert letter.source_topic == proc.topic("raw.wechat")
        assert b"9701" in base64.b64decode(letter.payload_b64)  # the piece, kept for replay
    finally:
        proc.stop()
        await proc.delete_topics_and_keys()
