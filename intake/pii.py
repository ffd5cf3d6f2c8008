"""Mask personal data in free text before an appeal leaves intake.

Masked: mainland mobile numbers, landlines, 18-digit ID numbers (checksum verified),
15-digit ID numbers (birth date verified), bank card numbers (Luhn verified), e-mail
addresses, QQ numbers and WeChat ids the text introduces as such (QQ号…, 微信…), and
names it introduces (我叫…, 姓名：…, 联系人：…; surname kept: 张**), every occurrence.
A landline dialled from abroad (+86 731 84567890) keeps its country and area codes. A
cue may stand on the line before its number (a WeChat session joins its messages with line
breaks: 我的QQ号 / 12345678), and a phone number after a cue may itself be split over two
lines (我的电话是138 / 1234 5678, 座机0731 / 84567890). Latin cues glued to a mobile (加VX13812345678, wx…,
phone…, mobile…, tel…) introduce it; other letters glued to 11 digits are a code.
A number the text introduces as an identity document or a bank card (身份证号…, 护照号…,
银行卡号…, 账号…) is masked without those checks: a typed-up call gets a digit wrong now
and then, and a mistyped ID number is still someone's ID number. Unintroduced numbers
that fail the checks (order numbers, 流水号) stay as they are. Matching runs on a copy with
full-width digits folded to ASCII so ``１３８…`` is caught too, and traditional characters
read as simplified so the cues of Hong Kong and Taiwan input methods (電話：, 身份證號,
聯繫人：) introduce what they introduce; masks are applied at the same positions of the
original, so the rest of the Chinese text is left exactly as it was.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from understand.text_normalise import to_simplified

# full-width forms a Chinese keyboard types; folding keeps positions (one char for one char)
# (— and – as typed between area code and number: 0731—84567890), and the spaces that text
# pasted from a web page or a document carries (no-break, thin, tab) read as a space
_FOLD = str.maketrans(
    "０１２３４５６７８９＠．Ｘｘ（）＋－—–　\u00a0\u2007\u2009\u202f\t",
    "0123456789@.Xx()+---" + " " * 6,
)
# between the groups of a number: nothing, up to three spaces, or a dash with up to two
# spaces either side (138 - 1234 - 5678, 138  1234  5678, 138  -  1234  -  5678)
_SEP = r"(?: {0,3}| {0,2}- {0,2})"
# a line break between two groups of a phone number a cue introduced: a WeChat session
# joins its messages with one ("我的电话是138" / "1234 5678" reads as 我的电话是138\n1234
# 5678); one break, not a blank line, and only after a phone cue (uncued, digits on two
# lines are two things; an ID or card number is taken on one line, so the date or amount
# that starts the next message is not read as its tail)
_NL = r"[ ]{0,2}\n[ ]{0,2}"
# between a cue and the number it introduces: a colon, 是 or 为, spaces, a line break
# (身份证号：430…, 我的QQ号 / 12345678 sent as two messages)
_CUE_GAP = r"[:：是为\s]{0,4}"

# The local part is at most 64 characters (RFC 5321): unbounded, a long run of them with
# no domain after it (20,000 letters and an @) was scanned again from each of its
# characters (0.3 s); bounded, each start looks at 64 at most.
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
# unbroken, or grouped as region, birth date and sequence (430102 19850101 123X), or with
# the birth date split into year and month-day (430102 1985 0101 123X)
_ID18 = re.compile(
    rf"(?<![0-9A-Za-z])\d{{6}}{_SEP}\d{{4}}{_SEP}\d{{4}}{_SEP}\d{{3}}[\dXx](?![0-9A-Za-z])"
)
_ID15 = re.compile(r"(?<![0-9A-Za-z])\d{15}(?![0-9A-Za-z])")
_CARD = re.compile(
    r"(?<![0-9A-Za-z])(?:\d{16,19}|\d{4}(?:[ -]\d{4}){3}(?:[ -]\d{1,3})?)(?![0-9A-Za-z])"
)
_MOBILE = re.compile(
    rf"(?<![0-9A-Za-z+])(?:(?:\+|00)?86[ -]?)?1[3-9]\d{_SEP}\d{{4}}{_SEP}\d{{4}}(?![0-9A-Za-z])"
)
# a landline's parts: the area code, (0731) or 0731; the subscriber number, 84567890 or
# 8456 7890; an extension, -123
_AREA_CODE = r"(?:\(0\d{2,3}\)|0\d{2,3})"
_SUBSCRIBER = r"(?:[2-9]\d{6,7}|[2-9]\d{2,3}[ -]\d{4})"
_EXTENSION = r"(?:-\d{1,5})?(?![0-9A-Za-z])"
_LANDLINE = re.compile(rf"(?<![0-9A-Za-z]){_AREA_CODE}{_SEP}{_SUBSCRIBER}{_EXTENSION}")
# dialled from abroad: +86 or 0086, the area code without its 0 (or with it, or as (0)),
# then the number (+86 731 84567890, 0086-10-62345678); area codes are 10, 2x and
# 3xx to 9xx, so a mobile (1[3-9]…) is never read as one
_AREA = r"(?:10|2\d|[3-9]\d{2})"
_LANDLINE_INTL = re.compile(
    rf"(?<![0-9A-Za-z+])(?:\+|00)86{_SEP}(?:\(0\)|0)?\(?{_AREA}\)?{_SEP}{_SUBSCRIBER}{_EXTENSION}"
)
_INTL_HEAD = re.compile(rf"(?:\+|00)86[ -]*(?:\(0\)|0)?\(?{_AREA}\)?")
# Words that introduce a phone number, then what may stand between them and the number
# (联系方式：, 电话号码是, 座机号 (…), Tel:, a line break); one cue for mobiles and local numbers
_PHONE_WORDS = "电话|座机|手机|联系|热线|致电|[Tt]el|TEL|[Pp]hone|PHONE"
# and words that introduce a mobile only: the WeChat account it is (加VX13812345678, wx:,
# V信, 微信) and "mobile". Glued to the digits they would be refused as letters before a
# mobile (ABC13812345678 is a product code and stays); VX and WX only as a word of their
# own, not the end of a longer code (SVX13812345678)
_MOBILE_WORDS = rf"{_PHONE_WORDS}|(?<![A-Za-z])(?:[Vv][Xx]|[Ww][Xx])|[Vv]信|微信|[Mm]obile|MOBILE"
_PHONE_INTRO = rf"(?:{_PHONE_WORDS})(?:方式)?(?:号码|号)?[:：是为\s(]{{0,3}}"
_MOBILE_INTRO = rf"(?:{_MOBILE_WORDS})(?:方式)?(?:号码|号)?[:：是为\s(]{{0,3}}"
# between two digits of a number a cue introduced: a space, dot or dash, or a line break
_CUED_SEP = rf"(?:[ .-]|{_NL})?"
# 7-8 digit local numbers only when introduced as a phone, to spare amounts and dates
_LOCAL = re.compile(rf"{_PHONE_INTRO}([2-9](?:{_CUED_SEP}\d){{6,7}})(?![0-9A-Za-z])")
_PHONE_CUE = re.compile(_MOBILE_WORDS)
# a landline a cue introduced, its area code on one line and the number on the next (座机0731
# / 84567890 sent as two messages); uncued, two lines of digits stay two things
_LANDLINE_CUED = re.compile(rf"{_PHONE_INTRO}({_AREA_CODE}{_NL}{_SUBSCRIBER}){_EXTENSION}")
# a mobile number introduced as a phone may be grouped any way (1381 234 5678,
# 138.1234.5678); uncued, only the usual 3-4-4 grouping is taken (spares amounts)
_MOBILE_CUED = re.compile(rf"{_MOBILE_INTRO}(1[3-9](?:{_CUED_SEP}\d){{9}})(?![0-9A-Za-z])")

# numbers introduced as an identity document or a bank card (their own checks not needed)
_ID_CUED = re.compile(
    rf"(?:身份证|证件|护照|身份号)(?:号码|号)?{_CUE_GAP}"
    r"([A-Za-z0-9][A-Za-z0-9 -]{4,22}[A-Za-z0-9])(?![0-9A-Za-z])"
)
_CARD_CUED = re.compile(
    rf"(?:银行卡|银行账户|卡号|账号|帐号)(?:号码|号)?{_CUE_GAP}"
    r"(\d[\d -]{10,24}\d)(?![0-9A-Za-z])"
)

# contact accounts, only when introduced: a QQ number (5 to 11 digits) and a WeChat id (6
# to 20 letters, digits, _ or -, starting with a letter: WeChat's own rule)
_QQ_CUED = re.compile(rf"(?:QQ|qq|Qq|扣扣)(?:号码|号)?{_CUE_GAP}([1-9]\d{{4,10}})(?![0-9A-Za-z])")
_WECHAT_CUED = re.compile(
    rf"微信(?:号码|号)?{_CUE_GAP}([A-Za-z][A-Za-z0-9_-]{{5,19}})(?![0-9A-Za-z_-])"
)
# any of their cues: texts without one (nearly all) skip those rules
_ACCOUNT_CUE = re.compile(r"QQ|qq|Qq|扣扣|微信")

# a person's name the writer introduces (我叫张三, 姓名：张三, 联系人：张三): the 2 or 3
# Chinese chars after the cue, if the first is a common surname (我叫他们, 我叫车 are not
# names; 安, 车, 门 … are left out of the surnames for that reason); a space or line
# break may follow the cue ("我叫 张三", and a WeChat session's messages "我叫" / "张三")
# Compound surnames (欧阳娜娜: 欧阳 kept, 娜娜 masked); those that are also everyday words
# (东方, 西门, 南宫, 百里) are left out, as 安, 车, 门 are of the single ones
_COMPOUND_SURNAMES = (
    "欧阳|上官|司马|诸葛|皇甫|尉迟|公孙|慕容|长孙|宇文|司徒|令狐|端木|夏侯|轩辕|独孤|呼延"
    "|钟离|闻人|申屠|澹台|赫连|万俟"
)
_COMPOUND_SET = frozenset(_COMPOUND_SURNAMES.split("|"))
_NAME_CUED = re.compile(
    r"(?:我叫|我的名字[是叫]做?|(?<![\u4e00-\u9fff])姓名[:：是为]{0,2}|联系人[:：是为]{0,2})"
    rf"\s{{0,2}}((?:{_COMPOUND_SURNAMES})[\u4e00-\u9fff]{{1,2}}|[\u4e00-\u9fff]{{2,3}})"
)
_NAME_CUE = re.compile(r"我叫|名字|姓名|联系人")
_SURNAMES = frozenset(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝"
    "龚邵万钱严覃武戴莫孔向汤常温康施文牛樊葛邢齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左"
    "柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈"
    "饶解牟艾尤阳时穆农卓古吉缪简项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂佟应臧闵苟邬边"
    "卞姬和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝官封谈匡鞠惠荆乐冀郁胥南班储原栗"
    "燕楚鄢劳谌奚皮粟冼蔺楼满闻厉伊仝郜海阚花权帅屠豆朴盖练廉禹井祖漆巴丰支卿狄计索宣晋初容敬"
    "扈晁芮都普阙浦戈伏鹿薄邸雍辜羊乌母裘亓修邰赫杭况宿鲜印逯隆茹诸战慕危玉银亢嵇哈湛宾戎勾茅"
    "利於居揭干但尉冶斯元束檀衣信展阴昝智幸奉植衡富尧闭由代"
)

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def valid_id18(number: str) -> bool:
    """ISO 7064 MOD 11-2 checksum of a mainland resident ID number, plus a real birth date."""
    if len(number) != 18 or not number[:17].isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(number[:17], _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11] == number[17].upper() and _valid_date(number[6:14])


def valid_id15(number: str) -> bool:
    """Old 15-digit IDs have no checksum: the 19YYMMDD birth date must be real."""
    return len(number) == 15 and number.isdigit() and _valid_date("19" + number[6:12])


def _valid_date(yyyymmdd: str) -> bool:
    try:
        born = date(int(yyyymmdd[:4]), int(yyyymmdd[4:6]), int(yyyymmdd[6:8]))
    except ValueError:
        return False
    return 1900 <= born.year <= date.today().year


def luhn_ok(number: str) -> bool:
    """Luhn check digit, as on every UnionPay, Visa and MasterCard card number."""
    digits = [int(d) for d in number if d.isdigit()]
    if not 16 <= len(digits) <= 19:
        return False
    total = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


@dataclass
class Masked:
    """Masked text and what was found in it (kind, original value)."""

    text: str
    found: list[tuple[str, str]] = field(default_factory=list)


def _enough_digits(value: str) -> bool:
    """At least six digits: a document number, not a word or a short reference."""
    return sum(ch.isdigit() for ch in value) >= 6


def _keep_ends(value: str, head: int, tail: int) -> str:
    """Star every digit/letter except the first ``head`` and last ``tail`` of them."""
    positions = [i for i, ch in enumerate(value) if ch.isalnum()]
    hide = set(positions[head : len(positions) - tail])
    return "".join("*" if i in hide else ch for i, ch in enumerate(value))


def _mask_cued_id(value: str) -> str:
    # an ID-length number shows what checked ones show (3 and 4); a passport, the last 4
    return _keep_ends(value, 3 if sum(ch.isalnum() for ch in value) >= 15 else 0, 4)


def _mask_email(value: str) -> str:
    at = next(i for i, ch in enumerate(value) if ch in "@＠")  # the original may be full-width
    return f"{value[:1]}***{value[at:]}"


def _mask_mobile(value: str) -> str:
    digits = [i for i, ch in enumerate(value) if ch.isdigit()]
    # 138****5678: keep the last 11 digits' first 3 and last 4 (a +86 prefix stays visible)
    hide = set(digits[-8:-4])
    return "".join("*" if i in hide else ch for i, ch in enumerate(value))


def _mask_intl_landline(value: str) -> str:
    """+86 731 ****7890: the country and area codes kept, the number as a landline's."""
    head = _INTL_HEAD.match(value.translate(_FOLD))  # it matches: _LANDLINE_INTL starts so
    end = head.end() if head else 0
    return value[:end] + _keep_ends(value[end:], 0, 4)


def _mask_landline(value: str) -> str:
    """0731-****7890: the area code (3 digits for 010 and 02x, else 4) and the last 4 kept."""
    return _keep_ends(value, 3 if value.lstrip("(").startswith(("01", "02")) else 4, 4)


def _compound(name: str) -> bool:
    """Whether ``name`` starts with a compound surname (欧阳, 上官 …, or 歐陽 …)."""
    return len(name) >= 3 and to_simplified(name[:2]) in _COMPOUND_SET


def _mask_name(name: str) -> str:
    """The surname kept, the given name starred: 张**, 欧阳**."""
    keep = 2 if _compound(name) else 1
    return name[:keep] + "*" * (len(name) - keep)


_RULES: tuple[tuple[str, re.Pattern[str], object, object], ...] = (
    ("email", _EMAIL, None, _mask_email),
    ("id_card", _ID18, valid_id18, lambda v: _keep_ends(v, 3, 4)),
    ("id_card", _ID15, valid_id15, lambda v: _keep_ends(v, 3, 3)),
    ("id_card", _ID_CUED, _enough_digits, _mask_cued_id),
    ("bank_card", _CARD, luhn_ok, lambda v: _keep_ends(v, 4, 4)),
    ("bank_card", _CARD_CUED, None, lambda v: _keep_ends(v, 4, 4)),
    ("mobile", _MOBILE, None, _mask_mobile),
    ("mobile", _MOBILE_CUED, None, _mask_mobile),
    ("landline", _LANDLINE_INTL, None, _mask_intl_landline),
    ("landline", _LANDLINE, None, _mask_landline),
    ("landline", _LANDLINE_CUED, None, _mask_landline),
    ("landline", _LOCAL, None, lambda v: _keep_ends(v, 0, 4)),
    ("qq", _QQ_CUED, None, lambda v: _keep_ends(v, 0, 4)),
    ("wechat", _WECHAT_CUED, None, lambda v: f"{v[:2]}{'*' * (len(v) - 4)}{v[-2:]}"),
    ("name", _NAME_CUED, lambda v: v[0] in _SURNAMES or _compound(v), _mask_name),
)
#: The cheap check each kind needs to pass (numbers: a run of digits).
_FAMILY = {
    _EMAIL: "email", _QQ_CUED: "account", _WECHAT_CUED: "account", _NAME_CUED: "name",
    _LOCAL: "phone_cue", _MOBILE_CUED: "phone_cue", _LANDLINE_CUED: "phone_cue",
}  # fmt: skip


_FULLWIDTH = re.compile("[０-９＠．Ｘｘ（）＋－—–　\u00a0\u2007\u2009\u202f\t]")


def _fold(text: str) -> str:
    """``text`` with the characters of ``_FOLD`` folded and traditional characters read as
    simplified, one for one (positions kept).

    Replacing only the matches: ``str.translate`` looks every character up in the table,
    and texts with a dash or a full-width space (most of them) paid that in full.
    """
    return _FULLWIDTH.sub(lambda m: m.group().translate(_FOLD), to_simplified(text))


# (a line break too: the digits of a cued number may stand on two lines)
_LONG_DIGITS = re.compile(r"\d[\d \n-]{5,}\d")
_DOTTED_DIGITS = re.compile(r"\d{3}\.\d{3}")


def mask(text: str | None) -> Masked:
    """Mask the personal data in ``text``: phone, ID, card and account numbers, e-mail
    addresses and the names a writer introduces."""
    if not text:
        return Masked(text or "")
    # matching runs on an ASCII-folded probe of the same length; most texts need no fold
    probe = _fold(text)
    # which families of rules can match at all: most texts need none, few need all
    digits = _LONG_DIGITS.search(probe) is not None
    wanted = {
        "digits": digits,
        # the cued phone rules: a run of digits, or digits grouped with dots (138.1234.5678)
        "phone_cue": digits
        or (
            "." in probe
            and _DOTTED_DIGITS.search(probe) is not None
            and _PHONE_CUE.search(probe) is not None
        ),
        "email": "@" in probe,
        "account": _ACCOUNT_CUE.search(probe) is not None,
        # the cue words first: the name pattern has no literal prefix to scan for (7 µs)
        "name": _NAME_CUE.search(probe) is not None and _NAME_CUED.search(probe) is not None,
    }
    if not any(wanted.values()):
        return Masked(text)  # nothing that could be personal data: the common fast path
    original = list(text)
    found: list[tuple[str, str]] = []
    for kind, pattern, valid, masker in _RULES:
        if not wanted[_FAMILY.get(pattern, "digits")]:
            continue
        changed = False
        # right to left, so a mask of another length never shifts a match still to apply
        for m in reversed(list(pattern.finditer(probe))):
            group = 1 if pattern.groups else 0
            start, end = m.span(group)
            value = probe[start:end]
            if valid is not None and not valid(value.replace(" ", "").replace("-", "")):  # type: ignore[operator]
                continue
            raw = "".join(original[start:end])
            found.append((kind, raw))
            # mask the original characters (full-width digits stay full-width)
            original[start:end] = list(masker(raw))  # type: ignore[operator]
            changed = True
        if changed:  # later rules must not re-match masked spans
            probe = _fold("".join(original))
    found.reverse()  # report in reading order within each kind
    return Masked("".join(original) if found else text, found)


def mask_value(kind: str, value: str) -> str:
    """Mask one known contact value (caller number, e-mail) for display."""
    if kind == "email":
        return _mask_email(value)
    return _mask_mobile(value) if len(re.sub(r"\D", "", value)) >= 11 else _keep_ends(value, 0, 4)
