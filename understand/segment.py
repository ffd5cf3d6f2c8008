"""Chinese word segmentation: jieba with the 12345 dictionary, accelerated where possible.

jieba's output is the reference. The classifier segments with ``HMM=False`` (jieba's
dictionary path: no guessing of unknown words, and deterministic). That path runs in C++
when the optional ``jieba-fast-dat`` package is installed: its double-array trie and
dynamic programme (:func:`_get_DAG_and_calc`) compute the same best route as jieba's
``calc``, and the word assembly around it (blocks, runs of Latin letters and digits) is
jieba's own logic, reproduced here. The trie is built from the reference tokenizer's own
frequency table, so both always share one dictionary. ``jieba-fast-dat``'s own ``lcut`` is
*not* used: it breaks exact ties (掏心掏肺, 太太太) differently from jieba. Equality with
jieba was checked on every text of the shared data (``tests/unit/understand/test_segment``
re-checks a sample); without the package, or for ``HMM=True``, jieba itself runs.

Tokenizers are built lazily on first use (~0.7 s) and shared; one thread per process.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable
from functools import lru_cache
from importlib import resources

_lock = threading.Lock()
_tokenizer = None
_fast = None  # _FastCutter, False when unavailable
# Tokens worth keeping as features: at least one Chinese char, letter or digit.
_CONTENT = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fffA-Za-z0-9]")
_ONLY_DIGITS = re.compile(r"^[0-9.]+$")
# jieba's own block patterns (jieba.re_han_default, re_skip_default, re_eng).
_RE_HAN = re.compile(r"([\u4E00-\u9FD5a-zA-Z0-9+#&\._%\-]+)")
_RE_SKIP = re.compile(r"(\r\n|\s)")
# Content chars that jieba's blocks do not take: they come out one char per token.
_OUTSIDE_BLOCKS = re.compile(r"[\u3400-\u4dbf\u9fd6-\u9fff]")
_NOT_HAN = re.compile(r"[^\u4E00-\u9FD5]")
_ENG = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")


def _data_path(name: str):
    return resources.files("understand.data").joinpath(name)


def get_tokenizer():
    """The process-wide jieba tokenizer with the domain dictionary loaded (the reference)."""
    global _tokenizer
    if _tokenizer is None:
        with _lock:
            if _tokenizer is None:
                import jieba

                jieba.setLogLevel(logging.WARNING)
                tok = jieba.Tokenizer()
                tok.initialize()
                with resources.as_file(_data_path("domain_dict.txt")) as path:
                    tok.load_userdict(str(path))
                _tokenizer = tok
    return _tokenizer


class _FastCutter:
    """jieba's ``cut(text, HMM=False)`` with the DAG and route computed in C++."""

    def __init__(self, reference):
        import jieba_fast_dat._jieba_fast_dat_functions_py3 as native

        self._calc = native._get_DAG_and_calc
        self.dat = native.DatTrie()
        # jieba keeps prefixes of words with frequency 0; they are not words.
        self.dat.build([(w, f) for w, f in reference.FREQ.items() if f > 0])
        self.total = float(reference.total)

    def cut(self, text: str) -> list[str]:
        out: list[str] = []
        append = out.append
        calc, dat, total, eng = self._calc, self.dat, self.total, _ENG
        for i, part in enumerate(_RE_HAN.split(text)):
            if not part:
                continue
            if not i & 1:  # between blocks: spaces and punctuation, one char each
                if "\r\n" in part:
                    for x in _RE_SKIP.split(part):
                        if _RE_SKIP.match(x):
                            append(x)
                        else:
                            out.extend(x)
                else:
                    out.extend(part)
                continue
            n = len(part)
            if n == 1:
                append(part)
                continue
            route: list[int] = []
            calc(dat, part, route, total)
            x = 0
            buf = ""
            while x < n:
                y = route[x] + 1
                if y == x + 1 and part[x] in eng:
                    buf += part[x]
                else:
                    if buf:
                        append(buf)
                        buf = ""
                    append(part[x:y])
                x = y
            if buf:
                append(buf)
        return out

    def content(self, text: str, stops: frozenset[str]) -> list[str]:
        """``content_tokens(self.cut(text))`` in one pass (the classifier's hot path)."""
        out: list[str] = []
        append = out.append
        calc, dat, total, eng = self._calc, self.dat, self.total, _ENG
        parts = _RE_HAN.split(text)  # odd items: jieba's blocks; even: what lies between
        if _OUTSIDE_BLOCKS.search(text) is not None and any(
            _CONTENT.search(p) is not None for p in parts[0::2]
        ):  # a Chinese char outside the blocks (CJK extension A): take the general path
            return content_tokens(self.cut(text))
        for part in parts[1::2]:
            n = len(part)
            if n == 1:
                if part not in stops and _keep(part):
                    append(part)
                continue
            route: list[int] = []
            calc(dat, part, route, total)
            x = 0
            if _NOT_HAN.search(part) is None:  # Chinese only (most blocks): all content
                while x < n:
                    y = route[x] + 1
                    w = part[x:y]
                    if w not in stops:
                        append(w)
                    x = y
                continue
            buf = ""
            while x < n:
                y = route[x] + 1
                if y == x + 1 and part[x] in eng:
                    buf += part[x]
                else:
                    if buf:
                        if buf not in stops and _keep(buf):
                            append(buf)
                        buf = ""
                    w = part[x:y]
                    if w not in stops and ("\u4e00" <= w[0] <= "\u9fff" or _keep(w)):
                        append(w)
                x = y
            if buf and buf not in stops and _keep(buf):
                append(buf)
        return out


def _keep(token: str) -> bool:
    """Has a Chinese char, letter or digit, and is not a bare number."""
    return _CONTENT.search(token) is not None and _ONLY_DIGITS.match(token) is None


def _fast_cutter() -> _FastCutter | None:
    global _fast
    if _fast is None:
        ref = get_tokenizer()
        with _lock:
            if _fast is None:
                try:
                    _fast = _FastCutter(ref)
                except ImportError:
                    _fast = False
    return _fast or None


def accelerated() -> bool:
    """Whether the C++ path is in use (``jieba-fast-dat`` installed)."""
    return _fast_cutter() is not None


@lru_cache(maxsize=1)
def stop_words() -> frozenset[str]:
    """Function words and politeness formulas that carry no category signal."""
    text = _data_path("stop_words.txt").read_text("utf-8")
    return frozenset(w.strip() for w in text.splitlines() if w.strip())


def cut_reference(text: str, hmm: bool = False) -> list[str]:
    """jieba's own tokens of ``text`` (always the pure-Python reference)."""
    return get_tokenizer().lcut(text, HMM=hmm)


def cut(text: str, hmm: bool = False) -> list[str]:
    """Raw jieba tokens of ``text`` (punctuation and spaces included), as jieba returns them."""
    if not hmm:
        fast = _fast_cutter()
        if fast is not None:
            return fast.cut(text)
    return cut_reference(text, hmm)


def content_tokens(tokens: Iterable[str]) -> list[str]:
    """Drop stop words, punctuation, spaces and bare numbers from raw tokens."""
    stops = stop_words()
    return [t for t in tokens if t not in stops and ("\u4e00" <= t[0] <= "\u9fff" or _keep(t))]


def tokenize(text: str, hmm: bool = False) -> list[str]:
    """Content words of ``text``: jieba tokens without stop words and punctuation."""
    if not hmm:
        fast = _fast_cutter()
        if fast is not None:
            return fast.content(text, stop_words())
    return content_tokens(cut_reference(text, hmm))
