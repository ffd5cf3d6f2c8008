"""Masking of personal numbers and e-mail addresses in free appeal text."""

from __future__ import annotations

import time

import pytest

from intake import pii
from tests.unit.intake._support import (
    id18_check,
    id18_ok,
    luhn,
    luhn_check_digit,
    make_card,
    make_id18,
)

_FOLD = str.maketrans("０１２３４５６７８９", "0123456789")


def assert_only_digits_starred(original: str, masked: str, expected_stars: int) -> None:
    """Same length, every other character identical, changed ones are digits turned '*'."""
    assert len(masked) == len(original)
    changed = [i for i, (a, b) in enumerate(zip(original, masked, strict=True)) if a != b]
    for i in changed:
        assert masked[i] == "*", f"position {i}: {original[i]!r} became {masked[i]!r}"
        assert original[i].translate(_FOLD).isdigit(), (
            f"non-digit {original[i]!r} at {i} was masked"
        )
    assert len(changed) == expected_stars


# --- generators used below are themselves right ---------------------------------------


def test_generated_numbers_match_published_examples() -> None:
    # GB 11643 example number and the classic Luhn example
    assert id18_check("11010519491231002") == "X"
    assert luhn("4111111111111111")
    assert luhn_check_digit("411111111111111") == "1"


# --- mobiles ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("13812345678", "138****5678"),
        ("我的手机13812345678，请回电", "我的手机138****5678，请回电"),
        ("电话：19912345678。", "电话：199****5678。"),
        ("+8613812345678", "+86138****5678"),
        ("8613812345678", "86138****5678"),
        ("+86 138-1234-5678", "+86 138-****-5678"),
        ("138-1234-5678", "138-****-5678"),
        ("138 1234 5678", "138 **** 5678"),
        ("手机１３８１２３４５６７８谢谢", "手机１３８****５６７８谢谢"),
        # after a phone cue, any grouping people type
        ("电话1381 234 5678", "电话138* *** 5678"),
        ("手机号：13812 345678", "手机号：138** **5678"),
        ("联系方式 138.1234.5678", "联系方式 138.****.5678"),
        ("请联系1381 234 5678", "请联系138* *** 5678"),
        ("Tel:1381-234-5678", "Tel:138*-***-5678"),
    ],
)
def test_mobile_numbers_are_masked_keeping_first_three_and_last_four(
    text: str, expected: str
) -> None:
    m = pii.mask(text)
    assert m.text == expected
    assert [kind for kind, _ in m.found] == ["mobile"]


def test_every_mobile_occurrence_is_masked_and_reported() -> None:
    text = "本人13812345678，家属15987654321，再说一遍13812345678。"
    m = pii.mask(text)
    assert m.text == "本人138****5678，家属159****4321，再说一遍138****5678。"
    assert m.found == [
        ("mobile", "13812345678"),
        ("mobile", "15987654321"),
        ("mobile", "13812345678"),
    ]


@pytest.mark.parametrize(
    "text",
    [
        "12812345678",  # 12x is not a mobile prefix
        "138123456789",  # 12 digits
        "1381234567",  # 10 digits
        "订单A13812345678",  # glued to letters: a code, not a phone
    ],
)
def test_mobile_lookalikes_are_not_masked(text: str) -> None:
    assert pii.mask(text).text == text


# --- landlines --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0731-88889999", "0731-****9999"),
        ("073188889999", "0731****9999"),
        ("(010)62345678", "(010)****5678"),
        ("010-62345678", "010-****5678"),
        ("(0731)8888999", "(0731)***8999"),
        ("020 87654321", "020 ****4321"),
        ("联系电话：0739-5123456", "联系电话：0739-***3456"),
        # the subscriber number split in two, as people write it
        ("座机0731 8888 9999", "座机0731 **** 9999"),
        ("(010)6234 5678", "(010)**** 5678"),
    ],
)
def test_landlines_with_area_code_are_masked(text: str, expected: str) -> None:
    m = pii.mask(text)
    assert m.text == expected
    assert [kind for kind, _ in m.found] == ["landline"]


def test_landline_with_extension_hides_the_subscriber_number() -> None:
    m = pii.mask("请拨打0731-88889999-123转人工")
    assert "88889999" not in m.text
    assert m.text.startswith("请拨打0731-") and m.text.endswith("-123转人工")


@pytest.mark.parametrize(
    "text",
    ["家里电话（0731）88889999", "座机０７３１－８８８８９９９９"],
)
def test_landline_with_full_width_punctuation_is_masked(text: str) -> None:
    m = pii.mask(text)
    assert "8888" not in m.text.translate(_FOLD)
    assert [kind for kind, _ in m.found] == ["landline"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("电话88889999", "电话****9999"),
        ("座机：88889999，白天有人", "座机：****9999，白天有人"),
        ("联系 6543210", "联系 ***3210"),
        ("请致电为23456789", "请致电为****6789"),
        ("电话：8456 7890", "电话：**** 7890"),
        ("座机8456.7890", "座机****.7890"),
    ],
)
def test_local_numbers_are_masked_only_after_a_phone_cue(text: str, expected: str) -> None:
    assert pii.mask(text).text == expected


@pytest.mark.parametrize(
    "text",
    [
        "罚款12345678元",
        "项目投资88889999元，至今未完工",
        "2019年4月25日",
        "小区共有23456789平方米",
        "5.1在A6区明发国际工地受伤",
        "共计1500 2000 3000元",  # grouped digits without a phone cue
        "面积138.5平方米，单价12000元",
    ],
)
def test_amounts_and_dates_are_not_masked(text: str) -> None:
    m = pii.mask(text)
    assert m.text == text
    assert m.found == []


# --- ID numbers -------------------------------------------------------------------------

_IDS = [
    make_id18("430102", "19850315", "123"),
    make_id18("110105", "19491231", "002"),  # check character X
    make_id18("430104", "20000229", "456"),  # leap day
    make_id18("440305", "19700101", "789"),
]


def test_generated_ids_cover_the_x_check_character() -> None:
    assert any(i.endswith("X") for i in _IDS)


@pytest.mark.parametrize("number", _IDS)
def test_valid_id18_accepts_numbers_with_computed_check_digit(number: str) -> None:
    assert pii.valid_id18(number)
    assert pii.valid_id18(number.lower())


@pytest.mark.parametrize("number", _IDS)
def test_valid_id18_rejects_a_wrong_check_digit(number: str) -> None:
    wrong = number[:17] + ("0" if number[17] != "0" else "1")
    assert not pii.valid_id18(wrong)


@pytest.mark.parametrize(
    "birth",
    ["19851332", "19850230", "18991231", "29990101", "20230229"],
)
def test_valid_id18_rejects_impossible_birth_dates_even_with_right_checksum(birth: str) -> None:
    assert not pii.valid_id18(make_id18("430102", birth, "123"))


@pytest.mark.parametrize("number", _IDS)
def test_id18_in_text_is_masked_keeping_three_and_four(number: str) -> None:
    text = f"身份证号{number}，请核实。"
    m = pii.mask(text)
    assert m.text == f"身份证号{number[:3]}{'*' * 11}{number[-4:]}，请核实。"
    assert m.found == [("id_card", number)]


def test_id18_with_lowercase_x_is_masked() -> None:
    number = make_id18("110105", "19491231", "002").lower()
    assert number.endswith("x")
    assert pii.mask(number).text == "110***********002x"


def test_full_width_id18_is_masked_and_stays_full_width() -> None:
    number = make_id18()
    wide = number.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    m = pii.mask(f"证件{wide}")
    assert m.text == f"证件{wide[:3]}{'*' * 11}{wide[-4:]}"


def _failing_both(body17: str) -> str:
    """``body17`` plus a last digit that fails both the ID checksum and Luhn."""
    for last in "0123456789":
        candidate = body17 + last
        if not id18_ok(candidate) and not luhn(candidate):
            return candidate
    raise AssertionError("no candidate")  # pragma: no cover


@pytest.mark.parametrize(
    "number",
    [
        _failing_both("20190425000012345"),  # an order number
        _failing_both(make_id18()[:17]),  # an ID with a wrong check digit
        _failing_both("43010219851332123"),  # no 13th month
    ],
)
def test_18_digit_numbers_failing_checks_are_not_masked(number: str) -> None:
    text = f"订单编号{number}已提交"
    m = pii.mask(text)
    assert m.text == text
    assert m.found == []


def test_18_digit_number_with_valid_checksum_but_impossible_date_is_not_an_id() -> None:
    number = make_id18("430102", "19851332", "123")
    assert id18_ok(number)
    assert not pii.valid_id18(number)


@pytest.mark.parametrize(
    ("number", "valid"),
    [
        ("430102850315123", True),
        ("110105491231002", True),
        ("430102851332123", False),  # month 13
        ("430102850230123", False),  # 30 February
        ("43010285031512", False),  # 14 digits
        ("43010285031512A", False),
    ],
)
def test_valid_id15_checks_the_19yy_birth_date(number: str, valid: bool) -> None:
    assert pii.valid_id15(number) is valid


def test_id15_in_text_is_masked_but_not_with_an_impossible_date() -> None:
    assert pii.mask("老身份证430102850315123").text == "老身份证430*********123"
    assert pii.mask("编号430102851332123").text == "编号430102851332123"


# --- bank cards -------------------------------------------------------------------------

_CARDS = [
    make_card("622202", 16),
    make_card("622848", 19),
    make_card("621700", 17),
    make_card("4111", 16, "2233445566778899"),
]


@pytest.mark.parametrize("number", _CARDS)
def test_luhn_ok_accepts_generated_cards_and_rejects_a_changed_check_digit(number: str) -> None:
    assert pii.luhn_ok(number)
    assert not pii.luhn_ok(number[:-1] + str((int(number[-1]) + 1) % 10))


@pytest.mark.parametrize("number", ["4111111111111", "41111111111111111111", ""])
def test_luhn_ok_needs_16_to_19_digits(number: str) -> None:
    assert not pii.luhn_ok(number)


@pytest.mark.parametrize("number", _CARDS)
def test_bank_cards_are_masked_keeping_four_and_four(number: str) -> None:
    if pii.valid_id18(number):  # pragma: no cover - would be reported as an ID instead
        pytest.skip("generated card is also a valid ID")
    m = pii.mask(f"退款请打到卡号{number}。")
    stars = "*" * (len(number) - 8)
    assert m.text == f"退款请打到卡号{number[:4]}{stars}{number[-4:]}。"
    assert m.found == [("bank_card", number)]


@pytest.mark.parametrize("sep", [" ", "-"])
def test_bank_card_grouped_in_fours_is_masked(sep: str) -> None:
    number = make_card("622202", 16)
    grouped = sep.join(number[i : i + 4] for i in range(0, 16, 4))
    m = pii.mask(f"卡号：{grouped}")
    assert m.text == f"卡号：{number[:4]}{sep}****{sep}****{sep}{number[-4:]}"
    assert m.found == [("bank_card", grouped)]


def test_card_length_number_failing_luhn_is_not_masked() -> None:
    number = make_card("622202", 16)
    bad = number[:-1] + str((int(number[-1]) + 5) % 10)
    assert pii.mask(f"流水号{bad}").text == f"流水号{bad}"


# --- e-mail -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("邮箱zhangsan@163.com", "邮箱z***@163.com"),
        ("发到 li.si+12345@mail.example.com.cn 谢谢", "发到 l***@mail.example.com.cn 谢谢"),
    ],
)
def test_email_local_part_is_hidden(text: str, expected: str) -> None:
    m = pii.mask(text)
    assert m.text == expected
    assert m.found[0][0] == "email"


def test_every_email_occurrence_is_masked() -> None:
    text = "甲：zhangsan@163.com，乙：lisi@qq.com，电话13812345678"
    m = pii.mask(text)
    assert m.text == "甲：z***@163.com，乙：l***@qq.com，电话138****5678"
    assert [v for k, v in m.found if k == "email"] == ["zhangsan@163.com", "lisi@qq.com"]


def test_long_run_of_address_characters_is_scanned_once() -> None:
    # unbounded, the local part was tried from each of the run's 100,000 characters
    # (about 7 s); a guard against that, with a wide margin, not a speed measurement
    text = "a" * 100_000 + "@ 邮箱zhangsan@163.com"
    started = time.perf_counter()
    m = pii.mask(text)
    assert time.perf_counter() - started < 2.0
    assert m.text.endswith("@ 邮箱z***@163.com") and m.found == [("email", "zhangsan@163.com")]


def test_full_width_at_sign_email_keeps_its_domain() -> None:
    m = pii.mask("邮箱ab＠qq．com")
    assert "ab＠" not in m.text
    assert m.text.replace("＠", "@").replace("．", ".") == "邮箱a***@qq.com"


# --- mixed text, untouched surroundings ------------------------------------------------


def test_mixed_text_only_the_personal_digits_change() -> None:
    id18 = make_id18("430103", "19761108", "217")
    card = make_card("622848", 19)
    text = (
        f"尊敬的领导：我叫某某，手机13812345678，身份证{id18}，"
        f"银行卡{card}，家里座机0731-88889999，另有电话：88886666。"
        f"罚款12345678元至今未退，2019年4月25日反映过。"
    )
    m = pii.mask(text)
    # mobile 4, ID 11, card 11, landline 4, local 4
    assert_only_digits_starred(text, m.text, expected_stars=4 + 11 + 11 + 4 + 4)
    assert "12345678元" in m.text and "2019年4月25日" in m.text
    assert sorted(kind for kind, _ in m.found) == sorted(
        ["mobile", "id_card", "bank_card", "landline", "landline"]
    )
    assert {v for _, v in m.found} == {"13812345678", id18, card, "0731-88889999", "88886666"}


def test_masking_is_idempotent() -> None:
    text = f"手机13812345678，身份证{make_id18()}，座机(010)12345678，邮箱wang@163.com"
    once = pii.mask(text)
    twice = pii.mask(once.text)
    assert twice.text == once.text
    assert twice.found == []


@pytest.mark.parametrize("text", [None, ""])
def test_mask_of_nothing_is_empty(text: str | None) -> None:
    m = pii.mask(text)
    assert m.text == "" and m.found == []


def test_text_without_personal_data_is_unchanged() -> None:
    text = "A市A3区杜鹃路和雷峰大道交界处路灯不亮，已经三个月了！请尽快处理。"
    assert pii.mask(text) == pii.Masked(text, [])


@pytest.mark.parametrize(
    ("kind", "value", "expected"),
    [
        ("phone", "13812345678", "138****5678"),
        ("phone", "+8613812345678", "+86138****5678"),
        ("phone", "88889999", "****9999"),
        ("email", "zhangsan@163.com", "z***@163.com"),
    ],
)
def test_mask_value_for_display(kind: str, value: str, expected: str) -> None:
    assert pii.mask_value(kind, value) == expected


# --- numbers the text introduces as an ID or a card ----------------------------------------


@pytest.mark.parametrize("cue", ["身份证号", "身份证号码：", "身份证", "证件号码是 ", "身份证号为"])
def test_introduced_id_with_a_wrong_check_digit_is_still_masked(cue: str) -> None:
    number = _failing_both(make_id18()[:17])
    m = pii.mask(f"来电人{cue}{number}，要求回电")
    assert m.text == f"来电人{cue}{number[:3]}{'*' * 11}{number[-4:]}，要求回电"
    assert m.found == [("id_card", number)]


def test_introduced_passport_number_is_masked() -> None:
    m = pii.mask("护照号E12345678，外籍人士")
    assert m.text == "护照号*****5678，外籍人士"
    assert m.found == [("id_card", "E12345678")]


def test_introduced_card_number_failing_luhn_is_still_masked() -> None:
    number = make_card("622202", 19)
    bad = number[:-1] + str((int(number[-1]) + 5) % 10)
    assert not pii.luhn_ok(bad)
    m = pii.mask(f"退款到银行卡{bad}")
    assert m.text == f"退款到银行卡{bad[:4]}{'*' * 11}{bad[-4:]}"
    assert m.found == [("bank_card", bad)]


@pytest.mark.parametrize(
    "text", ["身份证尾号1234", "账号zhang_san123", "卡号123", "证件已过期2019年"]
)
def test_cues_without_a_document_number_change_nothing(text: str) -> None:
    assert pii.mask(text).text == text


def test_landline_with_an_em_dash_is_masked() -> None:
    m = pii.mask("联系电话：0731—84567890")
    assert m.text == "联系电话：0731—****7890"
    assert m.found == [("landline", "0731—84567890")]


# --- international prefix, QQ numbers and WeChat ids ----------------------------------------


def test_mobile_with_the_0086_prefix_is_masked() -> None:
    m = pii.mask("电话008613812345678，或者 0086 139 1234 5678")
    assert m.text == "电话0086138****5678，或者 0086 139 **** 5678"
    assert [kind for kind, _ in m.found] == ["mobile", "mobile"]


@pytest.mark.parametrize(
    ("text", "expected", "found"),
    [
        ("我的QQ号是123456789，请联系", "我的QQ号是*****6789，请联系", ("qq", "123456789")),
        ("扣扣：12345678", "扣扣：****5678", ("qq", "12345678")),
        ("qq 10001", "qq *0001", ("qq", "10001")),
        ("加我微信wxid_abc123", "加我微信wx*******23", ("wechat", "wxid_abc123")),
        ("微信号：Zhang-San_88", "微信号：Zh********88", ("wechat", "Zhang-San_88")),
    ],
)
def test_introduced_qq_numbers_and_wechat_ids_are_masked(text, expected, found) -> None:
    m = pii.mask(text)
    assert m.text == expected
    assert m.found == [found]


# --- names the writer introduces --------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected", "name"),
    [
        ("您好！我叫朱琼会，女，35岁", "您好！我叫朱**，女，35岁", "朱琼会"),
        ("我叫王丰。", "我叫王*。", "王丰"),
        ("我的名字叫做余成虎。", "我的名字叫做余**。", "余成虎"),
        ("举报人：姓名：申波中，身份证", "举报人：姓名：申**，身份证", "申波中"),
        ("联系人：刘林满。", "联系人：刘**。", "刘林满"),
        ("我叫赵兵文西地省F市人", "我叫赵**西地省F市人", "赵兵文"),  # no stop: three chars
        # a space or line break after the cue (a WeChat session joins its messages with one)
        ("我叫 王丰，住A3区", "我叫 王*，住A3区", "王丰"),
        ("姓名： 申波中", "姓名： 申**", "申波中"),
        ("联系人\n刘林满", "联系人\n刘**", "刘林满"),
    ],
)
def test_an_introduced_name_keeps_only_its_surname(text: str, expected: str, name: str) -> None:
    m = pii.mask(text)
    assert m.text == expected
    assert m.found == [("name", name)]


@pytest.mark.parametrize(
    "text",
    [
        # accounts mentioned without an id
        "通过微信公众号反映过", "在微信群里说过，QQ群也发了", "微信支付扣了我100元", "QQ音乐会员自动续费",
        "微信abc",  # too short for an id
        "QQ号被盗了",
        # name cues without a name
        "我叫他们过来了解下", "我叫车的时候司机拒载", "并骂我叫我滚", "姓名用字实属不雅", "请填写紧急联系人",
        "我叫王xx，是K市人", "我叫了救护车", "我叫 他们过来",
    ],
)  # fmt: skip
def test_cues_without_an_account_or_a_name_change_nothing(text: str) -> None:
    assert pii.mask(text) == pii.Masked(text, [])


@pytest.mark.parametrize(
    ("text", "expected", "name"),
    [
        ("姓名：欧阳娜娜", "姓名：欧阳**", "欧阳娜娜"),
        ("我叫司马光，住A3区", "我叫司马*，住A3区", "司马光"),
        ("联系人：上官婉儿", "联系人：上官**", "上官婉儿"),
        ("联系人：端木蓉。", "联系人：端木*。", "端木蓉"),
    ],
)
def test_a_compound_surname_is_kept_and_only_the_given_name_masked(
    text: str, expected: str, name: str
) -> None:
    m = pii.mask(text)
    assert m.text == expected
    assert m.found == [("name", name)]


# --- what copy-paste and typing put between the digits ----------------------------------


@pytest.mark.parametrize(
    ("text", "expected", "kind"),
    [
        # a no-break space, a thin space or a tab (text pasted from a web page or a document)
        ("电话138\u00a01234\u00a05678", "电话138\u00a0****\u00a05678", "mobile"),
        ("手机：138\t1234\t5678", "手机：138\t****\t5678", "mobile"),
        ("138\u20091234\u20095678", "138\u2009****\u20095678", "mobile"),
        # two spaces, or a dash with spaces around it
        ("手机 138  1234  5678", "手机 138  ****  5678", "mobile"),
        ("我的手机是138 - 1234 - 5678", "我的手机是138 - **** - 5678", "mobile"),
        ("138- 1234 -5678", "138- **** -5678", "mobile"),
        ("电话 0731 - 84567890", "电话 0731 - ****7890", "landline"),
    ],
)
def test_numbers_split_by_pasted_or_doubled_separators_are_masked(
    text: str, expected: str, kind: str
) -> None:
    m = pii.mask(text)
    assert m.text == expected
    assert [k for k, _ in m.found] == [kind]


def test_an_id_number_split_by_no_break_spaces_is_masked_whole() -> None:
    number = make_id18("430102", "19850101", "123")
    text = f"身份证号码：{number[:6]}\u00a0{number[6:14]}\u00a0{number[14:]}"
    m = pii.mask(text)
    assert m.text == f"身份证号码：430***\u00a0********\u00a0{number[14:]}"
    assert m.found == [("id_card", text[6:])]


@pytest.mark.parametrize("sep", [" ", "-", " - "])
def test_an_id_number_grouped_by_region_birth_date_and_sequence_is_masked_uncued(
    sep: str,
) -> None:
    number = make_id18("430102", "19850101", "123")
    grouped = sep.join((number[:6], number[6:14], number[14:]))
    m = pii.mask(f"市民反映：{grouped} 的社保卡被冒用")
    masked = sep.join(("430***", "********", number[14:]))
    assert m.text == f"市民反映：{masked} 的社保卡被冒用"
    assert m.found == [("id_card", grouped)]
    # grouped digits that fail the checksum are not an ID number
    wrong = grouped[:-1] + ("0" if grouped[-1] != "0" else "1")
    assert not any(k == "id_card" for k, _ in pii.mask(f"订单 {wrong}").found)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("联系电话号码：84567890", "联系电话号码：****7890"),
        ("座机号码是84567890", "座机号码是****7890"),
        ("电话号：84567890", "电话号：****7890"),
        ("联系方式：8456 7890", "联系方式：**** 7890"),
        ("Tel: 84567890", "Tel: ****7890"),
        ("联系电话：\n84567890", "联系电话：\n****7890"),
        ("电话号码（8231756）", "电话号码（***1756）"),
    ],
)
def test_a_local_number_introduced_as_a_phone_in_any_usual_way_is_masked(
    text: str, expected: str
) -> None:
    m = pii.mask(text)
    assert m.text == expected
    assert [k for k, _ in m.found] == ["landline"]


# --- cues typed on a Hong Kong or Taiwan input method ------------------------------------


@pytest.mark.parametrize(
    ("text", "expected", "kind"),
    [
        ("聯繫電話：84567890", "聯繫電話：****7890", "landline"),
        ("電話號碼是84567890", "電話號碼是****7890", "landline"),
        ("聯繫方式：138.1234.5678", "聯繫方式：138.****.5678", "mobile"),
        ("護照號碼：E12345678", "護照號碼：*****5678", "id_card"),
        ("微信號：abc_12345", "微信號：ab*****45", "wechat"),
        ("聯繫人：劉林滿。", "聯繫人：劉**。", "name"),
        ("我叫陳大文，住A3區", "我叫陳**，住A3區", "name"),
        ("姓名：歐陽娜娜", "姓名：歐陽**", "name"),
    ],
)
def test_cues_in_traditional_characters_introduce_what_simplified_ones_do(
    text: str, expected: str, kind: str
) -> None:
    m = pii.mask(text)
    assert m.text == expected  # the traditional characters themselves are kept
    assert [k for k, _ in m.found] == [kind]
    assert m.found[0][1] in text


def test_an_introduced_id_number_in_traditional_characters_is_masked_without_its_checks() -> None:
    number = make_id18("430102", "19850101", "123")
    wrong = number[:-1] + ("0" if number[-1] != "0" else "1")
    m = pii.mask(f"身份證號：{wrong}")
    assert m.text == f"身份證號：430***********{wrong[-4:]}"


# --- a cue and its number in two WeChat messages (joined with a line break) -------------------


@pytest.mark.parametrize(
    ("text", "expected", "found"),
    [
        ("我的QQ号\n12345678", "我的QQ号\n****5678", ("qq", "12345678")),
        ("扣扣：\n12345678", "扣扣：\n****5678", ("qq", "12345678")),
        ("微信号\nabc_def123", "微信号\nab******23", ("wechat", "abc_def123")),
        ("护照号\nE12345678", "护照号\n*****5678", ("id_card", "E12345678")),
        ("身份证号：\n430102198501011235", "身份证号：\n430***********1235",
         ("id_card", "430102198501011235")),
        ("银行卡号 \n6222021234567890124", "银行卡号 \n6222***********0124",
         ("bank_card", "6222021234567890124")),
        ("联系电话\n13812345678", "联系电话\n138****5678", ("mobile", "13812345678")),
    ],
)  # fmt: skip
def test_a_cue_on_the_line_before_its_number_introduces_it(text, expected, found) -> None:
    m = pii.mask(text)
    assert m.text == expected
    assert m.found == [found]


def test_the_cued_id_and_card_numbers_on_the_next_line_fail_their_own_checks() -> None:
    # so it is the cue, not the checksum, that masks them above
    assert not pii.valid_id18("430102198501011235")
    assert not pii.luhn_ok("6222021234567890124")


@pytest.mark.parametrize(
    ("text", "expected", "kind"),
    [
        ("我的电话是138\n1234 5678", "我的电话是138\n**** 5678", "mobile"),
        ("手机：1381234\n5678", "手机：138****\n5678", "mobile"),
        ("联系电话 138\n1234\n5678", "联系电话 138\n****\n5678", "mobile"),
        ("座机8456\n7890", "座机****\n7890", "landline"),
        ("座机0731\n84567890", "座机0731\n****7890", "landline"),
        ("家里电话：(0731)\n8456 7890", "家里电话：(0731)\n**** 7890", "landline"),
        ("联系电话 010\n62345678-123", "联系电话 010\n****5678-123", "landline"),
    ],
)
def test_a_phone_number_split_over_two_messages_after_a_cue_is_masked(
    text: str, expected: str, kind: str
) -> None:
    m = pii.mask(text)
    assert m.text == expected
    assert [k for k, _ in m.found] == [kind]


@pytest.mark.parametrize(
    "text",
    [
        "138\n1234\n5678",  # no cue: three short numbers, not one phone
        "0731\n84567890",  # no cue: an area code's digits and a number, two things
        "座机0731\n\n84567890",  # a blank line between: not one number
        "共计\n138\n1234\n5678元",
        "我的电话是138\n\n1234 5678",  # a blank line between: not one number
        "联系电话\n2019年4月25日",
        "身份证\n2019年过期",
        "QQ\n2019年",
        "账号\n2019年12月",
        "QQ群\n12345678",
        "微信\n支付了100元",
        "工单号\n20190425123456",
        "依据国发〔2019〕12号\n联系电话\n12345",
    ],
)
def test_line_breaks_do_not_make_dates_amounts_or_references_personal(text: str) -> None:
    assert pii.mask(text) == pii.Masked(text, [])


def test_a_cued_number_on_one_line_does_not_take_the_next_message_as_its_tail() -> None:
    m = pii.mask("护照号E12345678\n2019年办的")
    assert m.text == "护照号*****5678\n2019年办的"
    assert m.found == [("id_card", "E12345678")]


# --- Latin cues glued to a mobile -------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("加VX13812345678", "加VX138****5678"),
        ("加vx：13812345678", "加vx：138****5678"),
        ("wx13812345678", "wx138****5678"),
        ("WX 138 1234 5678", "WX 138 **** 5678"),
        ("加V信13812345678", "加V信138****5678"),
        ("phone13812345678", "phone138****5678"),
        ("Mobile:13812345678", "Mobile:138****5678"),
        ("mobile13812345678", "mobile138****5678"),
        ("tel13812345678", "tel138****5678"),
    ],
)
def test_a_mobile_glued_to_a_latin_cue_is_masked(text: str, expected: str) -> None:
    m = pii.mask(text)
    assert m.text == expected
    assert [k for k, _ in m.found] == ["mobile"]


@pytest.mark.parametrize(
    "text",
    [
        "ABC13812345678",  # letters that are no cue: a product code
        "SVX13812345678",  # VX as the end of a longer code
        "型号WX13812345678A",  # glued to a letter on the right too
    ],
)
def test_letters_that_are_no_cue_still_keep_a_code_unmasked(text: str) -> None:
    assert pii.mask(text) == pii.Masked(text, [])


# --- landlines dialled from abroad ------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("座机 +86 731 84567890", "座机 +86 731 ****7890"),
        ("+86-10-62345678", "+86-10-****5678"),
        ("+8673184567890", "+86731****7890"),
        ("0086 731 8456 7890", "0086 731 **** 7890"),
        ("+86 (0)731 84567890", "+86 (0)731 ****7890"),
        ("+86 0731-84567890", "+86 0731-****7890"),
        ("电话：+86 20 8765 4321。", "电话：+86 20 **** 4321。"),
        (
            "座机＋８６ ７３１ ８４５６７８９０",
            "座机＋８６ ７３１ ****７８９０",
        ),  # full-width: was unmasked
    ],
)
def test_a_landline_with_the_country_code_keeps_country_and_area_code(
    text: str, expected: str
) -> None:
    m = pii.mask(text)
    assert m.text == expected
    assert [k for k, _ in m.found] == ["landline"]


@pytest.mark.parametrize("text", ["增长+86 731人", "+86 731 1234567", "共0086 731 84567890A"])
def test_country_code_lookalikes_are_not_landlines(text: str) -> None:
    assert pii.mask(text) == pii.Masked(text, [])


# --- more groupings -------------------------------------------------------------------------


def test_an_id_number_grouped_6_4_4_4_is_masked_uncued() -> None:
    number = make_id18("430102", "19850101", "123")
    grouped = f"{number[:6]} {number[6:10]} {number[10:14]} {number[14:]}"
    m = pii.mask(f"市民反映：{grouped} 的社保卡被冒用")
    assert m.text == f"市民反映：430*** **** **** {number[14:]} 的社保卡被冒用"
    assert m.found == [("id_card", grouped)]
    wrong = grouped[:-1] + ("0" if grouped[-1] != "0" else "1")
    assert pii.mask(f"订单 {wrong}").found == []


@pytest.mark.parametrize(
    ("text", "expected", "kind"),
    [
        ("138  -  1234  -  5678", "138  -  ****  -  5678", "mobile"),
        ("电话 0731  -  84567890", "电话 0731  -  ****7890", "landline"),
    ],
)
def test_a_dash_with_two_spaces_either_side_still_joins_the_groups(
    text: str, expected: str, kind: str
) -> None:
    m = pii.mask(text)
    assert m.text == expected
    assert [k for k, _ in m.found] == [kind]


@pytest.mark.parametrize("text", ["价格1500  -  2000  -  3000元", "138    1234    5678"])
def test_wider_gaps_do_not_join_amounts_or_far_apart_numbers(text: str) -> None:
    assert pii.mask(text) == pii.Masked(text, [])
