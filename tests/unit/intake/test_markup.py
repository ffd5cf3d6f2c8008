"""Web-form markup (HTML tags, entities) in appeal text becomes plain text before masking."""

from __future__ import annotations

import time

import pytest

from intake import mailbox
from intake.markup import plain_text
from tests.unit.intake._support import NOW, RAW, mailbox_bytes, settings


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("<p>小区路灯坏了</p><p>已经一个月</p>", "小区路灯坏了\n已经一个月\n"),
        ("路灯坏了<br>没人修<BR/>请处理", "路灯坏了\n没人修\n请处理"),
        (
            '<p style="text-indent:2em"><span style="font-size:14px">噪音扰民</span></p>',
            "噪音扰民\n",
        ),
        ("他说&ldquo;不管&rdquo;&#65292;谢谢&#x3001;", "他说“不管”，谢谢、"),
        ("小区&nbsp;&nbsp;停水", "小区  停水"),
        ("<style>p{color:red}</style>投诉<script>alert(1)</script>", "投诉"),
        ("<p>第一段</p><p>&nbsp;</p><p>&nbsp;</p><p>第二段</p>", "第一段\n\n第二段\n"),
    ],
)
def test_editor_markup_becomes_plain_text(text: str, expected: str) -> None:
    assert plain_text(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("<style>a</style>保留<STYLE>b</ style >", "保留"),  # the first closing tag ends it
        ("<style>没有结束标签", "没有结束标签"),  # no block: only the tag goes
        ("<style>x<script>y</style>z</script>尾", "z尾"),  # the script opened inside is gone
        ("<script>x<style>y</script>z</style>尾", "z尾"),
        ("<style>甲<style>乙</style>丙", "丙"),
    ],
)
def test_style_and_script_blocks_end_at_their_first_closing_tag(text: str, expected: str) -> None:
    assert plain_text(text) == expected


@pytest.mark.parametrize(
    "unit", ["<style>", "<script>", "<p> ", " &nbsp;", "<br>" + " " * 50, "<style>&nbsp;"]
)
def test_a_megabyte_of_markup_without_closing_tags_or_line_breaks_is_read_once(unit: str) -> None:
    # a record near Kafka's 1 MB limit: regular expressions that scanned to the end from
    # every opening tag or space took minutes; a guard with a wide margin, not a benchmark
    text = unit * (1_000_000 // len(unit)) + "x"
    started = time.perf_counter()
    out = plain_text(text)
    assert time.perf_counter() - started < 5.0
    assert out.endswith("x") and "\n\n\n" not in out


@pytest.mark.parametrize(
    "text",
    [
        "温度<0度，暖气不热",
        "<<物业管理条例>>第几条",
        "A&B公司拖欠工资",
        "R&D部门&其他",
        "收费>100元<200元",
        "普通的投诉",
    ],
)
def test_text_that_only_looks_like_markup_is_left_alone(text: str) -> None:
    assert plain_text(text) is text


def test_a_mailbox_appeal_in_html_reaches_the_stream_as_masked_plain_text() -> None:
    record = mailbox.parse(
        mailbox_bytes(
            subject="<b>A3区</b>路灯坏了",
            detail="<p>小区路灯坏了一个月&nbsp;</p><p>电话138&nbsp;1234&nbsp;5678</p>",
        )
    )
    a = mailbox.normalise(record, RAW, NOW, settings()).appeal
    assert a.title == "A3区路灯坏了"
    assert a.content == "小区路灯坏了一个月\n电话138 **** 5678"
    assert a.district == "A市A3区"
