"""Infer the appeal type (诉求类型) where a channel does not record it."""

from __future__ import annotations

from models.appeal import APPEAL_TYPES

# checked in order: a report (举报) or complaint is more specific than a question
_CUES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("举报", ("举报", "检举", "揭发")),
    ("投诉", ("投诉", "不满", "强烈要求", "严重影响", "扰民")),
    ("建议", ("建议", "希望能", "提议", "意见")),
    ("咨询", ("咨询", "请问", "询问", "是否", "能否", "可不可以", "如何", "怎么", "吗？", "吗?")),
)
#: Praise is read from the title alone (感谢A7县泉塘街道拆除废弃油烟排放管道), and not when
#: it also asks for something (为G2区政府点赞，请求…): in a text, thanks and 点赞 mostly
#: preface a request, and many a complaint ends "感谢！".
_PRAISE = ("表扬", "点赞", "锦旗", "感谢", "致谢")
_REQUEST = ("请", "希望", "要求", "但")


def infer_appeal_type(title: str, content: str) -> str:
    """Pick 举报/投诉/表扬/建议/咨询 from cue words in the title first, then the text; else
    求助."""
    for in_title, text in ((True, title), (False, content[:300])):
        for kind, cues in _CUES:
            if any(cue in text for cue in cues):
                return kind
        if in_title and any(c in text for c in _PRAISE) and not any(c in text for c in _REQUEST):
            return "表扬"
    return "求助"


#: Other names call-centre systems record for the same types.
_SYNONYMS = {
    "意见": "建议", "意见建议": "建议", "求援": "求助", "求救": "求助", "检举": "举报",
    "感谢": "表扬", "表彰": "表扬", "致谢": "表扬",
}  # fmt: skip
#: Recorded when the agent did not choose: the type is inferred from the text instead.
_UNCHOSEN = frozenset({"其他", "其它"})


def _bare(value: str) -> str:
    """A recorded type without spaces or the 类 some systems append (投诉类)."""
    return value.strip().removesuffix("类")


def normalise_appeal_type(value: str) -> str | None:
    """Accept a recorded type (咨询/求助/投诉/举报/建议/表扬 or a synonym such as 意见 or 感谢,
    optionally with 类); None if unknown."""
    value = _bare(value)
    value = _SYNONYMS.get(value, value)
    return value if value in APPEAL_TYPES else None


def recorded_appeal_type(value: str, title: str, content: str) -> str | None:
    """:func:`normalise_appeal_type`, or for 其他 (the agent did not choose) the type
    inferred from the text; None if unknown."""
    if _bare(value) in _UNCHOSEN:
        return infer_appeal_type(title, content)
    return normalise_appeal_type(value)
