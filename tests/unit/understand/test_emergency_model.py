"""The possible-emergency model: calls for help the rules miss go to review first."""

from __future__ import annotations

import copy
import csv
import pickle

import pytest

from config.data import DATA_DIR
from understand.emergency import detect_emergency
from understand.emergency_model import (
    POSSIBLE_EMERGENCY,
    EmergencyModel,
    fit_emergency_model,
    training_texts,
)
from understand.text_normalise import normalise, prepare_text

#: Calls for help written for this test: in neither the model's training file nor the
#: rules' unit tests, and most match no rule.
NEW_CALLS = [
    "快来人，我们家老太太坐在椅子上突然就不说话了，怎么推都没反应",
    "停车场有个男的拿着铁锤在追一个女的",
    "施工的吊车倒了，砸在了路边的公交站上",
    "我弟弟被几个人堵在巷子里打，现在满脸是血",
    "我家孩子把一颗纽扣电池吞下去了",
    "河堤那边有人被水卷走了，只看到一只手",
]
#: Everyday complaints and questions that share their words.
NEW_COMPLAINTS = [
    "小区停车场晚上有人乱停车，堵住出口",
    "公交站的广告牌松动了，希望尽快维修",
    "想咨询一下纽扣电池应该投放到哪类垃圾桶",
    "河堤的路灯坏了好几盏，晚上散步看不见",
]


def _texts(name: str) -> list[str]:
    path = DATA_DIR / name
    if not path.is_file():
        pytest.skip(f"shared data not found at {path}")
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return [prepare_text(r["subject"], r["detail"])[1] for r in csv.DictReader(fh)]


@pytest.fixture(scope="module")
def model(labelled) -> EmergencyModel:
    heads = [prepare_text(r.subject, r.detail) for r in labelled]
    return fit_emergency_model([t for _, t in heads] + [s for s, _ in heads])


def test_the_training_file_holds_calls_and_look_alikes_and_no_test_wording():
    calls, look_alikes = training_texts()
    assert len(calls) >= 100 and len(look_alikes) >= 50
    assert not set(calls) & set(look_alikes)
    assert not (set(NEW_CALLS) | set(NEW_COMPLAINTS)) & (set(calls) | set(look_alikes))


def test_new_calls_for_help_score_high_where_the_rules_see_few_of_them(model):
    from config.understand import POSSIBLE_EMERGENCY_THRESHOLD

    scores = model.score([normalise(t) for t in NEW_CALLS])
    flagged = sum(s >= POSSIBLE_EMERGENCY_THRESHOLD for s in scores)
    by_rules = sum(detect_emergency(normalise(t)) is not None for t in NEW_CALLS)
    assert flagged >= 5, list(zip(NEW_CALLS, scores.round(2), strict=True))
    assert by_rules <= 2  # the model is what catches them


def test_complaints_with_the_same_words_score_low(model):
    from config.understand import POSSIBLE_EMERGENCY_THRESHOLD

    scores = model.score([normalise(t) for t in NEW_COMPLAINTS])
    assert (scores < POSSIBLE_EMERGENCY_THRESHOLD).all(), scores.round(2)


def test_no_shared_complaint_it_was_not_trained_on_is_flagged(model):
    """hot_messages.csv and replies.csv are complaints the model never saw (the threshold
    is the lowest that flags none of them; framed as a call-centre report, too)."""
    from config.understand import POSSIBLE_EMERGENCY_THRESHOLD

    texts = _texts("hot_messages.csv") + _texts("replies.csv")
    assert len(texts) > 5000
    for batch in (texts, [normalise("来电人反映：" + t) for t in texts]):
        scores = model.score(batch)
        assert (scores < POSSIBLE_EMERGENCY_THRESHOLD).all(), max(scores)


def test_scores_are_the_fitted_logistic_regression_on_the_fitted_features(model):
    """score() sums in numpy what fit() gave the regression as a sparse matrix: repeated
    n-grams (sublinear tf), texts longer than the head, empty and non-Chinese ones."""
    import numpy as np

    from understand.emergency_model import _BITS, _NGRAMS, _SALT, HEAD_CHARS
    from understand.features import char_ngram_buckets

    texts = [normalise(t) for t in NEW_CALLS + NEW_COMPLAINTS]
    texts += ["救命救命救命", texts[0] * 5, "", "😀😀😀", "12345", "help! fire"]
    heads = [t[:HEAD_CHARS] for t in texts]
    features = model._matrix(*char_ngram_buckets(heads, _NGRAMS, _SALT, _BITS), len(heads))
    z = features @ model.coef_ + model.intercept_
    assert model.score(texts) == pytest.approx(1 / (1 + np.exp(-z)), abs=1e-6)
    assert model.score([]).shape == (0,)


def test_only_the_head_is_read(model):
    call = normalise(NEW_CALLS[3])
    story = normalise("小区物业管理混乱，收费不透明，绿化无人维护。" * 6)
    assert model.score([story + call])[0] == pytest.approx(model.score([story])[0])


def test_classifier_sends_a_possible_emergency_to_review_and_leaves_rule_flags_alone(
    tiny_model, model
):
    clf = copy.copy(tiny_model)
    clf.emergency_model = model
    results = clf.classify_batch(
        [("", NEW_CALLS[1]), ("", "厨房着火了，火很大"), ("", NEW_COMPLAINTS[0])]
    )
    possible, flagged, complaint = results
    assert possible.needs_review and possible.review_reason == POSSIBLE_EMERGENCY
    assert possible.emergency is None
    assert flagged.emergency is not None and flagged.review_reason != POSSIBLE_EMERGENCY
    assert complaint.review_reason != POSSIBLE_EMERGENCY


def test_the_threshold_setting_turns_it_off(tiny_model, model, monkeypatch):
    import config.understand

    clf = copy.copy(tiny_model)
    clf.emergency_model = model
    monkeypatch.setattr(config.understand, "POSSIBLE_EMERGENCY_THRESHOLD", 1.01)
    assert clf.classify("", NEW_CALLS[1]).review_reason != POSSIBLE_EMERGENCY


def test_an_artifact_from_before_the_model_loads_without_it(tiny_model):
    state = dict(tiny_model.__dict__)
    state.pop("emergency_model", None)
    old = copy.copy(tiny_model)
    old.__dict__.clear()
    old.__dict__.update(state)
    loaded = pickle.loads(pickle.dumps(old))
    assert loaded.emergency_model is None
    assert loaded.possible_emergencies([]) == []
    assert loaded.classify("", NEW_CALLS[1]).review_reason != POSSIBLE_EMERGENCY
