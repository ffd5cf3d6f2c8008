"""The two linear learners the category model averages (training only; needs scikit-learn).

Both end up as a plain weight matrix ``coef_`` (classes x features) and ``intercept_``, so
:class:`understand.linear.LinearCalibrated` stores and applies them like any linear model:
inference stays one sparse-dense product, whatever learned the weights.

* :class:`NBSVM`: a linear SVM over features scaled by naive-Bayes log-count ratios
  (Wang & Manning 2012, "Baselines and bigrams"). A word or n-gram that is much more
  frequent in one category than in the others gets a larger value before the SVM sees it,
  so the SVM leans on discriminative n-grams and needs less data to trust them. One binary
  SVM per category (one-vs-rest); since ``(x * r) @ w == x @ (r * w)`` the learned model is
  linear in the unscaled features.
* :class:`ComplementNaiveBayes`: complement naive Bayes (Rennie et al. 2003) over the same
  features, whose scores are also linear. Its errors differ from the SVM's (a generative
  model that counts evidence instead of a margin that weighs it), which is what makes
  averaging the two calibrated models better than either alone.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin


def _balanced_weights(y: np.ndarray, classes: np.ndarray) -> np.ndarray:
    """``n / (k * n_c)`` per row: every category weighs the same in total (as
    ``class_weight="balanced"`` of a multi-class scikit-learn model)."""
    counts = {c: int((y == c).sum()) for c in classes}
    return np.array([len(y) / (len(classes) * counts[c]) for c in y], dtype=np.float64)


class _LinearScores(ClassifierMixin, BaseEstimator):
    """``decision_function`` and ``predict`` of a fitted ``coef_`` / ``intercept_``."""

    def decision_function(self, X) -> np.ndarray:
        return np.asarray(X @ self.coef_.T) + self.intercept_

    def predict(self, X) -> np.ndarray:
        return self.classes_[self.decision_function(X).argmax(axis=1)]


class NBSVM(_LinearScores):
    """One-vs-rest linear SVMs over naive-Bayes-scaled features (NB-SVM).

    For category ``c`` the ratio ``r = log((p / |p|_1) / (q / |q|_1))`` compares how many
    appeals of ``c`` (``p``) and of the other categories (``q``) contain each feature, with
    ``alpha`` added to every count; the SVM learns ``w`` on ``X * r`` and the model keeps
    ``r * w``. Rows are weighted so that each category counts the same (the small ones,
    交通运输 and 环境保护, matter as much to macro-F1 as the large ones).
    """

    def __init__(self, C: float = 0.5, alpha: float = 1.0):
        self.C = C
        self.alpha = alpha

    def fit(self, X, y, sample_weight=None) -> NBSVM:
        from sklearn.svm import LinearSVC

        X = sp.csr_matrix(X)
        y = np.asarray(y)
        self.classes_ = np.unique(y)
        weights = _balanced_weights(y, self.classes_)
        if sample_weight is not None:
            weights = weights * np.asarray(sample_weight, dtype=np.float64)
        present = X.copy()
        present.data = np.ones_like(present.data)
        coefs, intercepts = [], []
        for c in self.classes_:
            positive = y == c
            p = self.alpha + np.asarray(present[positive].sum(axis=0)).ravel()
            q = self.alpha + np.asarray(present[~positive].sum(axis=0)).ravel()
            ratio = np.log((p / p.sum()) / (q / q.sum()))
            svm = LinearSVC(C=self.C)
            svm.fit(X @ sp.diags(ratio), positive.astype(np.int8), sample_weight=weights)
            coefs.append(ratio * svm.coef_.ravel())
            intercepts.append(svm.intercept_[0])
        self.coef_ = np.vstack(coefs)
        self.intercept_ = np.asarray(intercepts)
        return self


class ComplementNaiveBayes(_LinearScores):
    """scikit-learn's ``ComplementNB`` (with weight normalisation) as a linear scorer.

    The class weights are centred across classes: that subtracts the same amount from every
    class score of an appeal (argmax unchanged) and removes the part that only grows with
    the length of the text, so per-class sigmoid calibration can read the scores. ``alpha``
    is small because the features are TF-IDF values of l2-normalised rows, not counts.
    """

    def __init__(self, alpha: float = 0.03):
        self.alpha = alpha

    def fit(self, X, y, sample_weight=None) -> ComplementNaiveBayes:
        from sklearn.naive_bayes import ComplementNB

        nb = ComplementNB(alpha=self.alpha, norm=True).fit(X, y, sample_weight=sample_weight)
        self.classes_ = nb.classes_
        self.coef_ = nb.feature_log_prob_ - nb.feature_log_prob_.mean(axis=0)
        self.intercept_ = np.zeros(len(self.classes_))
        return self
