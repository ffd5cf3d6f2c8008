"""Second- and third-level categories (二级/三级标签) by keyword match against the taxonomy.

The labelled data has first-level labels only, so the finer levels come from words: the
level-3 names of ``label_taxonomy.csv`` (e.g. 噪音污染 → 噪音) plus a curated word list
(``data/subcategory_keywords.toml``). Within the predicted first-level category the
level-3 with the most (length-weighted) matched words wins, if it clearly wins.
"""

from __future__ import annotations

import csv
import re
import tomllib
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
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


@cache
def level2_by_category() -> dict[str, tuple[str, ...]]:
    """``{level1: second-level categories (二级标签)}`` of the taxonomy, in its order."""
    data = resources.files("understand.data")
    found: dict[str, dict[str, None]] = defaultdict(dict)
    with data.joinpath("label_taxonomy.csv").open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            found[row["level1"]][row["level2"]] = None
    return {level1: tuple(names) for level1, names in found.items()}


def level2_names(category: str) -> tuple[str, ...]:
    """The second-level categories of first-level ``category`` (empty if unknown)."""
    return level2_by_category().get(category, ())


@dataclass(frozen=True)
class _CategoryIndex:
    """Inverted index of one first-level category's keywords."""

    entries: dict[str, list[tuple[str, str]]]  # keyword -> (level2, level3) it counts for
    words: frozenset[str]  # all keywords (matched as jieba tokens)
    by_char: dict[str, tuple[str, ...]]  # 3+-char keywords by their first character
    long_words: re.Pattern[str] | None  # alternation of the 3+-char keywords, longest first


@cache
def _category_index(category: str) -> _CategoryIndex | None:
    subs = keyword_index().get(category)
    if not subs:
        return None
    entries: dict[str, list[tuple[str, str]]] = defaultdict(list)
    by_char: dict[str, set[str]] = defaultdict(set)
    for key, words in subs.items():
        for w in words:
            entries[w].append(key)
            if len(w) >= 3:
                by_char[w[0]].add(w)
    long_words = sorted({w for ws in by_char.values() for w in ws}, key=lambda w: (-len(w), w))
    pattern = re.compile("|".join(map(re.escape, long_words))) if long_words else None
    return _CategoryIndex(
        dict(entries), frozenset(entries), {c: tuple(ws) for c, ws in by_char.items()}, pattern
    )


def match_subcategory(
    category: str, text: str, tokens: Sequence[str] = ()
) -> tuple[str | None, str | None]:
    """``(level2, level3)`` of ``text`` within first-level ``category``, or ``(None, None)``.

    A keyword counts when it is a jieba token of the text or (for words of 3+ characters)
    a substring of it. Returns ``(level2, None)`` when the level-2 is clear but two level-3
    categories under it tie.
    """
    index = _category_index(category)
    if index is None:
        return None, None
    matched = set(index.words.intersection(tokens))
    if index.long_words is not None:
        # Non-overlapping matches, then every keyword starting inside each match: this
        # finds exactly the keywords that are substrings of the text, overlaps included.
        by_char = index.by_char
        for m in index.long_words.finditer(text):
            for p in range(m.start(), m.end()):
                for w in by_char.get(text[p], ()):
                    if text.startswith(w, p):
                        matched.add(w)
    if not matched:
        return None, None
    totals: dict[tuple[str, str], int] = defaultdict(int)
    for w in matched:
        for key in index.entries[w]:
            totals[key] += len(w)
    return choose_subcategory(sorted(((n, l2, l3) for (l2, l3), n in totals.items()), reverse=True))


def choose_subcategory(scores: list[tuple[int, str, str]]) -> tuple[str | None, str | None]:
    """Pick (level2, level3) from ``(score, level2, level3)`` sorted best first.

    None when the best is weak or a different level 2 comes too close; level 3 only when
    it alone holds the best score within its level 2.
    """
    if not scores:
        return None, None
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
