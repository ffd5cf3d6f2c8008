import numpy as np
import pytest
import scipy.sparse as sp

from understand.features import AppealFeaturizer, prepare


@pytest.fixture(scope="module")
def features(small_rows):
    docs = [prepare(r.subject, r.detail) for r in small_rows]
    X = AppealFeaturizer(taxonomy_weight=0.3).fit_transform(docs)
    X.sum_duplicates()
    return X, np.array([r.label for r in small_rows])


def test_nbsvm_weights_are_linear_in_the_unscaled_features(features):
    from sklearn.svm import LinearSVC

    from understand.estimators import NBSVM

    X, y = features
    model = NBSVM(C=0.5, alpha=1.0).fit(X, y)
    assert model.coef_.shape == (len(model.classes_), X.shape[1])
    # class 0 by hand: NB log-count ratio, SVM on the scaled features, balanced rows
    c = model.classes_[0]
    present = (X > 0).astype(np.float64)
    p = 1 + np.asarray(present[y == c].sum(axis=0)).ravel()
    q = 1 + np.asarray(present[y != c].sum(axis=0)).ravel()
    ratio = np.log((p / p.sum()) / (q / q.sum()))
    weights = np.array([len(y) / (7 * (y == label).sum()) for label in y])
    svm = LinearSVC(C=0.5).fit(X @ sp.diags(ratio), (y == c).astype(int), sample_weight=weights)
    np.testing.assert_allclose(
        model.decision_function(X)[:, 0], svm.decision_function(X @ sp.diags(ratio)), atol=1e-4
    )
    assert (model.predict(X) == y).mean() > 0.95  # it fits its training data


def test_complement_nb_keeps_sklearn_decisions_with_centred_scores(features):
    from sklearn.naive_bayes import ComplementNB

    from understand.estimators import ComplementNaiveBayes

    X, y = features
    model = ComplementNaiveBayes(alpha=0.03).fit(X, y)
    reference = ComplementNB(alpha=0.03, norm=True).fit(X, y)
    assert (model.predict(X) == reference.predict(X)).all()
    np.testing.assert_allclose(model.coef_.sum(axis=0), 0, atol=1e-9)


def test_compact_model_averages_several_calibrated_models(features):
    from sklearn.calibration import CalibratedClassifierCV

    from understand.estimators import NBSVM, ComplementNaiveBayes
    from understand.linear import LinearCalibrated

    X, y = features
    fitted = [
        CalibratedClassifierCV(est, method="sigmoid", cv=3, ensemble=False).fit(X, y)
        for est in (NBSVM(), ComplementNaiveBayes())
    ]
    compact = LinearCalibrated.from_sklearn(*fitted)
    assert compact.n_members == 2
    expected = (fitted[0].predict_proba(X) + fitted[1].predict_proba(X)) / 2
    # float16 weights: within 2e-3 of scikit-learn's probabilities
    np.testing.assert_allclose(compact.predict_proba(X), expected, atol=2e-3)
    with pytest.raises(ValueError, match="no calibrated"):
        LinearCalibrated.from_sklearn()


def test_fit_model_uses_the_named_models(small_rows):
    from understand.training import fit_model

    docs = [prepare(r.subject, r.detail) for r in small_rows[::4]]
    labels = [r.label for r in small_rows[::4]]
    single = fit_model(docs, labels, {"models": ("svm",)})
    assert single.estimator.n_members == 1
    with pytest.raises(ValueError, match="unknown model kind"):
        fit_model(docs, labels, {"models": ("forest",)})
