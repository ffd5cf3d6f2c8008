"""A compact, pickle-small copy of fitted calibrated linear classifiers for inference.

Training uses scikit-learn's ``CalibratedClassifierCV(<linear model>, method="sigmoid")``,
one or several of them (see :mod:`understand.estimators`); the artifact keeps only what
prediction needs: the stacked weight matrices of their calibrated members (float32), their
intercepts and the per-class sigmoid parameters. :meth:`LinearCalibrated.predict_proba`
reproduces scikit-learn's probabilities (one-vs-rest sigmoids, normalised to sum 1,
averaged over members), and the average of several calibrated models' probabilities.
"""

from __future__ import annotations

import numpy as np


class LinearCalibrated:
    """Sigmoid-calibrated one-vs-rest linear scores, averaged over calibration members."""

    def __init__(self, classes, coef, intercept, a, b):
        self.classes_ = np.asarray(classes)
        # (features, members * classes). Weights are rounded to float16 (3 significant
        # digits: probabilities move by < 1e-3) so the artifact stores them in half the
        # space and the loaded model predicts exactly like the one trained.
        self.coef = np.ascontiguousarray(np.asarray(coef, dtype=np.float16), dtype=np.float32)
        self.intercept = np.asarray(intercept, dtype=np.float64)  # (members*classes,)
        self.a = np.asarray(a, dtype=np.float64)
        self.b = np.asarray(b, dtype=np.float64)

    @classmethod
    def from_sklearn(cls, *calibrated) -> LinearCalibrated:
        """Extract the members of fitted ``CalibratedClassifierCV`` s over linear models.

        With several, :meth:`predict_proba` is the mean of their probabilities (weighted
        by how many members each has: one each with ``ensemble=False``).
        """
        if not calibrated:
            raise ValueError("no calibrated classifier given")
        classes = calibrated[0].classes_
        coefs, intercepts, a, b = [], [], [], []
        for model in calibrated:
            if list(model.classes_) != list(classes):
                raise ValueError("every calibrated classifier must have the same classes")
            for member in model.calibrated_classifiers_:
                est = member.estimator
                if list(est.classes_) != list(classes) or len(member.calibrators) != len(classes):
                    raise ValueError("every calibration member must have seen every class")
                coefs.append(est.coef_)
                intercepts.append(est.intercept_)
                a += [c.a_ for c in member.calibrators]
                b += [c.b_ for c in member.calibrators]
        return cls(classes, np.vstack(coefs).T, np.concatenate(intercepts), a, b)

    def __getstate__(self):
        state = dict(self.__dict__)
        state["coef"] = self.coef.astype(np.float16)
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self.coef = np.ascontiguousarray(self.coef, dtype=np.float32)

    @property
    def n_members(self) -> int:
        return len(self.intercept) // len(self.classes_)

    def decision_function(self, X) -> np.ndarray:
        """Raw linear scores, shape ``(n, members * classes)``."""
        return np.asarray(X @ self.coef, dtype=np.float64) + self.intercept

    def predict_proba(self, X) -> np.ndarray:
        k = len(self.classes_)
        scores = self.decision_function(X)
        proba = 1.0 / (1.0 + np.exp(self.a * scores + self.b))
        out = np.zeros((scores.shape[0], k))
        for m in range(self.n_members):
            p = proba[:, m * k : (m + 1) * k]
            denom = p.sum(axis=1, keepdims=True)
            out += np.divide(p, denom, out=np.full_like(p, 1 / k), where=denom != 0)
        out /= self.n_members
        out[(out > 1.0) & (out <= 1.0 + 1e-5)] = 1.0
        return out
