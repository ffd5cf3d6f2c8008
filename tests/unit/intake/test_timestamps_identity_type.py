"""Timestamps, appeal ids, contact references and appeal types."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from intake.appeal_type import infer_appeal_type, normalise_appeal_type
from intake.errors import ErrorCode, IntakeError
from intake.identity import appeal_id, contact_ref
from intake.timestamps import check_not_future, from_unix, parse_local
from tests.unit.intake._support import NOW, TZ

EXPECTED = datetime(2019, 4, 25, 9, 32, 9, tzinfo=TZ)


@pytest.mark.parametrize(
    "text",
    [
        "2019/4/25 9:32:09",
        "2019/04/25 09:32:09",
        " 2019/4/25 9:32:09 ",
        "2019-04-25 09:32:09",
        "2019-04-25T09:32:09",
        "2019-04-25T09:32:09+08:00",
        "2019-04-25T01:32:09+00:00",
        "2019-04-25T01:32:09Z",
        # as Chinese systems and a Chinese-locale Excel write them
        "2019年4月25日 9:32:09",
        "2019年4月25日9时32分09秒",
        "2019.04.25 09:32:09",
        "20190425093209",
        "2019/4/25 上午9:32:09",
    ],
)
def test_parse_local_reads_naive_times_as_shanghai_and_converts_offsets(text: str) -> None:
    parsed = parse_local(text, TZ, "time")
    assert parsed == EXPECTED
    assert parsed.tzinfo is TZ
    assert parsed.utcoffset() == timedelta(hours=8)
    assert parsed.isoformat() == "2019-04-25T09:32:09+08:00"


@pytest.mark.parametrize(
    ("text", "hour"),
    [("2019/4/25 下午3:32", 15), ("2019/4/25 晚上9:32", 21), ("2019/4/25 下午12:32", 12),
     ("2019/4/25 上午12:32", 0), ("2019/4/25 中午1:32", 13)],
)  # fmt: skip
def test_parse_local_reads_the_half_of_the_day(text: str, hour: int) -> None:
    assert parse_local(text, TZ, "time") == datetime(2019, 4, 25, hour, 32, tzinfo=TZ)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("2019年4月25日 晚上12:00", datetime(2019, 4, 26, 0, 0, tzinfo=TZ)),
     ("2019年4月30日 晚上12点30分", datetime(2019, 5, 1, 0, 30, tzinfo=TZ)),
     ("2019年12月31日 晚上12:00", datetime(2020, 1, 1, 0, 0, tzinfo=TZ)),
     ("2019年4月25日 凌晨12:10", datetime(2019, 4, 25, 0, 10, tzinfo=TZ))],
)  # fmt: skip
def test_midnight_said_as_12_in_the_evening_ends_the_day(text: str, expected: datetime) -> None:
    # 晚上12点 is the midnight after the evening, not noon (it starts the SLA clocks)
    assert parse_local(text, TZ, "time") == expected


@pytest.mark.parametrize("text", ["2019年13月25日", "2019/4/25 25:10", "20191340", "2019年4月"])
def test_parse_local_refuses_impossible_chinese_times(text: str) -> None:
    with pytest.raises(IntakeError) as err:
        parse_local(text, TZ, "time")
    assert err.value.code is ErrorCode.BAD_TIMESTAMP


def test_parse_local_without_seconds() -> None:
    assert parse_local("2019/4/25 9:32", TZ, "time") == EXPECTED.replace(second=0)


@pytest.mark.parametrize(
    "text", ["", "yesterday", "二〇一九年四月二十五日", "25/4/2019 9:32:09", "2019/13/1 0:00:00"]
)
def test_parse_local_rejects_unrecognised_times(text: str) -> None:
    with pytest.raises(IntakeError) as err:
        parse_local(text, TZ, "call_start")
    assert err.value.code is ErrorCode.BAD_TIMESTAMP
    assert "call_start" in err.value.reason


def test_from_unix_gives_shanghai_time() -> None:
    seconds = int(datetime(2019, 4, 25, 1, 32, 9, tzinfo=UTC).timestamp())
    when = from_unix(seconds, TZ, "CreateTime")
    assert when == EXPECTED
    assert when.isoformat() == "2019-04-25T09:32:09+08:00"


@pytest.mark.parametrize("seconds", [10**20, -(10**20)])
def test_from_unix_rejects_impossible_values(seconds: int) -> None:
    with pytest.raises(IntakeError) as err:
        from_unix(seconds, TZ, "CreateTime")
    assert err.value.code is ErrorCode.BAD_TIMESTAMP


@pytest.mark.parametrize("ahead_s", [-86400, 0, 599, 600])
def test_times_within_the_skew_are_accepted(ahead_s: int) -> None:
    when = NOW + timedelta(seconds=ahead_s)
    assert check_not_future(when, NOW, 600, "time") == when


@pytest.mark.parametrize("ahead_s", [601, 86400, 365 * 86400])
def test_times_beyond_the_skew_are_future_timestamps(ahead_s: int) -> None:
    with pytest.raises(IntakeError) as err:
        check_not_future(NOW + timedelta(seconds=ahead_s), NOW, 600, "time")
    assert err.value.code is ErrorCode.FUTURE_TIMESTAMP


def test_times_before_2000_are_bad_timestamps() -> None:
    with pytest.raises(IntakeError) as err:
        check_not_future(datetime(1999, 12, 31, 23, 0, tzinfo=TZ), NOW, 600, "time")
    assert err.value.code is ErrorCode.BAD_TIMESTAMP


# --- identity ---------------------------------------------------------------------------


def test_appeal_id_is_stable_for_the_same_channel_and_source_id() -> None:
    assert appeal_id("hotline", "GD1") == appeal_id("hotline", "GD1")


@pytest.mark.parametrize(
    ("channel", "prefix"), [("hotline", "HL"), ("mailbox", "MB"), ("wechat", "WX")]
)
def test_appeal_id_shape(channel: str, prefix: str) -> None:
    assert re.fullmatch(rf"{prefix}-[0-9a-f]{{16}}", appeal_id(channel, "12345"))


def test_appeal_id_differs_across_channels_and_source_ids() -> None:
    ids = {appeal_id(c, s) for c in ("hotline", "mailbox", "wechat") for s in ("1", "2", "GD1")}
    assert len(ids) == 9
    # the hash part differs too, not only the channel prefix
    assert len({i.split("-")[1] for i in ids}) == 9


def test_contact_ref_is_stable_opaque_and_keyed() -> None:
    ref = contact_ref("s1", "hotline", "13812345678")
    assert ref == contact_ref("s1", "hotline", "13812345678")
    assert re.fullmatch(r"C-[0-9a-f]{20}", ref)
    assert "13812345678" not in ref
    assert ref != contact_ref("s2", "hotline", "13812345678")
    assert ref != contact_ref("s1", "mailbox", "13812345678")
    assert ref != contact_ref("s1", "hotline", "13812345679")


# --- appeal types -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("投诉", "投诉"),
        ("投诉类", "投诉"),
        (" 咨询 ", "咨询"),
        ("求助类", "求助"),
        ("举报", "举报"),
        ("建议", "建议"),
        ("意见", "建议"),
        ("求援类", "求助"),
        ("表扬", "表扬"),
        ("感谢类", "表扬"),
        ("好评", None),
        ("complaint", None),
        ("", None),
        ("类", None),
    ],
)
def test_normalise_appeal_type(value: str, expected: str | None) -> None:
    assert normalise_appeal_type(value) == expected


@pytest.mark.parametrize(
    ("title", "content", "expected"),
    [
        ("举报某餐馆使用地沟油", "", "举报"),
        ("投诉物业乱收费", "", "投诉"),
        ("关于K市域轨道交通规划的建议", "", "建议"),
        ("请问A市乘坐地铁是否可以使用爱心卡？", "", "咨询"),
        ("路灯不亮", "已经三个月了", "求助"),
        ("路灯不亮", "晚上施工扰民，强烈要求处理", "投诉"),
        ("咨询落户政策", "邻居举报我违建", "咨询"),  # the title decides first
        ("检举与投诉", "", "举报"),  # a report is more specific than a complaint
        ("感谢A7县泉塘街道泉星社区拆除废弃油烟排放管道", "", "表扬"),
        ("致西地省第二人民医院医生的感谢信", "", "表扬"),
        # thanks that preface a request, in the title or the text, are not praise
        ("为G2区政府点赞，请求发展建立一个夜市场", "", "求助"),
        ("东凯小巷改造", "我们为关心百姓福祉的各级政府部门点赞！但是预算达百万", "求助"),
        ("路灯不亮", "请尽快修好，感谢！", "求助"),
    ],
)
def test_infer_appeal_type(title: str, content: str, expected: str) -> None:
    assert infer_appeal_type(title, content) == expected


def test_infer_appeal_type_only_reads_the_start_of_long_content() -> None:
    assert infer_appeal_type("路灯", "很" * 300 + "投诉") == "求助"
