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


def test_heating_complaints_are_winter_heating_and_get_the_outage_time_limit():
    """暖气/供暖 were not keywords of 冬季采暖, and 小区 tied with 供暖: heating failures got
    no topic. The 24-hour outage policy now reads the text's outage tag, not the topic."""
    from config.sla import SlaSettings
    from sla.policies import load_policies
    from understand.outage import OUTAGE_TAG, reports_outage

    book = load_policies(SlaSettings().policy_file)
    for text in ("小区供暖不热", "暖气不热,家里只有十几度", "我们小区今年一直没有暖气"):
        level2, level3 = _match("城乡建设", text)
        assert (level2, level3) == ("城市建设和市政管理", "冬季采暖"), text
        assert reports_outage("", text), text
        path = f"城乡建设/{level2}/{level3}"
        assert book.select("投诉", path, tags=[OUTAGE_TAG]).key == "outage"


def test_an_outage_in_a_residential_compound_is_the_outage_not_the_compound():
    # 小区 (小区管理) used to tie with a bare 停水 / 停电: no topic, no outage policy
    assert _match("城乡建设", "小区停水,我们小区从昨天开始停水")[1] == "自来水供应"
    assert _match("城乡建设", "小区停电一天了")[1] == "电力供应"
    assert _match("城乡建设", "小区里停气了,没法做饭")[1] == "燃气供应"


def test_a_street_lamp_jieba_splits_oddly_is_still_public_facilities():
    # jieba cuts 路灯不亮 into 路 / 灯不亮, so the 2-character keyword 路灯 is no token of it
    assert _match("城乡建设", "路灯不亮") == ("城市建设和市政管理", "城市公共设施")


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
