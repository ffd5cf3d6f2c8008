"""A learned second opinion on emergencies: "this reads like a call for help".

The rules (:mod:`understand.emergency`) flag the wordings they were written for and miss
most others: on calls for help written after them they flagged 13 of 30
(``bench/emergency_heldout.py``). This model scores how much the head of an appeal reads
like a call for help, from character 1-3-grams (hashed TF-IDF, :mod:`understand.features`)
and a logistic regression trained on hand-written calls and look-alike complaints
(``data/emergency_calls.toml``) plus the training appeals, which are complaints. It names
no reason and no service, so its verdict is not a transfer: an appeal it flags and the
rules do not goes to human review first, with the emergency's shorter review wait
(``possible_emergency``), and a person decides.

Only the head is read (:data:`HEAD_CHARS`): a call for help says what is wrong first, and a
long complaint's story further down ("去年着火了…") is what the rules' exclusions are for.
"""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from importlib import resources

import numpy as np

#: The review reason of an appeal this model flags and the rules do not.
POSSIBLE_EMERGENCY = "possible_emergency"
#: Characters of subject + detail the model reads.
HEAD_CHARS = 80
_NGRAMS = (1, 3)
_SALT = 53
_BITS = 20


def training_texts() -> tuple[list[str], list[str]]:
    """The hand-written ``(calls, look_alikes)`` of ``data/emergency_calls.toml``."""
    raw = resources.files("understand").joinpath("data/emergency_calls.toml").read_bytes()
    data = tomllib.loads(raw.decode("utf-8"))
    return list(data["calls"]), list(data["look_alikes"])


class EmergencyModel:
    """Probability that a text head is a call for help (fitted by :meth:`fit`)."""

    def __init__(self, C: float = 4.0, min_df: int = 1):
        self.C = C
        self.min_df = min_df

    def _matrix(self, rows, buckets, n: int):
        """The TF-IDF matrix of ``n`` text heads' n-gram ``(rows, buckets)``."""
        import scipy.sparse as sp

        r, c, v = self.tfidf_.transform(rows, buckets, n, True, 1.0)
        return sp.csr_matrix((v, (r, c)), shape=(n, self.tfidf_.n_features))

    def fit(self, heads: Sequence[str], labels: Sequence[int]) -> EmergencyModel:
        """Fit on normalised text heads, label 1 for a call for help."""
        from sklearn.linear_model import LogisticRegression

        # imported here: review tools import this module for POSSIBLE_EMERGENCY alone, and
        # the featurizer's module brings scikit-learn (about a second)
        from understand.features import HashedTfidf, char_ngram_buckets

        heads = [h[:HEAD_CHARS] for h in heads]
        rows, buckets = char_ngram_buckets(heads, _NGRAMS, _SALT, _BITS)
        self.tfidf_ = HashedTfidf(_BITS, self.min_df).fit(rows, buckets, len(heads))
        # balanced: a few hundred calls against thousands of complaints
        lr = LogisticRegression(C=self.C, class_weight="balanced", max_iter=3000)
        lr.fit(self._matrix(rows, buckets, len(heads)), np.asarray(labels))
        self.coef_ = lr.coef_[0].astype(np.float32)
        self.intercept_ = float(lr.intercept_[0])
        self.n_calls_ = int(np.count_nonzero(labels))
        self.n_other_ = len(heads) - self.n_calls_
        return self

    def score(self, heads: Sequence[str]) -> np.ndarray:
        """Probability of a call for help for each normalised text (its head is read).

        The rows of ``self._matrix(…) @ self.coef_``, summed with ``bincount`` instead of
        a sparse matrix built per call (~40 µs, paid on every batch).
        """
        from understand.features import char_ngram_buckets

        n = len(heads)
        if not n:
            return np.zeros(0)
        rows, buckets = char_ngram_buckets([h[:HEAD_CHARS] for h in heads], _NGRAMS, _SALT, _BITS)
        r, c, v = self.tfidf_.transform(rows, buckets, n, True, 1.0)
        z = np.bincount(r, weights=v * self.coef_[c], minlength=n) + self.intercept_
        return 1.0 / (1.0 + np.exp(-z))


def fit_emergency_model(complaints: Sequence[str]) -> EmergencyModel:
    """The model from the hand-written texts plus ``complaints`` (normalised appeal heads
    and subjects of the training data: none of them is a call for help)."""
    from understand.text_normalise import normalise

    calls, look_alikes = training_texts()
    heads = [normalise(t) for t in calls] + [normalise(t) for t in look_alikes]
    heads += [c for c in complaints if c]
    labels = [1] * len(calls) + [0] * (len(heads) - len(calls))
    return EmergencyModel().fit(heads, labels)
