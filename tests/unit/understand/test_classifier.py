import pytest

from understand.dataset import CATEGORIES

BAD_INPUTS = [
    ("", ""),
    (None, None),
    ("😀😀😀", "👍👍🔥🔥"),
    ("12345", "0000-00000000 !!! ??? ..."),
    ("Hello", "This is an English message with no Chinese at all."),
    ("!!!", "。。。，，，"),
]


def test_batch_preserves_order_and_length(tiny_model, small_rows):
    rows = small_rows[::40]  # one per category
    results = tiny_model.classify_batch([(r.subject, r.detail) for r in rows], threshold=0.0)
    assert len(results) == len(rows)
    # The model was trained on these rows: it must get (nearly) all of them right.
    right = sum(res.category == r.label for res, r in zip(results, rows, strict=True))
    assert right >= len(rows) - 1


def test_alternatives_are_top3_sorted_probabilities(tiny_model):
    res = tiny_model.classify("小区物业乱收费", "物业公司每月多收物业费,业主很不满")
    assert len(res.alternatives) == 3
    probs = [p for _, p in res.alternatives]
    assert probs == sorted(probs, reverse=True)
    assert 0.0 <= sum(probs) <= 1.0001
    assert res.alternatives[0] == (res.category, res.confidence)
    assert all(c in CATEGORIES for c, _ in res.alternatives)


@pytest.mark.parametrize("title,content", BAD_INPUTS)
def test_unusable_text_goes_to_review_with_zero_confidence(tiny_model, title, content):
    res = tiny_model.classify(title, content, threshold=0.6)
    assert res.needs_review
    assert res.review_reason == "no_chinese_text"
    assert res.confidence == 0.0
    assert res.category in CATEGORIES
    assert res.subcategory is None


@pytest.mark.parametrize("title,content", [("你好", "请问一下。"), ("您好", "谢谢！")])
def test_greetings_without_content_words_go_to_review_even_when_confident(
    tiny_model, title, content
):
    res = tiny_model.classify(title, content, threshold=0.0)  # any confidence would pass
    assert res.needs_review
    assert res.review_reason == "no_content_words"


def test_extremely_long_text_is_classified(tiny_model):
    res = tiny_model.classify("拖欠工资", "公司拖欠农民工工资三个月。" * 50_000)
    assert res.category == "劳动和社会保障"


def test_traditional_text_gets_the_same_result_as_simplified(tiny_model):
    simplified = tiny_model.classify("学校乱收费", "孩子所在的学校要求家长交补课费和资料费")
    traditional = tiny_model.classify("學校亂收費", "孩子所在的學校要求家長交補課費和資料費")
    assert traditional.category == simplified.category == "教育文体"
    assert traditional.confidence == pytest.approx(simplified.confidence, abs=1e-6)


def test_threshold_decides_review(tiny_model):
    item = [("小区物业乱收费", "物业公司每月多收物业费")]
    assert not tiny_model.classify_batch(item, threshold=0.0)[0].needs_review
    low = tiny_model.classify_batch(item, threshold=1.01)[0]
    assert low.needs_review and low.review_reason == "low_confidence"


def test_result_carries_tokens_subcategory_and_emergency(tiny_model):
    res = tiny_model.classify("物业不作为", "小区物业公司乱收物业费,还不管卫生", threshold=0.0)
    assert "物业费" in res.tokens
    if res.category == "城乡建设":
        assert (res.subcategory, res.topic) == ("住房保障与房地产", "物业服务")
    assert res.emergency is None
    fire = tiny_model.classify("着火了", "我家楼下着火了,火很大,快来人")
    assert fire.emergency is not None and fire.emergency.service == "119"


def test_empty_batch(tiny_model):
    assert tiny_model.classify_batch([]) == []
