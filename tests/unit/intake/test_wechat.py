"""WeChat push XML: parse, validate the message type, turn into a masked piece."""

from __future__ import annotations

from datetime import datetime

import pytest

from intake import wechat
from intake.errors import ErrorCode, IntakeError
from intake.identity import contact_ref
from tests.unit.intake._support import NOW, OPENID, RAW, SECRET, settings, wx_xml


def _parse_error(data: bytes) -> IntakeError:
    with pytest.raises(IntakeError) as err:
        wechat.parse(data)
    return err.value


def _piece(**fields):
    return wechat.to_piece(wechat.parse(wx_xml(**fields)), RAW, NOW, settings())


def _piece_error(**fields) -> IntakeError:
    with pytest.raises(IntakeError) as err:
        _piece(**fields)
    return err.value


# --- parse ------------------------------------------------------------------------------


def test_parse_text_message() -> None:
    msg = wechat.parse(wx_xml(Content="我要投诉", CreateTime=1735700000, MsgId="24001"))
    assert msg.to_user == "gh_12345hotline"
    assert msg.from_user == OPENID
    assert msg.msg_type == "text"
    assert msg.content == "我要投诉"
    assert msg.create_time == 1735700000 and isinstance(msg.create_time, int)
    assert msg.msg_id == "24001"


def test_parse_location_message_reads_coordinates_as_floats() -> None:
    msg = wechat.parse(
        wx_xml(
            MsgType="location",
            Content=None,
            Location_X=28.19,
            Location_Y=112.97,
            Scale=15,
            Label="A市A3区杜鹃路",
        )
    )
    assert msg.location_x == pytest.approx(28.19)
    assert msg.location_y == pytest.approx(112.97)
    assert msg.label == "A市A3区杜鹃路"


def test_parse_ignores_unknown_elements_and_trims_whitespace() -> None:
    data = (
        b"<xml>\n  <ToUserName><![CDATA[gh_1]]></ToUserName>\n  <FromUserName> o1 </FromUserName>\n"
        b"  <CreateTime> 1735700000 </CreateTime>\n  <MsgType>text</MsgType>\n"
        b"  <Content><![CDATA[  hi  ]]></Content>\n  <MsgId>1</MsgId>\n  <Encrypt>zzz</Encrypt>\n</xml>"
    )
    msg = wechat.parse(data)
    assert (msg.from_user, msg.create_time, msg.content) == ("o1", 1735700000, "hi")


def test_parse_gbk_declared_xml() -> None:
    xml = (
        '<?xml version="1.0" encoding="GBK"?><xml><ToUserName>gh</ToUserName>'
        "<FromUserName>o1</FromUserName><CreateTime>1735700000</CreateTime>"
        "<MsgType>text</MsgType><Content>一楼漏水</Content><MsgId>9</MsgId></xml>"
    )
    assert wechat.parse(xml.encode("gbk")).content == "一楼漏水"


@pytest.mark.parametrize("msg_type", ["link", "file", "event", "TEXT"])
def test_unknown_msg_type(msg_type: str) -> None:
    err = _parse_error(wx_xml(MsgType=msg_type))
    assert err.code is ErrorCode.UNKNOWN_MSG_TYPE


def test_real_event_push_without_msg_id_is_unknown_msg_type() -> None:
    data = (
        b"<xml><ToUserName><![CDATA[gh_12345hotline]]></ToUserName>"
        b"<FromUserName><![CDATA[o1]]></FromUserName><CreateTime>1735700000</CreateTime>"
        b"<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[subscribe]]></Event></xml>"
    )
    assert _parse_error(data).code is ErrorCode.UNKNOWN_MSG_TYPE


@pytest.mark.parametrize(
    "data",
    [
        b"<xml><MsgType>text</MsgType><Content>unclosed",
        b"<xml><a></b></xml>",
        b"not xml at all",
        b"",
        b"<xml></xml><xml></xml>",
        b'{"MsgType": "text"}',
    ],
)
def test_malformed_xml_is_bad_xml(data: bytes) -> None:
    assert _parse_error(data).code is ErrorCode.BAD_XML


@pytest.mark.parametrize("root", ["message", "XML", "Xml"])
def test_root_other_than_xml_is_bad_xml(root: str) -> None:
    data = (
        wx_xml().replace(b"<xml>", f"<{root}>".encode()).replace(b"</xml>", f"</{root}>".encode())
    )
    err = _parse_error(data)
    assert err.code is ErrorCode.BAD_XML
    assert root in err.reason


def test_entity_expansion_is_refused() -> None:
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">'
        + b"".join(
            f'<!ENTITY {c} "{("&" + p + ";") * 10}">'.encode()
            for p, c in zip("abcdefg", "bcdefgh", strict=True)
        )
        + b"]><xml><Content>&h;</Content></xml>"
    )
    assert _parse_error(bomb).code is ErrorCode.BAD_XML


@pytest.mark.parametrize(
    "missing", ["FromUserName", "ToUserName", "CreateTime", "MsgType", "MsgId"]
)
def test_missing_required_element_is_missing_field(missing: str) -> None:
    assert _parse_error(wx_xml(**{missing: None})).code is ErrorCode.MISSING_FIELD


@pytest.mark.parametrize("value", ["yesterday", "1.7e9"])
def test_non_numeric_create_time_is_wrong_type(value: str) -> None:
    assert _parse_error(wx_xml(CreateTime=value)).code is ErrorCode.WRONG_TYPE


# --- to_piece ---------------------------------------------------------------------------


def test_text_piece_is_masked_and_keyed_by_contact_ref() -> None:
    piece, contact = _piece(Content="我的电话13812345678，请回电", MsgId="24001")
    ref = contact_ref(SECRET, "wechat", OPENID)
    assert piece.contact_ref == ref == contact.ref
    assert piece.text == "我的电话138****5678，请回电"
    assert piece.msg_type == "text"
    assert piece.msg_id == "24001"
    assert piece.raw == RAW
    assert contact.identity == OPENID
    assert contact.channel == "wechat"
    assert contact.found_in_text == {"wx-msg:24001": [("mobile", "13812345678")]}


def test_piece_does_not_carry_the_openid() -> None:
    piece, _ = _piece()
    assert OPENID.encode() not in piece.dumps()


def test_create_time_is_kept_as_unix_seconds() -> None:
    piece, _ = _piece(CreateTime=1735700000)
    assert piece.create_time == 1735700000


def test_voice_with_recognition_uses_the_recognised_text() -> None:
    piece, _ = _piece(
        MsgType="voice", Content=None, MediaId="media-1", Recognition="我要举报，电话13912345678"
    )
    assert piece.text == "我要举报，电话139****5678"
    assert piece.msg_type == "voice"


@pytest.mark.parametrize("recognition", [None, "", "   "])
def test_voice_without_recognition_joins_as_a_recording(recognition: str | None) -> None:
    # speech recognition off (the account's setting) or nothing heard: the department can
    # still listen to it
    piece, _ = _piece(MsgType="voice", Content=None, MediaId="media-1", Recognition=recognition)
    assert piece.text is None and piece.media_id == "media-1"


def test_voice_with_nothing_at_all_is_empty_content() -> None:
    err = _piece_error(MsgType="voice", Content=None, MediaId=None, Recognition=None)
    assert err.code is ErrorCode.EMPTY_CONTENT


@pytest.mark.parametrize("msg_type", ["video", "shortvideo"])
def test_videos_join_as_attachments(msg_type: str) -> None:
    piece, _ = _piece(MsgType=msg_type, Content=None, MediaId="video-1")
    assert piece.text is None and piece.media_id == "video-1" and piece.msg_type == msg_type


@pytest.mark.parametrize("content", [None, "", "  \n "])
def test_text_without_content_is_empty_content(content: str | None) -> None:
    assert _piece_error(Content=content).code is ErrorCode.EMPTY_CONTENT


def test_location_piece_has_label_and_coordinates_but_no_text() -> None:
    piece, contact = _piece(
        MsgType="location", Content=None, Location_X=28.19, Location_Y=112.97, Label="A市A3区杜鹃路"
    )
    assert piece.text is None
    assert piece.label == "A市A3区杜鹃路"
    assert piece.latitude == pytest.approx(28.19)
    assert piece.longitude == pytest.approx(112.97)
    assert contact.identity == OPENID


def test_location_label_is_masked() -> None:
    piece, _ = _piece(
        MsgType="location",
        Content=None,
        Location_X=28.1,
        Location_Y=112.9,
        Label="某店 13812345678",
    )
    assert piece.label == "某店 138****5678"


def test_image_piece_keeps_the_media_id() -> None:
    piece, _ = _piece(
        MsgType="image", Content=None, PicUrl="http://mmbiz.example/x.jpg", MediaId="media-7"
    )
    assert piece.text is None
    assert piece.media_id == "media-7"


def test_oversized_text_message() -> None:
    msg = wechat.parse(wx_xml(Content="长" * 101))
    with pytest.raises(IntakeError) as err:
        wechat.to_piece(msg, RAW, NOW, settings(max_content_chars=100))
    assert err.value.code is ErrorCode.OVERSIZED
    ok, _ = wechat.to_piece(
        wechat.parse(wx_xml(Content="长" * 100)), RAW, NOW, settings(max_content_chars=100)
    )
    assert ok.text == "长" * 100


def test_future_create_time_is_future_timestamp() -> None:
    now_s = int(NOW.timestamp())
    assert _piece_error(CreateTime=now_s + 601).code is ErrorCode.FUTURE_TIMESTAMP
    piece, _ = _piece(CreateTime=now_s + 600)
    assert piece.create_time == now_s + 600


def test_create_time_before_2000_is_bad_timestamp() -> None:
    old = int(datetime(1999, 1, 1).timestamp())
    assert _piece_error(CreateTime=old).code is ErrorCode.BAD_TIMESTAMP
