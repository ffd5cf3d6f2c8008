import json

import pytest

from understand.artifact import ModelNotFoundError, load_classifier, make_version


def test_round_trip_gives_identical_predictions(tiny_model, saved_model):
    loaded = load_classifier(saved_model)
    items = [("噪音扰民", "楼下广场舞每晚噪音很大"), ("社保转移", "养老保险怎么转到外地")]
    a = tiny_model.classify_batch(items, threshold=0.0)
    b = loaded.classify_batch(items, threshold=0.0)
    assert [(r.category, r.confidence) for r in a] == [(r.category, r.confidence) for r in b]
    assert loaded.version == (saved_model / "CURRENT").read_text().strip()


def test_metadata_sidecar_records_data_hash_and_versions(saved_model):
    version = (saved_model / "CURRENT").read_text().strip()
    meta = json.loads((saved_model / f"classifier-{version}.json").read_text())
    assert meta["data_sha256"] == "0" * 64
    assert meta["artifact_format"] == 2
    assert "sklearn_version" in meta


def test_missing_model_tells_to_run_train(tmp_path):
    with pytest.raises(ModelNotFoundError, match="hotline train"):
        load_classifier(tmp_path)
    with pytest.raises(ModelNotFoundError, match="hotline train"):
        load_classifier(tmp_path / "nope.joblib")


def test_version_sorts_by_time_and_names_the_data():
    from datetime import UTC, datetime

    v = make_version("abcdef0123456789", datetime(2024, 5, 1, 12, 0, tzinfo=UTC))
    assert v == "20240501T120000Z-abcdef01"
