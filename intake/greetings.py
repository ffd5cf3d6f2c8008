"""Messages that only greet or announce an appeal ("你好", "在吗？", "我想反映一个问题").

WeChat users often open with such a message before the appeal itself. Made the appeal's
title, it carries nothing: the router weighs title words most, and the classifier reads
the title again. Measured on the held-out half of replies.csv (each appeal as WeChat
text opening with 你好): lead department kind 0.577 with 你好 as the title, 0.652 with the
first 30 characters of the appeal itself.
"""

from __future__ import annotations

import re

#: One greeting or announcement; a message made only of these (and punctuation, spaces,
#: emoji) says nothing about the appeal.
_GREETING = (
    r"你们?好|您好|大家好|hi|hello|哈喽|嗨|喂|在吗|在不在|有人吗|有人在吗|请问|打扰了?|"
    r"打扰一下|麻烦(你|您)?(问)?一下|(领导|工作人员|同志|老师|客服)(们)?(好|您好|你好)?|"
    r"早上好|上午好|下午好|晚上好|谢谢|"
    r"我(想|要)?(想要)?(反映|咨询|投诉|举报|问|求助|建议)(一下)?(一个|个|一件|件|点)?(问题|事情?|情况)?|"
    r"我有(一个|个|一件|件)?(问题|事情?|情况)(想|要)?(反映|咨询|投诉|举报|问)?(一下)?"
)
_ONLY_GREETINGS = re.compile(rf"(?:(?:{_GREETING})|[\s\W_])*", re.IGNORECASE)


#: A message longer than this is more than a greeting (and the regex's work stays small).
MAX_GREETING_CHARS = 40


def is_greeting_only(text: str) -> bool:
    """Whether ``text`` holds nothing but greetings, announcements and punctuation."""
    return len(text) <= MAX_GREETING_CHARS and _ONLY_GREETINGS.fullmatch(text) is not None


def subject_line(messages: list[str], length: int = 30) -> str:
    """A title for an appeal sent as several messages: the start of the first message that
    is more than a greeting (of the first message when all are greetings)."""
    for text in messages:
        if not is_greeting_only(text):
            return text[:length]
    return messages[0][:length] if messages else ""
