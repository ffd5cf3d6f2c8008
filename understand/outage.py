"""Spotting appeals that report a cut in water, power, gas or heating (停水停电停气停暖).

Such a case gets the outage time limits (24 hours, ``sla/data/policies.toml``) only when the
text reports the cut: the category alone (自来水供应, 电力供应, 燃气供应, 冬季采暖) also holds
questions and proposals (A市可以实现集中供暖吗？, 水费阶梯价格怎么算), which keep the general
limits. The tag is set on the assignment (:data:`OUTAGE_TAG`); a policy rule reads it.
"""

from __future__ import annotations

import re

from understand.text_normalise import to_simplified

#: The assignment tag an outage report gets (a rule in ``policies.toml`` reads it).
OUTAGE_TAG = "outage"

_SUPPLY = r"(?:供水|供电|供气|供暖|送水|送电|送气|送暖)"
_UTILITY = r"(?:自来水|水|天然气|燃气|煤气|暖气)"
#: How citizens and agents write a cut: 停水, 断电, 停止供暖, 暖气不热, 没水用, 无水可用,
#: 没有电用, 一直没有暖气, 水龙头不出水. Not 挂断电话, 车子没电了 (a battery), 停车, 缺水 (a drought).
_OUTAGE = re.compile(
    # every branch's first character, tried first: scanning for a set is 3x faster
    r"(?=[停断暂中不暖供没无来水])(?:"
    r"停(?:水|电|气|暖)|断水|断电(?!话)|(?:停止|暂停|中断|不再)" + _SUPPLY + r"|停供|断供"
    r"|不(?:供暖|供水|供电|通水|通电)|暖气片?(?:不热|不暖|冰冷|冰凉|不通)|供暖不热"
    r"|(?:没|无)有?" + _UTILITY + r"(?:用|可用|了|烧|喝)|(?:没|无)有?电(?:用|可用)"
    r"|(?:没|无)有?(?:暖气|供暖)(?![设费片管])"
    r"|不出水|来水时断时续|水压(?:过|太|极)低)"
)
#: The part of the text read: a cut is reported up front.
_HEAD = 300


def reports_outage(title: str, content: str) -> bool:
    """Whether the appeal reports a cut in water, power, gas or heating supply (written in
    simplified or traditional characters: 停電, 暖氣不熱 read as 停电, 暖气不热)."""
    if _OUTAGE.search(to_simplified(title)) is not None:
        return True
    return _OUTAGE.search(to_simplified(content[:_HEAD])) is not None
