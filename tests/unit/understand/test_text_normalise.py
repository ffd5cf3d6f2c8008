from understand.text_normalise import cjk_count, normalise, prepare_text, split_joined


def test_traditional_characters_become_simplified():
    assert normalise("市民反映噪音擾民，請盡快處理") == "市民反映噪音扰民,请尽快处理"


def test_full_width_letters_and_digits_become_ascii():
    assert normalise("ＡＢＣ１２３") == "ABC123"


def test_excel_carriage_returns_and_runs_of_spaces_collapse():
    assert normalise("您好!_x000D_ \n\n 小区停水") == "您好! 小区停水"


def test_long_text_is_truncated_to_the_head():
    text = "物业" * 10_000
    out = normalise(text, max_chars=500)
    assert len(out) == 500
    assert out.startswith("物业物业")


def test_empty_and_none():
    assert normalise(None) == ""
    assert normalise("") == ""
    assert prepare_text(None, None) == ("", "")


def test_joined_subject_ends_at_first_clause():
    subject, body = split_joined("小区物业乱收费,我们是业主,物业每月多收钱")
    assert subject == "小区物业乱收费"
    assert body.startswith("小区物业乱收费")


def test_joined_subject_is_capped_without_punctuation():
    subject, _ = split_joined("甲" * 100, max_subject=40)
    assert len(subject) == 40


def test_prepare_text_puts_subject_first_in_body():
    subject, body = prepare_text("噪音扰民", "楼下KTV每晚唱到凌晨")
    assert subject == "噪音扰民"
    assert body == "噪音扰民。楼下KTV每晚唱到凌晨"


def test_cjk_count_ignores_emoji_digits_and_latin():
    assert cjk_count("😀😀 12345 hello !!!") == 0
    assert cjk_count("停水了 ok") == 3


def test_fast_nfkc_equals_unicodedata_on_random_and_tricky_strings():
    import random
    import unicodedata

    from understand.text_normalise import nfkc

    rng = random.Random(0)
    pool = (
        [chr(c) for c in range(0x20, 0x3400) if not 0xD800 <= c < 0xE000]
        + list("，。！？：；（）　ＡＢ１２ｅé\u0301\u0308\u1100\u1161\u11a8가각㎡①…😀") * 20
        + [chr(c) for c in range(0xF900, 0xFB00)]
        + [chr(c) for c in range(0xFE00, 0xFFF0)]
    )
    for _ in range(20000):
        text = "".join(rng.choice(pool) for _ in range(rng.randint(1, 10)))
        assert nfkc(text) == unicodedata.normalize("NFKC", text), repr(text)
    for text in ["ｅ\u0301", "가\u11a8", "ᄐￌ", "A市，（一）１２３㎡！！", "e\u0301\u0308"]:
        assert nfkc(text) == unicodedata.normalize("NFKC", text), repr(text)


def test_variation_selectors_do_not_split_words():
    """An emoji-style selector typed inside 噪音 split it for jieba: the appeal lost its
    words and went to review at a third of its confidence."""
    from understand.text_normalise import normalise

    assert normalise("楼下噪\ufe0f音扰民\U000e0100，物业不管") == normalise(
        "楼下噪音扰民，物业不管"
    )
    assert normalise("👍\ufe0f") == "👍"
