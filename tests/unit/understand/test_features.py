import numpy as np
import scipy.sparse as sp

from understand.features import (
    AppealFeaturizer,
    _merge_rows,
    char_ngram_buckets,
    prepare,
    word_ngram_buckets,
)


def test_merge_rows_equals_summed_coo():
    rng = np.random.default_rng(0)
    blocks = []
    for n_cols in (5, 7, 3):
        rows = np.sort(rng.integers(0, 6, 30))
        blocks.append((rows, rng.integers(0, n_cols, 30), rng.random(30).astype(np.float32)))
    merged = _merge_rows(
        [b[0] for b in blocks], [b[1] for b in blocks], [b[2] for b in blocks], 6, 7
    )
    expected = sp.coo_matrix(
        (
            np.concatenate([b[2] for b in blocks]),
            (np.concatenate([b[0] for b in blocks]), np.concatenate([b[1] for b in blocks])),
        ),
        shape=(6, 7),
    ).toarray()
    np.testing.assert_allclose(merged.toarray(), expected, rtol=1e-6)


def test_char_ngrams_stay_inside_their_text_and_are_deterministic():
    rows, buckets = char_ngram_buckets(["ab", "", "abc"], (1, 3), 11, 20)
    # "ab": a, b, ab; "abc": a, b, c, ab, bc, abc; nothing spans the texts.
    assert rows.tolist() == [0, 0, 0, 2, 2, 2, 2, 2, 2]
    # entries in text order, n-grams of one start position together: a ab b | a ab abc b bc c
    assert buckets[0] == buckets[3] and buckets[1] == buckets[4] and buckets[2] == buckets[6]
    again = char_ngram_buckets(["ab", "", "abc"], (1, 3), 11, 20)
    assert (again[1] == buckets).all()
    assert not (char_ngram_buckets(["ab"], (1, 1), 12, 20)[1] == buckets[:2]).all()


def test_word_ngrams_pair_only_words_of_one_text():
    rows, buckets = word_ngram_buckets([["物业", "收费"], [], ["物业"]], 37, 20)
    assert rows.tolist() == [0, 0, 0, 2]  # 物业, 物业_收费, 收费 | 物业
    assert buckets[0] == buckets[3]


def test_sublinear_tfidf_is_one_plus_log_count_times_idf_per_distinct_column():
    from understand.features import HashedTfidf

    # rows sorted, as the n-gram helpers give them; columns repeat within a row
    rows = np.array([0, 0, 0, 0, 2, 2, 2, 3])
    buckets = np.array([5, 9, 5, 5, 9, 1, 9, 7])
    block = HashedTfidf(4, 1).fit(rows, buckets, 4)
    r, c, v = block.transform(rows, buckets, 4, True, 0.5)
    expected = np.zeros((4, block.n_features))
    for row in set(rows.tolist()):
        counts = np.bincount(buckets[rows == row], minlength=16)
        for bucket in np.flatnonzero(counts):
            col = int(np.flatnonzero(block.columns_ == bucket)[0])
            expected[row, col] = (1 + np.log(counts[bucket])) * block.idf_[col]
        expected[row] *= 0.5 / np.linalg.norm(expected[row])
    got = np.zeros_like(expected)
    np.add.at(got, (r, c), v)
    np.testing.assert_allclose(got, expected, rtol=1e-6)
    assert len(set(zip(r.tolist(), c.tolist(), strict=True))) == len(r)  # one entry each
    assert (np.diff(r) >= 0).all() and c.dtype == np.int32


def test_batch_rows_equal_single_rows(small_rows):
    docs = [prepare(r.subject, r.detail) for r in small_rows[:60]]
    for sublinear in (False, True):
        featurizer = AppealFeaturizer(taxonomy_weight=0.5, sublinear_tf=sublinear).fit(docs)
        batch = featurizer.transform(docs).toarray()
        for i in (0, 17, 59):
            np.testing.assert_allclose(
                featurizer.transform([docs[i]]).toarray()[0], batch[i], rtol=1e-6
            )
    # with sublinear tf each block is l2-normalised, then weighted: 1, 0.6, 0.8, 0.5
    norms = np.linalg.norm(batch, axis=1)
    assert norms.max() <= np.sqrt(1 + 0.36 + 0.64 + 0.25) + 1e-5 and norms.min() > 1


def test_compact_model_reproduces_sklearn_probabilities(small_rows):
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.svm import LinearSVC

    from understand.linear import LinearCalibrated

    docs = [prepare(r.subject, r.detail) for r in small_rows]
    X = AppealFeaturizer().fit_transform(docs)
    X.sum_duplicates()
    y = [r.label for r in small_rows]
    for ensemble in (True, False):
        clf = CalibratedClassifierCV(LinearSVC(C=0.5), method="sigmoid", cv=3, ensemble=ensemble)
        clf.fit(X, y)
        compact = LinearCalibrated.from_sklearn(clf)
        # weights are kept as float16: probabilities within 2e-3 of scikit-learn's
        np.testing.assert_allclose(compact.predict_proba(X), clf.predict_proba(X), atol=2e-3)
        exact = LinearCalibrated.from_sklearn(clf)
        exact.coef = np.vstack([m.estimator.coef_ for m in clf.calibrated_classifiers_]).T.astype(
            np.float32
        )
        np.testing.assert_allclose(exact.predict_proba(X), clf.predict_proba(X), atol=1e-5)
        assert list(compact.classes_) == list(clf.classes_)


def test_taxonomy_block_survives_pickling(small_rows):
    import pickle

    docs = [prepare(r.subject, r.detail) for r in small_rows[:60]]
    featurizer = AppealFeaturizer(taxonomy_weight=0.5).fit(docs)
    back = pickle.loads(pickle.dumps(featurizer))
    assert "_keywords" not in pickle.dumps(featurizer.taxonomy_).decode("latin-1")
    assert (back.transform(docs) != featurizer.transform(docs)).nnz == 0
    assert featurizer.taxonomy_.transform([d.tokens for d in docs], 1.0)[0].size > 0


_TAXONOMY_COLUMNS = """
import json
from understand.features import TaxonomyBlock
block = TaxonomyBlock()
words = sorted(block.words)
tokens = [words[i] for i in range(0, len(words), max(1, len(words) // 40))]
rows, cols, vals = block.transform([tokens, tokens[::-1]], 1.0)
print(json.dumps([cols.tolist(), vals.tolist()]))
"""


def test_taxonomy_columns_come_in_one_order_whatever_the_string_hash(labelled):
    """Two workers (two hash seeds) give the same entries in the same order: an order
    that follows the hash moves probabilities by ~1e-7 from one worker to the next."""
    import json
    import os
    import subprocess
    import sys

    outputs = []
    for seed in ("1", "2", "3"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        run = subprocess.run([sys.executable, "-c", _TAXONOMY_COLUMNS], env=env,
                             capture_output=True, text=True, check=True)  # fmt: skip
        outputs.append(run.stdout)
    cols = json.loads(outputs[0])[0]
    half = len(cols) // 2  # both rows hold the same keywords
    assert half > 5 and cols == sorted(cols[:half]) + sorted(cols[half:])
    assert outputs[0] == outputs[1] == outputs[2]
