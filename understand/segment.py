"""Chinese word segmentation: one jieba tokenizer per process, with the 12345 dictionary.

jieba's output is the reference. The tokenizer is built lazily on first use (building the
prefix dictionary takes ~0.5 s) and then shared; it is safe to call from one thread per
process, which is how faust agents run.
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
# Tokens worth keeping as features: at least one Chinese char, letter or digit.
_CONTENT = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fffA-Za-z0-9]")
_ONLY_DIGITS = re.compile(r"^[0-9.]+$")


def _data_path(name: str):
    return resources.files("understand.data").joinpath(name)


def get_tokenizer():
    """The process-wide jieba tokenizer with the domain dictionary loaded."""
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


@lru_cache(maxsize=1)
def stop_words() -> frozenset[str]:
    """Function words and politeness formulas that carry no category signal."""
    text = _data_path("stop_words.txt").read_text("utf-8")
    return frozenset(w.strip() for w in text.splitlines() if w.strip())


def cut(text: str, hmm: bool = True) -> list[str]:
    """Raw jieba tokens of ``text`` (punctuation and spaces included), as jieba returns them."""
    return get_tokenizer().lcut(text, HMM=hmm)


def content_tokens(tokens: Iterable[str]) -> list[str]:
    """Drop stop words, punctuation, spaces and bare numbers from raw tokens."""
    stops = stop_words()
    return [
        t
        for t in tokens
        if t not in stops and _CONTENT.search(t) is not None and _ONLY_DIGITS.match(t) is None
    ]


def tokenize(text: str, hmm: bool = True) -> list[str]:
    """Content words of ``text``: jieba tokens without stop words and punctuation."""
    return content_tokens(cut(text, hmm=hmm))
