"""KeywordIndex finds exactly the keywords a brute-force substring test finds, except a
keyword with a digit at an end inside a longer number."""

from __future__ import annotations

import random
import re

from routing.catalogue import load_catalogue
from routing.keyword_index import KeywordIndex
from samples.appeal_rows import read_rows

GOES_ON = "[0-9]|千伏|伏|[kK][vV]|路|号|元|米|平|吨|栋|户|室|万|亿|国道|省道"


def _brute(words, text):
    return {
        w
        for w in words
        if w
        and w in text
        and (not re.search(r"^[0-9]|[0-9]$", w) or re.search(rf"(?<!\d){w}(?!{GOES_ON})", text))
    }


def test_same_keywords_as_brute_force_on_real_appeals():
    words = {w for rule in load_catalogue().rules for w in rule.keywords}
    index = KeywordIndex(words)
    rows = list(read_rows())
    assert len(rows) > 1000
    found_any = 0
    for row in rows:
        for text in (row.subject or "", (row.detail or "")[:300]):
            found = index.found_in(text)
            assert found == _brute(words, text), text
            found_any += bool(found)
    assert found_any > len(rows) // 2  # the keywords do occur: the test compares something


def test_overlapping_single_char_and_edge_cases():
    words = ["收费", "乱收费", "费", "噪音扰民", "噪音", "水", "A3区", "路灯不亮"]
    index = KeywordIndex(words)
    rng = random.Random(7)
    alphabet = "乱收费噪音扰民水A3区路灯不亮的了"
    for _ in range(3000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12)))
        assert index.found_in(text) == _brute(words, text), text
    assert index.found_in("") == set()
    assert index.found_in("乱收费") == {"乱收费", "收费", "费"}
    assert KeywordIndex([]).found_in("任何文字") == set()


def test_a_number_keyword_is_not_found_inside_a_longer_number():
    index = KeywordIndex(["110", "报警", "3号楼"])
    assert index.found_in("拨打110报警") == {"110", "报警"}
    assert index.found_in("110") == {"110"}
    for text in (
        "建110千伏变电站",
        "110kV线路",
        "罚款1100元",
        "2110号房",
        "电话01105",
        "坐110路公交",
    ):
        assert index.found_in(text) == set(), text
    assert index.found_in("13号楼，110没人接") == {"110"}  # one of two occurrences stands alone
    assert index.found_in("3号楼和23号楼") == {"3号楼"}
    assert index.found_in("23号楼") == set()
