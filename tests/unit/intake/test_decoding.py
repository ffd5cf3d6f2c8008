"""Raw bytes to text: UTF-8 first, GB18030/GBK for legacy systems, garbage rejected."""

from __future__ import annotations

import random

import pytest

from intake.decoding import decode
from intake.errors import ErrorCode, IntakeError

TEXT = "市民反映A市A3区杜鹃路路灯不亮，请尽快处理！"


def test_utf8_is_decoded() -> None:
    assert decode(TEXT.encode("utf-8")) == TEXT


def test_utf8_byte_order_mark_is_dropped() -> None:
    assert decode(b"\xef\xbb\xbf" + TEXT.encode("utf-8")) == TEXT


def test_empty_bytes_are_empty_text() -> None:
    assert decode(b"") == ""


@pytest.mark.parametrize("codec", ["gbk", "gb2312", "gb18030"])
def test_legacy_chinese_encodings_fall_back_to_gb18030(codec: str) -> None:
    data = TEXT.encode(codec)
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    assert decode(data) == TEXT


def test_gb18030_four_byte_characters_are_decoded() -> None:
    # U+20000 exists only in GB18030 (four bytes), not in GBK
    text = "反映𠀀字在系统里显示不全的问题，已经很久了，一直没有解决"
    assert decode(text.encode("gb18030")) == text


@pytest.mark.parametrize(
    "text",
    [
        '{"detail": "路灯坏了……"}',
        '{"subject": "“爱心卡”能坐地铁吗"}',
        "路灯坏了——已经三个月",
        "我叫王䶮，反映问题",  # 䶮 U+4DAE, CJK Extension A
    ],
)
def test_short_legacy_text_with_common_chinese_punctuation_is_decoded(text: str) -> None:
    assert decode(text.encode("gb18030")) == text


def test_legacy_json_record_is_decoded() -> None:
    data = '{"subject": "噪音扰民", "detail": "夜间施工"}'.encode("gbk")
    assert decode(data) == '{"subject": "噪音扰民", "detail": "夜间施工"}'


@pytest.mark.parametrize("declared", ["GBK", "gbk", "GB2312", "gb18030", "cp936"])
def test_xml_encoding_declaration_is_honoured(declared: str) -> None:
    # GBK bytes of 一 (D2 BB) are also valid UTF-8 (U+04BB), so only the declaration tells
    xml = f'<?xml version="1.0" encoding="{declared}"?><xml><Content>一</Content></xml>'
    data = xml.encode("gbk")
    assert data.decode("utf-8") != xml  # would be misread without the declaration
    assert decode(data) == xml


def test_xml_declaring_utf8_is_read_as_utf8() -> None:
    xml = '<?xml version="1.0" encoding="UTF-8"?><xml><Content>一</Content></xml>'
    assert decode(xml.encode("utf-8")) == xml


@pytest.mark.parametrize("declared", ["GBK", "gb2312"])
@pytest.mark.parametrize("content", ["小区噪音扰民", "停水", "A3区 路灯不亮，请处理！"])
def test_utf8_chinese_declared_gbk_is_read_as_utf8(declared: str, content: str) -> None:
    # a system re-encoded its XML and kept the old header: read as GB18030, the UTF-8
    # bytes give other characters without an error (小区 -> 灏忓尯)
    xml = f'<?xml version="1.0" encoding="{declared}"?><xml><Content>{content}</Content></xml>'
    data = xml.encode("utf-8")
    assert data.decode("gb18030", "replace") != xml
    assert decode(data) == xml


def test_declared_gbk_that_is_not_gbk_is_undecodable() -> None:
    data = b'<?xml version="1.0" encoding="GBK"?><xml>\xff\xff</xml>'
    with pytest.raises(IntakeError) as err:
        decode(data)
    assert err.value.code is ErrorCode.UNDECODABLE


@pytest.mark.parametrize(
    "data",
    [
        b"\xff\xfe\x00binary\x81\x82",
        b"\x81\x30\x81\x30" * 20,  # valid GB18030 (U+0080 controls) but not text
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)),
        *[random.Random(seed).randbytes(300) for seed in range(5)],
    ],
    ids=["bad-bytes", "gb18030-controls", "png", *[f"random{seed}" for seed in range(5)]],
)
def test_binary_is_undecodable(data: bytes) -> None:
    with pytest.raises(IntakeError) as err:
        decode(data)
    assert err.value.code is ErrorCode.UNDECODABLE
    assert err.value.code == "UNDECODABLE"
