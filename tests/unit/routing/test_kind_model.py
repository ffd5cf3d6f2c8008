"""The kind model: features as scikit-learn computes them, persistence, and its use in routing."""

from __future__ import annotations

import json

import numpy as np
import pytest

from routing.catalogue import load_catalogue
from routing.dispatch import MODEL_RULE_ID, Router
from routing.kind_model import PRUNE, KindModel, fit_kind_model, load_kind_model

# A toy corpus: schools → 教育 (jyj), streets and towns → 属地 (zf), and a water supplier.
_DATA = [
    ("学校乱收费", "孩子所在小学收取补课费", ["rule:jyj"], "jyj"),
    ("幼儿园收费太高", "幼儿园学费上涨", ["rule:jyj"], "jyj"),
    ("中学补课", "初中周末补课", ["rule:jyj"], "jyj"),
    ("小学入学问题", "学位不够", ["rule:jyj"], "jyj"),
    ("村里道路坑洼", "镇上村道多年未修", ["rule:jtj"], "zf"),
    ("村组公路硬化", "我们组的路是泥巴路", ["rule:jtj"], "zf"),
    ("社区门口垃圾", "社区里垃圾没人管", ["rule:cgj"], "zf"),
    ("村委会不公开账目", "村干部不公开", ["rule:zf"], "zf"),
    ("停水三天", "小区停水", ["rule:gs"], "gs"),
    ("自来水浑浊", "自来水发黄", ["rule:gs"], "gs"),
]


@pytest.fixture(scope="module")
def model() -> KindModel:
    titles, contents, tags, labels = zip(*_DATA, strict=True)
    return fit_kind_model(titles, contents, tags, labels, c=10.0, min_df=1, prune=0.0)


def test_learns_the_toy_kinds_with_probabilities(model) -> None:
    p = model.predict("小学补课收费", "学校周末补课", ["rule:jyj"])
    assert p.kind == "jyj" and 0.34 < p.probability <= 1.0
    assert model.predict("村道没人修", "村里的路", ["rule:jtj"]).kind == "zf"
    assert p.explain().startswith("model: kind jyj (p=0.")


def test_features_equal_scikit_learn_tfidf(model) -> None:
    from sklearn.feature_extraction.text import TfidfVectorizer

    titles = [t for t, *_ in _DATA]
    vec = TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True, lowercase=False)
    expected = vec.fit(titles).transform(["学校  乱收费乱收费"]).toarray()[0]
    idx, vals = model.features("学校  乱收费乱收费", "", [])
    gram_of = {j: g for g, j in model.title_vocab.items()}
    got = np.zeros(len(expected))
    for i, v in zip(idx, vals, strict=True):
        got[vec.vocabulary_[gram_of[i]]] = v
    assert np.allclose(got, expected, atol=1e-6)


def _reference_row(model, title, content, tags):
    """Features the slow, obvious way: count each n-gram, look it up, TF-IDF, L2."""
    import re
    from collections import Counter

    row = {}
    for text, vocab, offset in ((title, model.title_vocab, 0),
                                (content[:300], model.content_vocab, model.n_title)):  # fmt: skip
        text = re.sub(r"\s\s+", " ", text)
        grams = Counter(text[i : i + n] for n in (1, 2, 3) for i in range(len(text) - n + 1))
        cells = {vocab[g] + offset: c for g, c in grams.items() if g in vocab}
        vals = {j: (1 + np.log(c)) * model.idf[j] for j, c in cells.items()}
        norm = np.sqrt(sum(v * v for v in vals.values()))
        row.update({j: v / norm for j, v in vals.items()})
    for t in set(tags):
        if t in model.rule_index:
            row[model.n_text + model.rule_index[t]] = 1.0
    return row


def test_batch_features_equal_the_obvious_computation_on_real_appeals() -> None:
    from config.data import DATA_DIR
    from routing.evaluation import load_replies

    model = load_kind_model()
    assert model is not None
    cases = load_replies(DATA_DIR / "replies.csv")[:300]
    items = [
        (c.title, c.content, ["rule:zjj", "t:jyj", "unknown-tag"][: i % 4])
        for i, c in enumerate(cases)
    ]
    items.append(("", "", []))  # an empty appeal has no text features
    items.append(("A市  \t\n 噪音😀", "𠀋字符 beyond BMP", ["rule:fallback"]))
    x = model.matrix(items).toarray()
    for i, item in enumerate(items):
        expected = np.zeros(x.shape[1])
        for j, v in _reference_row(model, *item).items():
            expected[j] = v
        assert np.allclose(x[i], expected, atol=1e-5), item[0]
    assert (x[:-2] != 0).sum(axis=1).min() > 0


def test_json_round_trip_and_batch_agree(model, tmp_path) -> None:
    path = tmp_path / "m.json"
    model.save(path)
    back = KindModel.from_json(json.loads(path.read_text(encoding="utf-8")))
    items = [(t, c, tags) for t, c, tags, _ in _DATA]
    one = [model.predict(*item) for item in items]
    assert [p.kind for p in back.predict_batch(items)] == [p.kind for p in one]
    assert all(
        abs(a.probability - b.probability) < 1e-3
        for a, b in zip(one, back.predict_batch(items), strict=True)
    )


def test_missing_model_file_means_rules_only(tmp_path) -> None:
    assert load_kind_model(tmp_path / "absent.json") is None


def test_router_with_model_explains_which_side_decided(model) -> None:
    cat = load_catalogue()
    router = Router(cat, model)
    # Rules say 交通 (公路), the model says 属地: district government leads, street assists.
    d = router.route("A7县泉塘街道村组公路硬化", "我们组的路是泥巴路")
    assert d.rule_id == MODEL_RULE_ID and d.lead.code == "a7.zf" and not d.fallback
    assert d.explanation.startswith("model: kind zf (p=") and "transport" in d.explanation
    assert [a.code for a in d.assisting] == ["a7.jd12"]
    # Model and rule agree: the rule's decision stands, the model is cited.
    d = router.route("A3区小学乱收费", "学校补课收费")
    assert d.rule_id == "education" and d.lead.code == "a3.jyj"
    assert "model: kind jyj" in d.explanation
    # Batch routing gives the same decisions; other cities still go back to the centre.
    items = [("A3区小学乱收费", "学校补课收费"), ("A7县停水三天", "小区停水"), ("K市停水", "")]
    assert router.route_batch(items) == [router.route(*i) for i in items]
    assert router.route_batch(items)[2].lead.code == "a.zwfw"
    assert router.lead_kind("K市停水三天", "小区停水") == ("gs", "water-supply")


def test_committed_artifact_is_what_training_gives_today(tmp_path) -> None:
    """routing/data/kind_model.json is committed, not trained in setup: a change to the
    references, the rules' tags or the features must come with a retrained artifact
    (``hotline routing train``). Weights may differ in the last rounded digit between
    machines' BLAS builds, so they are compared with a tolerance."""
    from config.data import DATA_DIR
    from config.routing import KIND_MODEL_PATH
    from routing.evaluation import load_replies
    from routing.training import train_kind_model

    train_kind_model(load_replies(DATA_DIR / "replies.csv"), load_catalogue(), tmp_path / "m.json")
    fresh = json.loads((tmp_path / "m.json").read_text(encoding="utf-8"))
    committed = json.loads(KIND_MODEL_PATH.read_text(encoding="utf-8"))
    assert fresh["kinds"] == committed["kinds"] and fresh["meta"] == committed["meta"]
    assert fresh["rules"].keys() == committed["rules"].keys()
    for block in ("title", "content"):
        assert fresh[block].keys() == committed[block].keys(), block
        for gram, (idf, weights) in fresh[block].items():
            c_idf, c_weights = committed[block][gram]
            assert abs(idf - c_idf) < 1e-3, gram
            a, b = dict(weights), dict(c_weights)
            for k in a.keys() & b.keys():
                assert abs(a[k] - b[k]) < 2e-3, (gram, k)
            for k in a.keys() ^ b.keys():  # pruned on one side only: it was near the cut
                assert abs(a.get(k, b.get(k))) < PRUNE + 2e-3, (gram, k)
    assert np.allclose(fresh["bias"], committed["bias"], atol=2e-3)
