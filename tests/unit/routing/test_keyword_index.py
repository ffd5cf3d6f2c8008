"""KeywordIndex finds exactly the keywords a brute-force substring test finds."""

from __future__ import annotations

import random

from routing.catalogue import load_catalogue
from routing.keyword_index import KeywordIndex
from samples.appeal_rows import read_rows


def _brute(words, text):
    return {w for w in words if w and w in text}


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
