"""Find and normalise department names in free text, chiefly the official replies (答复意见).

Replies name departments in many ways: ``A2区住建局``, ``市住房和城乡建设局``,
``县城管执法大队``, ``泉塘街道办事处``, or only ``我局``. Two tools live here:

* :func:`find_mentions` recognises the names the catalogue knows (every kind's aliases),
  with the administrative level the prefix gives (``A7县`` / ``市`` / ``区`` / ``西地省``);
* :func:`mine_names` is the open-ended miner behind ``catalogue-build``: every token that
  looks like a department name (ends in 局/委/办/中心/大队/街道办事处/公司 …), so a curator can
  spot names the catalogue does not know yet.

:func:`principal_department` defines which mention counts as *the* handling department of
a reply for the routing evaluation; its docstring is the definition.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from routing.catalogue import GOVERNMENT_KIND, STREET_KIND, Catalogue

#: What may stand right before a department name and tells its level. Longest first:
#: ``A8县市`` occurs because the masking kept the county's later upgrade to a city.
_PREFIX = re.compile(r"(西地省|[A-Z]\d{1,2}[区县市]市?|[A-Z]市|省|市|区|县)$")
#: Document titles are quoted, not handled: 《A市住房公积金管理办法》.
_QUOTED = re.compile(r"《[^《》]{0,80}》")
#: A date as replies write it: ``2013年9月5日``, ``二O一三年八月四日``, or cut short
#: (``2014年2月26``: the day's 日 lost in the export).
_NUMERAL = r"[\d〇○OoＯ零一二三四五六七八九十]"
_DATE = rf"{_NUMERAL}{{4}}年{_NUMERAL}{{1,3}}月(?:{_NUMERAL}{{1,3}}日?)?"
#: A reply that ends with a signature: department name, optional spaces, then the date.
_SIGNATURE_TAIL = re.compile(rf"\s*(?:{_DATE})?\s*$")
#: How far from the end of the reply a mention may start and still be the signature.
_SIGNATURE_WINDOW = 40
#: Words around a name that show the department acting on the appeal (经A2区住建局调查,
#: 转A7县教育局办理, 城管局执法队员…), as opposed to being cited or merely mentioned.
#: Referrals (请联系…, 向…反映) are not cues: the replying body often points elsewhere.
_CUE_BEFORE = re.compile(
    r"(?:经|由|(?<![根依])据|转|转交|交|委托|要求|责成|督促|配合|协助|(?:转交?|交)至)$"
)
#: Streets and towns carry their place name between the cue and the name: 由黄花镇政府牵头.
_STREET_CUE_BEFORE = re.compile(
    r"(?:经(?!开区)|由|(?<![根依])据|转|转交|交|委托|要求|责成|督促|配合|协助)[\u4e00-\u9fa5]{1,4}$"
)
#: A street or town named as an address, not as an office: ``位于梅溪湖街道…``,
#: ``石山脚街道办事处黄泥桥社区十一组居民``, ``楚龙街道范围内``, ``由所在街道中心学校…``.
_LOCATION_BEFORE = re.compile(r"(?:位于|属于?|地处|居住|住在|涉及|所在|对)[\u4e00-\u9fa5]{0,4}$")
_LOCATION_AFTER = re.compile(
    r"(?![和及与已将对要在])[\u4e00-\u9fa5]{0,4}(?:社区|村(?![委两])|路\d)|范围|全境|境内|辖区|中心学校"
)
_CUE_AFTER = re.compile(
    r"(?:调查|核实|了解|核查|接到|收到|高度重视|执法|工作人员|立即|派|组织|负责|回复|答复|"
    r"现场|已|将|会同|联合|及时|迅速|多次|对此)"
)
#: A department named as the author of a rule or document is cited, not handling:
#: ``根据A7县人民政府…文件``, ``A市物价局长价商【2014】92号``, ``…出台``, ``…联合发文``.
_CITING_BEFORE = re.compile(r"(?:根据|依据|按照|参照|依照|遵照)[^，。；]{0,2}$")
_CITING_AFTER = re.compile(
    r"(?:[^，。；]{0,6}?[〔【\[﹝]\s*\d{4}|[^，。；]{0,4}?(?:号文|文件)|"
    r"(?:联合)?(?:出台|印发|下发|发文|制定|颁布|批复|审批|备案|规定|文件|公布))"
)
#: A department the reply sends the citizen to (到B市公证处将…翻译, 向区人社局咨询) is a
#: referral, not the handler, whatever follows its name.
_REFERRAL_BEFORE = re.compile(r"(?:到|向|去|前往|联系|咨询|致电|拨打)$")
#: A department that directs another in the same sentence (区政府已责成区市政局牵头,
#: 区政府高度重视，立即要求区住建局…) hands the appeal on: the directed one handles it.
_DIRECTS_AFTER = re.compile(
    r"(?:已|立即|迅速|及时|马上|随即)?(?:责成|要求|督促|安排|指派|交由|交办|转交|转)$"
)
_SENTENCE_END = re.compile(r"[。；;！!？?]")
#: Departments listed together (转交县环保局、县畜牧局核实): the list shares its cue.
_LIST_JOIN = re.compile(r"[、和及与]|以及")
#: Text between a signature and the date: nothing, or its phone number.
_SIGNATURE_GAP = re.compile(r"[\s：:]*(?:(?:电话|联系电话)?[：:\s]*[\d\-－]{7,}[\s，。]*)?")
#: A town or street answering in its own name (我镇已…, 本街道…).
_SELF_STREET = re.compile(r"(?:我|本)(?:镇|乡|街道)(?:人民政府|政府|办事处)?")
#: Open-ended miner: a prefix, then 1–14 CJK characters ending in an organisation suffix.
_ORG_NAME = re.compile(
    r"((?:西地省|[A-Z]\d{0,2}[市区县]|[市区县])?"
    r"[\u4e00-\u9fa5]{1,14}?"
    r"(?:街道办事处|镇人民政府|乡人民政府|人民政府|委员会|办公室|管理局|分局|局|委|厅|中心|"
    r"支队|大队|中队|派出所|公司|集团))"
)
#: Leading words the miner's lazy match drags in; stripped before counting.
_MINED_NOISE = re.compile(r"^(?:经|由|向|到|请|与|和|及|对|将|已|转|交|的|在|据|根据|联系|咨询)+")
#: Self references (我局, 本中心, 该公司 …) name no department.
_SELF = re.compile(r"(?:我|本|该|贵|你|您|此|其)[\u4e00-\u9fa5]{0,2}$")


@dataclass(frozen=True)
class DepartmentMention:
    """A department name recognised in a text.

    ``level`` is ``"district"`` / ``"city"`` / ``"province"`` / ``"street"`` when the text
    says so, else ``None``. ``unit`` is the named unit (``A7县``, ``A市``, ``B市``) when
    the prefix names one; a bare ``市`` / ``区`` / ``县`` prefix gives only the level.
    """

    text: str
    kind: str
    level: str | None
    unit: str | None
    #: Span of ``text`` (prefix included) in the searched text.
    start: int
    end: int


@lru_cache(maxsize=8)
def _alias_pattern(catalogue: Catalogue) -> tuple[re.Pattern[str], dict[str, str]]:
    alias_kind: dict[str, str] = {}
    for kind in catalogue.kinds.values():
        for alias in kind.aliases:
            alias_kind.setdefault(alias, kind.key)
    # Longest alias first so 城乡建设行政执法大队 wins over 城乡建设局-like prefixes.
    ordered = sorted(alias_kind, key=len, reverse=True)
    return re.compile("|".join(map(re.escape, ordered))), alias_kind


def find_mentions(text: str, catalogue: Catalogue) -> list[DepartmentMention]:
    """Every catalogue-known department name in ``text``, in order of appearance.

    Names inside 《…》 (titles of documents being cited) are skipped.
    """
    if not text:
        return []
    pattern, alias_kind = _alias_pattern(catalogue)
    blanked = _QUOTED.sub(lambda m: "＿" * len(m.group()), text)
    mentions = []
    for m in pattern.finditer(blanked):
        kind = alias_kind[m.group()]
        before = blanked[max(0, m.start() - 8) : m.start()]
        level, unit = None, None
        if prefix := _PREFIX.search(before):
            p = prefix.group(1)
            if p in ("西地省", "省"):
                level = "province"
            elif p in ("市", "区", "县"):
                level = "city" if p == "市" else "district"
            elif re.fullmatch(r"[A-Z]市", p):
                level, unit = "city", p
            else:
                level, unit = "district", p[:-1] if p.endswith("市市") or p[-2:] == "县市" else p
        if kind == STREET_KIND:
            level = "street"
        mentions.append(
            DepartmentMention(
                text=(prefix.group(1) if prefix else "") + m.group(),
                kind=kind,
                level=level,
                unit=unit,
                start=m.start() - (len(prefix.group(1)) if prefix else 0),
                end=m.end(),
            )
        )
    return mentions


def principal_department(reply: str, catalogue: Catalogue) -> DepartmentMention | None:
    """The department a reply shows as handling the appeal, or ``None`` if it names none.

    Definition used by the routing evaluation (audited on 40 dev replies, see
    ``docs`` in :mod:`routing.evaluation`):

    Mentions that never handle a local appeal are skipped everywhere: province-level
    bodies (``西地省教育厅`` sets policy), the city government (``A市人民政府`` issues the
    documents replies cite), the 12345 centre or 政务中心 (they forward, not handle), and
    *cited* mentions: a body named as the author of a rule or document (``根据A7县人民政府
    长县政纪〔2015〕36号文件``, ``A市物价局出台…``, ``…联合发文``, ``在物价局备案``), and
    streets or towns named as an address (``位于梅溪湖街道…``, ``…街道办事处黄泥桥社区居民``,
    ``楚龙街道范围内``). A street may be named without its office suffix (``经洞井街道调查``).

    1. a reply that ends with a department's signature (``…A7县城市管理和行政执法局
       2013年9月5日``, ``…二O一三年八月四日``, a date cut short as ``2014年2月26``,
       optionally after its phone number) was written by that department: it is the
       principal;
    2. otherwise the first department named with a handling cue around it (``经…调查``,
       ``转…办理``, ``…执法人员``, ``…高度重视``, ``…已``), or heading a list that has one
       (``转交至环保局、国土局调查``: the 环保局); a department the citizen is only sent to
       (``到B市公证处将…翻译``, ``向区人社局咨询``) is never cued. If that department
       directs another in the same sentence (``A4区政府已责成区市政局牵头``,
       ``…高度重视，立即要求A3区住建局…``), the directed department is the principal;
    3. otherwise a town or street speaking for itself (``我镇``, ``本街道``) is the
       principal (kind ``jd``);
    4. otherwise ``None``: a department merely named somewhere in the reply (``可联系
       司法局``, ``与A市自来水公司协调``) is too often not the handler (in the audit, about
       half of such first mentions were wrong), so those replies are left out rather
       than guessed. Replies naming no department (``我局``, ``我们``) give ``None`` too.
    """
    mentions = [
        m
        for m in find_mentions(reply, catalogue)
        if _can_handle(m, catalogue, reply) and not _cited(reply, m)
    ]
    tail = len(_SIGNATURE_TAIL.sub("", reply))
    signed = [m for m in mentions if m.start >= tail - _SIGNATURE_WINDOW]
    if signed and _SIGNATURE_GAP.fullmatch(reply[signed[-1].end : tail]):
        return signed[-1]
    for i in range(len(mentions)):
        if _handled(reply, mentions, i):
            return _directed(reply, mentions, i)
    if own := _SELF_STREET.search(reply):
        return DepartmentMention(
            text=own.group(),
            kind=STREET_KIND,
            level="street",
            unit=None,
            start=own.start(),
            end=own.end(),
        )
    return None


def _cued(reply: str, m: DepartmentMention) -> bool:
    """Whether a handling cue stands right before or right after this mention."""
    before = reply[max(0, m.start - 8) : m.start]
    return bool(
        _CUE_BEFORE.search(before)
        or (m.kind == STREET_KIND and _STREET_CUE_BEFORE.search(before))
        or (_CUE_AFTER.match(reply, m.end) and not _CITING_AFTER.match(reply, m.end))
    )


def _handled(reply: str, mentions: list[DepartmentMention], i: int) -> bool:
    """Whether ``mentions[i]`` is named as handling the appeal.

    A handling cue around it, or around the list it heads (``转交县环保局、县畜牧局核实``:
    the first of the list counts); never when the citizen is only referred to it.
    """
    m = mentions[i]
    if _REFERRAL_BEFORE.search(reply[max(0, m.start - 2) : m.start]):
        return False
    if _cued(reply, m):
        return True
    j = i
    while j + 1 < len(mentions) and _LIST_JOIN.fullmatch(
        reply[mentions[j].end : mentions[j + 1].start]
    ):
        j += 1
        if _cued(reply, mentions[j]):
            return True
    return False


def _directed(reply: str, mentions: list[DepartmentMention], i: int) -> DepartmentMention:
    """The department ``mentions[i]`` directs right away (责成/要求/安排 …), else itself."""
    m = mentions[i]
    if i + 1 < len(mentions):
        nxt = mentions[i + 1]
        gap = reply[m.end : nxt.start]
        if len(gap) <= 12 and not _SENTENCE_END.search(gap) and _DIRECTS_AFTER.search(gap):
            return nxt
    return m


def _cited(reply: str, mention: DepartmentMention) -> bool:
    """Whether the reply names this department as the author of a rule or document."""
    before = reply[max(0, mention.start - 6) : mention.start]
    return bool(_CITING_BEFORE.search(before) or _CITING_AFTER.match(reply, mention.end))


def _can_handle(mention: DepartmentMention, catalogue: Catalogue, reply: str = "") -> bool:
    if mention.level == "province" or mention.kind == catalogue.centre_department.kind:
        return False
    if mention.kind == STREET_KIND and (
        _LOCATION_BEFORE.search(reply[max(0, mention.start - 8) : mention.start])
        or _LOCATION_AFTER.match(reply, mention.end)
    ):
        return False
    return not (mention.kind == GOVERNMENT_KIND and mention.level == "city")


def normalise_name(name: str, catalogue: Catalogue) -> str | None:
    """The kind key (``zjj`` …) a single department name stands for, or ``None``.

    ``A2区住建局`` and ``A2区住房和城乡建设局`` both give ``zjj``: the longest alias
    found at the end of the name decides.
    """
    _, alias_kind = _alias_pattern(catalogue)
    for alias in sorted(alias_kind, key=len, reverse=True):
        if name.endswith(alias):
            return alias_kind[alias]
    return None


def mine_names(texts: Iterable[str]) -> Counter[str]:
    """Count every token that looks like a department name in ``texts`` (open-ended).

    Self references (我局, 该公司) are dropped and leading function words (经, 由, 根据 …)
    stripped, so the counts can be read as "how often replies name this department".
    """
    counts: Counter[str] = Counter()
    for text in texts:
        for m in _ORG_NAME.finditer(_QUOTED.sub(" ", text or "")):
            name = _MINED_NOISE.sub("", m.group(1))
            if len(name) >= 3 and not _SELF.search(name):
                counts[name] += 1
    return counts
