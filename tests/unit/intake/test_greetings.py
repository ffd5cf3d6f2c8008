"""Greeting-only WeChat messages are not an appeal's title."""

from __future__ import annotations

import pytest

from intake.greetings import MAX_GREETING_CHARS, is_greeting_only, subject_line


@pytest.mark.parametrize(
    "text",
    ["你好", "您好！", "在吗？", "你好，在吗", "您好，我想反映一个问题", "领导好", "Hello!", "🙂",
     "打扰了，麻烦问一下", "我有个问题想咨询一下", "我要投诉", ""],
)  # fmt: skip
def test_greetings_and_announcements(text: str) -> None:
    assert is_greeting_only(text)


@pytest.mark.parametrize(
    "text",
    ["你好，小区停水了", "我想反映小区停水", "请问公积金怎么提取", "A3区路灯坏了", "12345",
     "你好" * (MAX_GREETING_CHARS // 2) + "停"],
)  # fmt: skip
def test_anything_more_is_not_a_greeting(text: str) -> None:
    assert not is_greeting_only(text)


def test_subject_line_skips_the_greetings() -> None:
    assert (
        subject_line(["你好", "在吗", "小区停水三天了，" + "很急" * 20])
        == ("小区停水三天了，" + "很急" * 20)[:30]
    )
    assert subject_line(["你好", "在吗"]) == "你好"
    assert subject_line([]) == ""
