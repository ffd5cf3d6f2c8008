"""Joining WeChat pieces of one user into sessions, and closing a session into an appeal."""

from __future__ import annotations

from datetime import timedelta

import pytest

from intake import wechat
from intake.errors import ErrorCode, IntakeError
from intake.identity import appeal_id, contact_ref
from intake.wechat_session import add_piece, close, idle_period, is_idle
from models.wechat import WeChatPiece, WeChatSession
from tests.unit.intake._support import NOW, OPENID, RAW, SECRET, json_text, settings, wx_xml

REF = contact_ref(SECRET, "wechat", OPENID)
T0 = int((NOW - timedelta(hours=1)).timestamp())
WINDOW = 600


def piece(msg_id: str, at: int, text: str | None = None, **extra) -> WeChatPiece:
    kind = extra.pop("msg_type", "text" if text else "image")
    return WeChatPiece(
        contact_ref=REF, msg_id=msg_id, create_time=at, msg_type=kind, raw=RAW, text=text, **extra
    )


def session_of(*pieces: WeChatPiece, wall: float = 1000.0) -> WeChatSession:
    session = None
    for i, p in enumerate(pieces):
        session, closed = add_piece(session, p, wall + i, WINDOW)
        assert closed is None
    assert session is not None
    return session


# --- add_piece --------------------------------------------------------------------------


def test_first_piece_opens_a_session() -> None:
    p = piece("1", T0, "你好")
    session, closed = add_piece(None, p, 1000.0, WINDOW)
    assert closed is None
    assert session.contact_ref == REF
    assert [x.msg_id for x in session.pieces] == ["1"]
    assert session.last_seen_wall == 1000.0


def test_pieces_within_the_window_join_in_create_time_order() -> None:
    session = session_of(
        piece("3", T0 + 80, "第三"), piece("1", T0, "第一"), piece("2", T0 + 40, "第二")
    )
    assert [p.msg_id for p in session.pieces] == ["1", "2", "3"]
    assert session.last_seen_wall == 1002.0


@pytest.mark.parametrize("gap", [0, 1, WINDOW])
def test_gap_up_to_the_window_joins(gap: int) -> None:
    session, closed = add_piece(
        session_of(piece("1", T0, "a")), piece("2", T0 + gap, "b"), 2000.0, WINDOW
    )
    assert closed is None
    assert len(session.pieces) == 2


def test_gap_is_measured_from_the_latest_piece() -> None:
    session = session_of(piece("1", T0, "a"), piece("2", T0 + 500, "b"))
    session, closed = add_piece(session, piece("3", T0 + 1000, "c"), 2000.0, WINDOW)
    assert closed is None
    assert len(session.pieces) == 3


def test_gap_beyond_the_window_closes_the_session_and_opens_a_new_one() -> None:
    old = session_of(piece("1", T0, "a"), piece("2", T0 + 30, "b"))
    fresh, closed = add_piece(old, piece("3", T0 + 30 + WINDOW + 1, "c"), 5000.0, WINDOW)
    assert closed is not None
    assert [p.msg_id for p in closed.pieces] == ["1", "2"]
    assert [p.msg_id for p in fresh.pieces] == ["3"]
    assert fresh.last_seen_wall == 5000.0
    assert fresh.contact_ref == REF


def test_repeated_msg_id_is_a_retry_and_changes_nothing() -> None:
    session = session_of(piece("1", T0, "a"), piece("2", T0 + 10, "b"))
    again, closed = add_piece(session, piece("1", T0, "a"), 9999.0, WINDOW)
    assert closed is None
    assert [p.msg_id for p in again.pieces] == ["1", "2"]


def test_retry_arriving_after_the_window_does_not_close_the_session() -> None:
    session = session_of(piece("1", T0, "a"))
    again, closed = add_piece(session, piece("1", T0 + 10 * WINDOW, "a"), 9999.0, WINDOW)
    assert closed is None
    assert len(again.pieces) == 1


def test_a_session_at_its_message_limit_closes_and_the_piece_opens_the_next() -> None:
    session = session_of(piece("1", T0, "a"), piece("2", T0 + 10, "b"), piece("3", T0 + 20))
    fresh, closed = add_piece(session, piece("4", T0 + 30, "d"), 2000.0, WINDOW, max_messages=3)
    assert closed is session
    assert [p.msg_id for p in fresh.pieces] == ["4"] and fresh.last_seen_wall == 2000.0
    # below the limit the piece joins
    joined, none = add_piece(session, piece("4", T0 + 30, "d"), 2000.0, WINDOW, max_messages=4)
    assert none is None and len(joined.pieces) == 4


def test_a_session_closes_before_its_text_would_pass_the_appeal_limit() -> None:
    session = session_of(
        piece("1", T0, "长" * 50), piece("2", T0 + 5), piece("3", T0 + 9, "长" * 40)
    )
    # 50 + 1 line break + 40 = 91 characters; 9 more with their line break fit 100 exactly
    joined, closed = add_piece(session, piece("4", T0 + 12, "长" * 8), 1.0, WINDOW, max_chars=100)
    assert (
        closed is None
        and len(close(joined, NOW, settings(max_content_chars=100)).appeal.content) == 100
    )
    fresh, closed = add_piece(session, piece("4", T0 + 12, "长" * 9), 1.0, WINDOW, max_chars=100)
    assert closed is session and [p.msg_id for p in fresh.pieces] == ["4"]
    # pieces without text (a photo) still join a session whose text is at the limit
    photo, closed = add_piece(session, piece("5", T0 + 12), 1.0, WINDOW, max_chars=91)
    assert closed is None and len(photo.pieces) == 4


def test_a_single_message_over_the_limit_is_its_own_oversized_session() -> None:
    session = session_of(piece("1", T0, "你好"))
    fresh, closed = add_piece(session, piece("2", T0 + 5, "长" * 101), 1.0, WINDOW, max_chars=100)
    assert closed is session
    with pytest.raises(IntakeError) as err:
        close(fresh, NOW, settings(max_content_chars=100))
    assert err.value.code is ErrorCode.OVERSIZED


def test_a_sender_who_never_pauses_gets_appeals_within_the_limits_and_loses_nothing() -> None:
    # a message a minute for 33 hours: never a gap of the window, never idle
    limits = settings()
    texts = [f"第{i}条：小区门口的垃圾一直没人清理，请尽快处理" for i in range(2000)]
    session, closed_sessions = None, []
    for i, text in enumerate(texts):
        session, closed = add_piece(
            session, piece(str(i), T0 + 60 * i, text), 1000.0 + i, WINDOW,
            max_chars=limits.max_content_chars, max_messages=limits.wechat_max_session_messages,
        )  # fmt: skip
        closed_sessions += [closed] if closed else []
    closed_sessions.append(session)
    appeals = [close(s, NOW, limits).appeal for s in closed_sessions]
    assert len(appeals) == 40  # 50 messages each, about 1,300 characters
    assert all(len(s.pieces) <= limits.wechat_max_session_messages for s in closed_sessions)
    assert [p.msg_id for s in closed_sessions for p in s.pieces] == [str(i) for i in range(2000)]
    assert "\n".join(a.content for a in appeals) == "\n".join(texts)


@pytest.mark.parametrize(
    ("elapsed", "idle"), [(0, False), (599.9, False), (600, True), (3600, True)]
)
def test_is_idle_after_the_idle_period(elapsed: float, idle: bool) -> None:
    session = session_of(piece("1", T0, "a"), wall=1000.0)
    assert is_idle(session, 1000.0 + elapsed, 600) is idle


def test_a_session_describing_an_emergency_closes_after_a_short_quiet_spell() -> None:
    # a call for help over WeChat must not wait the 10-minute idle period for its transfer
    calm = session_of(piece("1", T0, "你好"), piece("2", T0 + 5, "小区门口的路灯坏了"))
    assert not calm.emergency and idle_period(calm, settings()) == 600
    # the danger may come in a later message, or across two: the flag is set then, and kept
    urgent = session_of(piece("1", T0, "你好"), piece("2", T0 + 5, "家里煤气漏气了"))
    assert urgent.emergency and idle_period(urgent, settings()) == 30
    split = session_of(piece("1", T0, "救命"), piece("2", T0 + 3, "隔壁着火了"))
    assert split.emergency
    later, _ = add_piece(urgent, piece("3", T0 + 20, "地址是A3区杜鹃路5号"), 1010.0, WINDOW)
    assert later.emergency and is_idle(later, 1040.0, idle_period(later, settings()))
    # never longer than the idle period itself
    assert idle_period(urgent, settings(wechat_idle_flush_s=10)) == 10


# --- close ------------------------------------------------------------------------------


def test_close_joins_texts_in_order_into_one_appeal() -> None:
    session = session_of(
        piece("m2", T0 + 40, "A3区杜鹃路的路灯坏了三个月。"),
        piece("m1", T0, "你好，我要反映问题"),
        piece("m3", T0 + 80, "晚上出行很不安全，请尽快修复。"),
    )
    n = close(session, NOW, settings())
    a = n.appeal
    assert (
        a.content
        == "你好，我要反映问题\nA3区杜鹃路的路灯坏了三个月。\n晚上出行很不安全，请尽快修复。"
    )
    # the opening greeting says nothing: the title is the first message with the appeal
    assert a.title == "A3区杜鹃路的路灯坏了三个月。"
    assert a.appeal_type == "求助"
    assert a.channel == "wechat"
    assert a.source_id == "m1"
    assert a.appeal_id == appeal_id("wechat", "m1")
    assert a.received_at == NOW - timedelta(hours=1)
    assert a.received_at.isoformat().endswith("+08:00")
    assert a.contact_ref == REF
    assert a.raw == RAW
    assert a.ingested_at == NOW


def test_a_session_of_greetings_only_keeps_the_first_as_its_title() -> None:
    a = close(session_of(piece("1", T0, "你好"), piece("2", T0 + 5, "在吗？")), NOW, settings())
    assert a.appeal.title == "你好"


def test_title_is_the_first_text_cut_to_30_characters() -> None:
    first = "我" * 40
    a = close(session_of(piece("1", T0, first)), NOW, settings()).appeal
    assert a.title == "我" * 30


def test_location_label_becomes_the_address_and_the_district() -> None:
    session = session_of(
        piece("1", T0, "小区门口垃圾堆了一个星期没人清理"),
        piece(
            "2", T0 + 40, msg_type="location", label="A市A5区朝晖路", latitude=28.1, longitude=112.9
        ),
    )
    a = close(session, NOW, settings()).appeal
    assert a.address == "A市A5区朝晖路"
    assert a.district == "A市A5区"
    assert a.content == "小区门口垃圾堆了一个星期没人清理"


def test_last_location_wins() -> None:
    session = session_of(
        piece("1", T0, "路灯坏了"),
        piece("2", T0 + 10, msg_type="location", label="A市A3区"),
        piece("3", T0 + 20, msg_type="location", label="A市A6区"),
    )
    assert close(session, NOW, settings()).appeal.address == "A市A6区"


def test_images_become_attachments() -> None:
    session = session_of(
        piece("1", T0, "井盖丢了"),
        piece("2", T0 + 5, media_id="media-a"),
        piece("3", T0 + 6, media_id="media-b"),
    )
    assert close(session, NOW, settings()).appeal.attachments == ["media-a", "media-b"]


def test_videos_and_unrecognised_voice_become_attachments_from_the_xml() -> None:
    s = settings()
    pieces = [
        wechat.to_piece(wechat.parse(xml), RAW, NOW, s)[0]
        for xml in (
            wx_xml(CreateTime=T0, MsgId="1", Content="有人往河里倒垃圾"),
            wx_xml(CreateTime=T0 + 5, MsgId="2", MsgType="shortvideo", Content=None, MediaId="v-1"),
            wx_xml(CreateTime=T0 + 9, MsgId="3", MsgType="voice", Content=None, MediaId="rec-1"),
        )
    ]
    appeal = close(session_of(*pieces), NOW, s).appeal
    assert appeal.content == "有人往河里倒垃圾"
    assert appeal.attachments == ["v-1", "rec-1"]


def test_session_with_only_an_image_is_empty_content() -> None:
    with pytest.raises(IntakeError) as err:
        close(session_of(piece("1", T0, media_id="media-a")), NOW, settings())
    assert err.value.code is ErrorCode.EMPTY_CONTENT


def test_session_with_only_a_location_is_empty_content() -> None:
    session = session_of(piece("1", T0, msg_type="location", label="A市A3区"))
    with pytest.raises(IntakeError) as err:
        close(session, NOW, settings())
    assert err.value.code is ErrorCode.EMPTY_CONTENT


def test_appeal_type_is_inferred_from_the_texts() -> None:
    session = session_of(piece("1", T0, "你好"), piece("2", T0 + 5, "我要投诉楼下餐馆油烟"))
    assert close(session, NOW, settings()).appeal.appeal_type == "投诉"


def test_close_masks_text_that_was_not_masked_yet() -> None:
    a = close(session_of(piece("1", T0, "请回电13812345678")), NOW, settings()).appeal
    assert a.title == a.content == "请回电138****5678"


def test_a_name_split_across_two_messages_is_masked_in_the_appeal() -> None:
    session = session_of(piece("1", T0, "我叫"), piece("2", T0 + 5, "张三丰，小区门口垃圾没人清理"))
    a = close(session, NOW, settings()).appeal
    assert "三丰" not in a.content
    assert a.content == "我叫\n张**，小区门口垃圾没人清理"


def test_oversized_joined_content() -> None:
    session = session_of(piece("1", T0, "长" * 60), piece("2", T0 + 5, "长" * 60))
    with pytest.raises(IntakeError) as err:
        close(session, NOW, settings(max_content_chars=100))
    assert err.value.code is ErrorCode.OVERSIZED


def test_from_xml_to_appeal_keeps_openid_and_numbers_out_of_the_appeal() -> None:
    s = settings()
    messages = [
        wx_xml(CreateTime=T0 + 40, MsgId="2", Content="A3区某餐馆油烟扰民，电话13812345678"),
        wx_xml(CreateTime=T0, MsgId="1", Content="你好，我要投诉"),
        wx_xml(
            CreateTime=T0 + 40, MsgId="2", Content="A3区某餐馆油烟扰民，电话13812345678"
        ),  # retry
        wx_xml(
            CreateTime=T0 + 60,
            MsgId="3",
            MsgType="location",
            Content=None,
            Location_X=28.19,
            Location_Y=112.97,
            Label="A市A3区",
        ),
        wx_xml(
            CreateTime=T0 + 70,
            MsgId="4",
            MsgType="voice",
            Content=None,
            MediaId="v1",
            Recognition="已经持续半年了",
        ),
    ]
    session = None
    contacts = []
    for i, data in enumerate(messages):
        p, contact = wechat.to_piece(wechat.parse(data), RAW, NOW, s)
        contacts.append(contact)
        session, closed = add_piece(session, p, 1000.0 + i, s.wechat_window_s)
        assert closed is None
    assert session is not None and [p.msg_id for p in session.pieces] == ["1", "2", "3", "4"]
    assert all(c.identity == OPENID for c in contacts)
    n = close(session, NOW, s)
    a = n.appeal
    assert a.content == "你好，我要投诉\nA3区某餐馆油烟扰民，电话138****5678\n已经持续半年了"
    assert a.address == "A市A3区"
    assert a.district == "A市A3区"
    assert a.appeal_type == "投诉"
    assert a.attachments == ["v1"]
    text = json_text(a.dumps())
    assert OPENID not in text
    assert "13812345678" not in text
    assert a.contact_ref == contact_ref(s.contact_secret, "wechat", OPENID)


def test_a_session_whose_media_ids_make_it_too_large_to_publish_is_oversized() -> None:
    # no text limit bounds the media ids a session keeps as attachments
    images = [piece(str(i), T0 + i, media_id=f"m{i}-" + "x" * 25_000) for i in range(1, 40)]
    with pytest.raises(IntakeError) as err:
        close(session_of(piece("0", T0, "楼道堆满杂物"), *images), NOW, settings())
    assert err.value.code is ErrorCode.OVERSIZED
    assert "attachments" in err.value.reason


@pytest.mark.parametrize(
    ("first", "second", "content"),
    [
        ("我的QQ号", "12345678", "我的QQ号\n****5678"),
        ("身份证号", "430102198501011235", "身份证号\n430***********1235"),
        ("我的电话是138", "1234 5678，小区路灯不亮", "我的电话是138\n**** 5678，小区路灯不亮"),
    ],
)
def test_a_number_sent_in_the_message_after_its_cue_is_masked_in_the_appeal(
    first: str, second: str, content: str
) -> None:
    session = session_of(piece("1", T0, first), piece("2", T0 + 5, second))
    a = close(session, NOW, settings()).appeal
    assert a.content == content
