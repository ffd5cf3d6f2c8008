"""Second- and third-level categories (二级/三级标签) by keyword match against the taxonomy.

The labelled data has first-level labels only, so the finer levels come from words: the
level-3 names of ``label_taxonomy.csv`` (e.g. 噪音污染 → 噪音) plus a curated word list
(``data/subcategory_keywords.toml``). Within the predicted first-level category the
level-3 with the most (length-weighted) matched words wins, if it clearly wins.
"""

from __future__ import annotations

import csv
import tomllib
from collections import defaultdict
from collections.abc import Sequence
from functools import lru_cache
from importlib import resources

#: Words too generic to point to one sub-category on their own.
_GENERIC = frozenset(
    [
        "其他",
        "管理",
        "问题",
        "服务",
        "政策",
        "市场",
        "建设",
        "发展",
        "标准",
        "监管",
        "事业",
        "工作",
        "机构",
        "人员",
        "行业",
        "规划",
        "设计",
        "方案",
        "处理",
        "资格",
        "企业",
        "公共",
        "城市",
        "设施",
        "基础",
        "其他污染",
        "保护",
        "待遇",
    ]
)
#: A winner needs at least this score (sum of matched word lengths, each word once).
MIN_SCORE = 2
#: ... and this much more than the runner-up in another level-2 category.
MIN_MARGIN = 1


@lru_cache(maxsize=1)
def keyword_index() -> dict[str, dict[tuple[str, str], frozenset[str]]]:
    """``{level1: {(level2, level3): keywords}}`` from the taxonomy and curated words."""
    from understand.segment import get_tokenizer

    data = resources.files("understand.data")
    index: dict[str, dict[tuple[str, str], set[str]]] = defaultdict(lambda: defaultdict(set))
    with data.joinpath("label_taxonomy.csv").open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            level1, level2, level3 = row["level1"], row["level2"], row["level3"]
            if level3 == "其他" or level2 == "其他":
                continue
            words = {level3} | set(get_tokenizer().lcut(level3, HMM=False))
            index[level1][(level2, level3)] |= {
                w for w in words if len(w) >= 2 and w not in _GENERIC
            }
    curated = tomllib.loads(data.joinpath("subcategory_keywords.toml").read_text("utf-8"))
    for key, words in curated.items():
        level1, level2, level3 = key.split("/")
        index[level1][(level2, level3)] |= set(words)
    return {l1: {k: frozenset(v) for k, v in subs.items()} for l1, subs in index.items()}


def match_subcategory(
    category: str, text: str, tokens: Sequence[str] = ()
) -> tuple[str | None, str | None]:
    """``(level2, level3)`` of ``text`` within first-level ``category``, or ``(None, None)``.

    A keyword counts when it is a jieba token of the text or (for words of 3+ characters)
    a substring of it. Returns ``(level2, None)`` when the level-2 is clear but two level-3
    categories under it tie.
    """
    subs = keyword_index().get(category)
    if not subs:
        return None, None
    token_set = set(tokens)
    scores: list[tuple[int, str, str]] = []
    for (level2, level3), words in subs.items():
        score = sum(len(w) for w in words if w in token_set or (len(w) >= 3 and w in text))
        if score:
            scores.append((score, level2, level3))
    if not scores:
        return None, None
    scores.sort(reverse=True)
    best, level2, level3 = scores[0]
    if best < MIN_SCORE:
        return None, None
    rivals = [s for s in scores[1:] if s[1] != level2]
    if rivals and best - rivals[0][0] < MIN_MARGIN:
        return None, None
    same_level2 = [s for s in scores[1:] if s[1] == level2]
    if same_level2 and same_level2[0][0] == best:
        return level2, None
    return level2, level3
