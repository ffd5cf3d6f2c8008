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
    # Text with no domain words: our tokens equal plain jieba's.
    import jieba

    text = "今天天气很好我们去公园散步"
    assert segment.cut(text) == jieba.lcut(text)
