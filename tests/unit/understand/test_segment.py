import pytest

from understand import segment


def test_domain_words_stay_whole():
    tokens = segment.cut("A3区小区物业公司乱收费,噪音扰民,公积金怎么提取")
    for word in ("A3区", "物业公司", "乱收费", "噪音扰民", "公积金"):
        assert word in tokens


def test_tokenize_drops_stop_words_punctuation_and_numbers():
    tokens = segment.tokenize("您好,我们的小区在2019年停水了!!!")
    assert "您好" not in tokens and "我们" not in tokens and "的" not in tokens
    assert "2019" not in tokens and "!" not in tokens
    assert "停水" in tokens or "小区" in tokens


def test_tokenizer_is_loaded_once():
    assert segment.get_tokenizer() is segment.get_tokenizer()


def test_reference_is_jieba_without_domain_words():
    # Text with no domain words: our tokens equal plain jieba's (dictionary path, no HMM).
    import jieba

    text = "今天天气很好我们去公园散步"
    assert segment.cut(text) == jieba.lcut(text, HMM=False)
    assert segment.cut(text, hmm=True) == jieba.lcut(text)


# Exact ties (equal route probabilities), mixed Latin/digits, spaces, CR LF, chars outside
# jieba's blocks: where a reimplementation would most likely drift.
TRICKY = [
    "我想掏心掏肺地说几句话",
    "市政道路维护实在是太太太差劲了",
    "A3区12345热线,5.1在A6区工地受伤;152.8亿元",
    "Hello world 2019年iPhone11 C++ a.b_c%d-e#f&g",
    "第一行\r\n第二行\t第三行  第四行",
    "㐀㐁字鿕鿖 ＡＢＣ 全角，标点。",
    "",
    "。",
    "a",
]


def _data_texts(limit: int = 500) -> list[str]:
    import csv

    from config.data import DATA_DIR

    path = DATA_DIR / "appeals_labelled.csv"
    if not path.is_file():
        return []
    with path.open(encoding="utf-8") as fh:
        return [r["subject"] + "。" + r["detail"] for r in csv.DictReader(fh)][:limit]


def test_fast_path_equals_jieba_on_tricky_and_real_texts():
    if not segment.accelerated():
        pytest.skip("jieba-fast-dat not installed: jieba itself runs")
    for text in TRICKY + _data_texts():
        reference = segment.cut_reference(text)
        assert segment.cut(text) == reference, text[:40]
        assert segment.tokenize(text) == segment.content_tokens(reference), text[:40]


def test_without_the_accelerator_jieba_runs(monkeypatch):
    monkeypatch.setattr(segment, "_fast", False)
    assert not segment.accelerated()
    for text in TRICKY:
        assert segment.cut(text) == segment.cut_reference(text)
        assert segment.tokenize(text) == segment.content_tokens(segment.cut_reference(text))
