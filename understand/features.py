"""From appeal text to the sparse feature matrix the classifier reads.

Three TF-IDF blocks, stacked side by side:

* character n-grams of the whole text (robust to jieba's mistakes, typos, masked names),
* character n-grams of the subject again, weighted: the subject states the problem,
  the detail is often narrative,
* jieba words and word bigrams (stop words removed).

Segmentation happens once, in :func:`prepare_many`; the vectorizers reuse the tokens.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import TfidfVectorizer

from understand import segment
from understand.text_normalise import DEFAULT_MAX_CHARS, cjk_count, prepare_text


@dataclass(frozen=True, slots=True)
class PreparedAppeal:
    """An appeal after normalisation and segmentation: the input of every model."""

    subject: str
    body: str  # subject + detail, normalised and truncated
    tokens: list[str]  # jieba content words of ``body``
    cjk_chars: int  # Chinese characters in ``body``; 0 means nothing to classify


def prepare(
    subject: str | None, detail: str | None, max_chars: int = DEFAULT_MAX_CHARS
) -> PreparedAppeal:
    """Normalise and segment one appeal."""
    subj, body = prepare_text(subject, detail, max_chars)
    return PreparedAppeal(subj, body, segment.tokenize(body), cjk_count(body))


def prepare_many(
    items: Iterable[tuple[str | None, str | None]], max_chars: int = DEFAULT_MAX_CHARS
) -> list[PreparedAppeal]:
    """:func:`prepare` for each ``(subject, detail)`` pair."""
    return [prepare(s, d, max_chars) for s, d in items]


def word_ngrams(tokens: Sequence[str]) -> list[str]:
    """Word unigrams and bigrams (module-level so the fitted vectorizer pickles)."""
    return list(tokens) + [f"{a}_{b}" for a, b in zip(tokens, tokens[1:], strict=False)]


class AppealFeaturizer(TransformerMixin, BaseEstimator):
    """TF-IDF features of :class:`PreparedAppeal` lists (see module docstring)."""

    def __init__(
        self,
        char_ngrams: tuple[int, int] = (1, 3),
        subject_weight: float = 0.6,
        word_weight: float = 0.8,
        min_df: int = 2,
        max_features: int | None = 200_000,
    ):
        self.char_ngrams = char_ngrams
        self.subject_weight = subject_weight
        self.word_weight = word_weight
        self.min_df = min_df
        self.max_features = max_features

    def _char(self) -> TfidfVectorizer:
        return TfidfVectorizer(
            analyzer="char",
            ngram_range=self.char_ngrams,
            sublinear_tf=True,
            min_df=self.min_df,
            max_features=self.max_features,
            lowercase=True,
            dtype=np.float32,
        )

    def fit(self, docs: Sequence[PreparedAppeal], y=None, extra_docs=None):
        """Fit the vocabularies and IDF weights."""
        self.body_ = self._char().fit([d.body for d in docs])
        self.subject_ = self._char().fit([d.subject for d in docs])
        self.words_ = None
        if self.word_weight > 0:
            self.words_ = TfidfVectorizer(
                analyzer=word_ngrams,
                sublinear_tf=True,
                min_df=self.min_df,
                max_features=self.max_features,
                dtype=np.float32,
            ).fit([d.tokens for d in docs])
        return self

    def transform(self, docs: Sequence[PreparedAppeal]) -> sp.csr_matrix:
        """Stacked, weighted TF-IDF blocks, one row per appeal."""
        blocks = [
            self.body_.transform([d.body for d in docs]),
            self.subject_.transform([d.subject for d in docs]) * self.subject_weight,
        ]
        if self.words_ is not None:
            blocks.append(self.words_.transform([d.tokens for d in docs]) * self.word_weight)
        return sp.hstack(blocks, format="csr")
