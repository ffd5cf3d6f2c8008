"""Turning raw appeal text into the canonical form every other step reads.

Citizens type full-width digits, traditional characters (Hong Kong / Taiwan input methods,
older phones), emoji and sometimes paste whole documents. Everything downstream (jieba,
the char n-gram model, the keyword matchers) sees text after :func:`normalise`.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from importlib import resources

#: Defaults sized on the labelled data: the median appeal is ~240 chars, the longest ~4,300;
#: the first ~1,000 chars carry the problem, the rest is mostly narrative and quotes.
DEFAULT_MAX_CHARS = 1000
#: A title longer than this is really the body pasted into the title field.
MAX_SUBJECT_CHARS = 60

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")
_NON_CJK = re.compile(r"[^\u3400-\u4dbf\u4e00-\u9fff]+")
_SPACES = re.compile(r"\s+")
# Excel's escaped carriage return, left in exported mailbox data.
_EXCEL_CR = re.compile(r"_x000[dD]_")
#: Variation selectors pick a glyph (an emoji's style, an ideograph's variant) and change no
#: word; inside one (噪\ufe0f音) they split it for jieba and the keyword matchers.
_VARIATION_SELECTORS = re.compile("[\ufe00-\ufe0f\U000e0100-\U000e01ef]")
# Where the subject of a joined "subject+detail" string most likely ends.
_CLAUSE_END = re.compile(r"[，。！？；：,!?;:\s]")


@lru_cache(maxsize=1)
def _t2s_table() -> dict[int, str]:
    """Traditional→simplified single-character table (derived from OpenCC's t2s, Apache-2.0)."""
    text = resources.files("understand.data").joinpath("t2s_chars.txt").read_text("utf-8")
    return {ord(line[0]): line[1] for line in text.splitlines() if len(line) == 2}


@lru_cache(maxsize=1)
def _traditional() -> re.Pattern[str]:
    """One character class of every traditional character in the table."""
    return re.compile("[" + "".join(re.escape(chr(c)) for c in sorted(_t2s_table())) + "]")


@lru_cache(maxsize=1)
def _nfkc_patterns() -> tuple[re.Pattern[str], re.Pattern[str]]:
    """``(changed, context)``: runs of BMP chars that NFKC changes; chars that make NFKC
    depend on their neighbours (combining marks, second halves of canonical compositions,
    changed chars whose decomposition starts with one) or are outside the BMP."""
    changed: list[str] = []
    context = {chr(cp) for cp in range(0x1100, 0x1200)}  # conjoining Hangul jamo
    for cp in range(0x20, 0x10000):
        if 0xD800 <= cp < 0xE000:
            continue
        c = chr(cp)
        if unicodedata.combining(c):
            context.add(c)
        decomposition = unicodedata.decomposition(c).split()
        if len(decomposition) == 2 and not decomposition[0].startswith("<"):
            context.add(chr(int(decomposition[1], 16)))  # may compose with what precedes
        if unicodedata.normalize("NFKC", c) != c:
            changed.append(c)
            first = unicodedata.normalize("NFKD", c)[:1]
            if first and (unicodedata.combining(first) or first in context):
                context.add(c)
    cls = "".join(re.escape(c) for c in sorted(context))
    return (
        re.compile("[" + "".join(re.escape(c) for c in changed) + "]+"),
        re.compile("[" + cls + "\U00010000-\U0010ffff]"),
    )


#: The full-width punctuation of nearly every appeal and its NFKC form.
_COMMON_FULL_WIDTH = tuple((c, unicodedata.normalize("NFKC", c)) for c in "，？！：（）；")


@lru_cache(maxsize=4096)
def _nfkc_run(run: str) -> str:
    return unicodedata.normalize("NFKC", run)


def nfkc(text: str) -> str:
    """``unicodedata.normalize("NFKC", text)``, faster for typical appeals.

    NFKC changes only a few chars of a Chinese text (mostly full-width punctuation); when
    no char depends on its neighbours, normalising each run of changed chars on its own
    gives the same string as normalising the whole text (checked on the shared data and
    on random strings in the tests).
    """
    changed, context = _nfkc_patterns()
    if context.search(text) is not None:
        return unicodedata.normalize("NFKC", text)
    for full, ascii_ in _COMMON_FULL_WIDTH:  # ~80% of the changed chars: no callback
        if full in text:
            text = text.replace(full, ascii_)
    return changed.sub(lambda m: _nfkc_run(m.group()), text)


def without_variation_selectors(text: str) -> str:
    """``text`` without variation selectors (U+FE00–FE0F, U+E0100–E01EF)."""
    return _VARIATION_SELECTORS.sub("", text)


def to_simplified(text: str) -> str:
    """Map traditional characters to simplified ones, character by character."""
    # Most appeals have none: one character-class scan is ~10x cheaper than translate.
    if _traditional().search(text) is None:
        return text
    return text.translate(_t2s_table())


def normalise(text: str | None, max_chars: int = DEFAULT_MAX_CHARS) -> str:
    """Canonical form: NFKC (full-width → ASCII), no variation selectors, simplified
    characters, single spaces,
    truncated to ``max_chars`` (the head of the text, where the problem is stated)."""
    if not text:
        return ""
    # Truncate before the expensive steps so a pasted 1 MB document costs nothing extra.
    text = text[: max_chars * 2]
    if "_x000" in text:
        text = _EXCEL_CR.sub(" ", text)
    text = without_variation_selectors(nfkc(text))
    text = to_simplified(text)
    text = _SPACES.sub(" ", text).strip()
    return text[:max_chars]


def cjk_count(text: str) -> int:
    """How many Chinese characters ``text`` has: zero means nothing to classify."""
    return len(_NON_CJK.sub("", text))


def split_joined(joined: str, max_subject: int = 40) -> tuple[str, str]:
    """Guess ``(subject, detail)`` from a string where both were run together.

    The public copy of most labelled appeals lost the boundary; the first clause is a good
    stand-in for the subject (it is where citizens state the problem), capped at
    ``max_subject`` characters.
    """
    match = _CLAUSE_END.search(joined, 0, max_subject + 1)
    cut = match.start() if match else min(len(joined), max_subject)
    return joined[:cut], joined


def prepare_text(
    subject: str | None, detail: str | None, max_chars: int = DEFAULT_MAX_CHARS
) -> tuple[str, str]:
    """Normalised ``(subject, body)`` for one appeal; body starts with the subject.

    A missing subject is guessed from the detail (see :func:`split_joined`); an over-long
    subject is treated as body text.
    """
    subject_n = normalise(subject, MAX_SUBJECT_CHARS * 4)
    detail_n = normalise(detail, max_chars)
    if len(subject_n) > MAX_SUBJECT_CHARS:
        detail_n = normalise(f"{subject_n} {detail_n}", max_chars)
        subject_n = ""
    if not subject_n:
        subject_n, body = split_joined(detail_n)
        return subject_n, body
    return subject_n, f"{subject_n}。{detail_n}"[:max_chars]
