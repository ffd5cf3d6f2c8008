from understand.segment import tokenize
from understand.taxonomy import keyword_index, match_subcategory


def _match(category, text):
    return match_subcategory(category, text, tokenize(text))


def test_property_management_complaint():
    assert _match("城乡建设", "小区物业公司不作为,物业费却年年涨") == (
        "住房保障与房地产",
        "物业服务",
    )


def test_noise_complaint():
    assert _match("环境保护", "楼下广场舞噪音扰民到深夜") == ("环境污染", "噪音污染")


def test_wage_arrears():
    assert _match("劳动和社会保障", "公司拖欠工资半年,农民工讨薪无门")[0] in {
        "工资福利",
        "劳动关系",
    }


def test_nothing_confident_returns_none():
    assert _match("城乡建设", "请问领导什么时候给个答复") == (None, None)


def test_unknown_category_returns_none():
    assert match_subcategory("不存在的类别", "物业", ["物业"]) == (None, None)


def test_index_covers_the_seven_categories_without_other():
    index = keyword_index()
    assert {
        "城乡建设",
        "环境保护",
        "交通运输",
        "教育文体",
        "劳动和社会保障",
        "商贸旅游",
        "卫生计生",
    } <= set(index)
    assert all(level3 != "其他" for subs in index.values() for _, level3 in subs)


def _brute_force(category, text, tokens):
    """The plain definition: every keyword of every sub-category checked one by one."""
    from understand.taxonomy import choose_subcategory

    subs = keyword_index().get(category)
    if not subs:
        return None, None
    token_set = set(tokens)
    scores = []
    for (level2, level3), words in subs.items():
        score = sum(len(w) for w in words if w in token_set or (len(w) >= 3 and w in text))
        if score:
            scores.append((score, level2, level3))
    # the brute-force scoring is the oracle; the choice among scores is shared
    return choose_subcategory(sorted(scores, reverse=True))


def test_indexed_matching_equals_brute_force(labelled):
    from understand.dataset import CATEGORIES
    from understand.text_normalise import prepare_text

    for row in labelled[:300]:
        _, text = prepare_text(row.subject, row.detail)
        tokens = tokenize(text[:300])
        for category in CATEGORIES:
            assert match_subcategory(category, text, tokens) == _brute_force(category, text, tokens)
