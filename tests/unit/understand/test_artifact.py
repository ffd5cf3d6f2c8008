import json
from pathlib import Path

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


def test_an_empty_current_file_says_so(tmp_path):
    # was "classifier artifact …/classifier-.joblib not found", as if none were trained
    (tmp_path / "CURRENT").write_text("\n")
    with pytest.raises(ModelNotFoundError, match="names no version"):
        load_classifier(tmp_path)


def test_version_sorts_by_time_and_names_the_data():
    from datetime import UTC, datetime

    v = make_version("abcdef0123456789", datetime(2024, 5, 1, 12, 0, tzinfo=UTC))
    assert v == "20240501T120000Z-abcdef01"


def _one_artifact(saved_model):
    return saved_model / f"classifier-{(saved_model / 'CURRENT').read_text().strip()}.joblib"


@pytest.mark.parametrize("kind", ["truncated", "not_a_pickle", "other_object", "lost_class"])
def test_unreadable_artifact_is_one_error_naming_the_file(saved_model, tmp_path, kind):
    """What a broken or foreign file raises, so the CLI and the worker can say it in a line."""
    import joblib

    from understand.artifact import ModelUnreadableError

    path = tmp_path / "classifier-x.joblib"
    if kind == "truncated":  # a copy cut off (disk full, interrupted rsync)
        path.write_bytes(_one_artifact(saved_model).read_bytes()[:20000])
    elif kind == "not_a_pickle":
        path.write_bytes(b'{"kinds": []}')
    elif kind == "other_object":
        joblib.dump({"not": "a classifier"}, path)
    else:  # pickled by code whose class is gone (renamed module or class)
        path.write_bytes(b"cunderstand.classifier\nNoSuchClassifier\n)\x81.")
    with pytest.raises(ModelUnreadableError) as info:
        load_classifier(path)
    said = str(info.value)
    assert str(path) in said and len(said.splitlines()) == 1
    assert isinstance(info.value, RuntimeError)  # callers catching RuntimeError still do


def test_artifact_of_another_format_is_the_same_error(tiny_model, tmp_path):
    import joblib

    from understand.artifact import ModelUnreadableError

    tiny_model.meta["artifact_format"] = 1
    path = tmp_path / "classifier-old.joblib"
    try:
        joblib.dump(tiny_model, path)
    finally:
        tiny_model.meta.pop("artifact_format")
    with pytest.raises(ModelUnreadableError, match="artifact format 1, this code reads 2"):
        load_classifier(path)


def test_runs_finishing_in_the_same_second_keep_both_artifacts(tiny_model, tmp_path, monkeypatch):
    """Two `hotline train` at once on the same data: neither overwrites the other's files."""
    import copy
    import threading
    from datetime import UTC, datetime

    import understand.artifact as artifact

    class FrozenClock(datetime):
        @classmethod
        def now(cls, tz=None):
            return datetime(2024, 5, 1, 12, 0, tzinfo=UTC)

    monkeypatch.setattr(artifact, "datetime", FrozenClock)
    models = [copy.deepcopy(tiny_model) for _ in range(3)]
    for i, m in enumerate(models):
        m.meta["which"] = i
    start = threading.Barrier(2)
    saved, failed = {}, []

    def save(i):
        start.wait()
        try:
            saved[i] = artifact.save_artifact(models[i], tmp_path)
        except Exception as exc:  # reported below
            failed.append(exc)

    threads = [threading.Thread(target=save, args=(i,)) for i in (0, 1)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert not failed
    saved[2] = artifact.save_artifact(models[2], tmp_path)  # one more, later
    assert len(set(saved.values())) == 3
    for i, path in saved.items():
        loaded = load_classifier(path)
        assert loaded.meta["which"] == i
        sidecar = json.loads(path.with_suffix(".json").read_text())
        assert sidecar["which"] == i and sidecar["version"] == loaded.version
        assert path.name == f"classifier-{loaded.version}.joblib"
    versions = [load_classifier(saved[i]).version for i in (0, 1, 2)]
    assert all(v.startswith("20240501T120000Z-00000000") for v in versions)
    assert versions[2] == max(versions)  # a later one sorts last
    assert load_classifier(tmp_path).meta["which"] == 2  # CURRENT: the last saved
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_same_second_saves_without_hard_links(tiny_model, tmp_path, monkeypatch):
    """A model folder on a file system that refuses hard links still never overwrites."""
    import copy
    from datetime import UTC, datetime

    import understand.artifact as artifact

    class FrozenClock(datetime):
        @classmethod
        def now(cls, tz=None):
            return datetime(2024, 5, 1, 12, 0, tzinfo=UTC)

    def no_links(src, dst):
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(artifact, "datetime", FrozenClock)
    monkeypatch.setattr(artifact.os, "link", no_links)
    paths = []
    for i in range(2):
        model = copy.deepcopy(tiny_model)
        model.meta["which"] = i
        paths.append(artifact.save_artifact(model, tmp_path))
    assert [p.name for p in paths] == [
        "classifier-20240501T120000Z-00000000.joblib",
        "classifier-20240501T120000Z-00000000-2.joblib",
    ]
    assert [load_classifier(p).meta["which"] for p in paths] == [0, 1]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


@pytest.mark.parametrize("where", ["a_file", "under_a_file", "proc", "disk_full"])
def test_a_folder_that_cannot_take_the_artifact_is_one_error_naming_it(
    tiny_model, tmp_path, monkeypatch, where
):
    """What ``hotline train --out`` says in one line: it ended in FileNotFoundError or
    FileExistsError tracebacks, after the whole training."""
    import errno

    import joblib

    from understand.artifact import ModelNotSavedError, save_artifact

    (tmp_path / "file").write_text("x")
    out, said = {
        "a_file": (tmp_path / "file", "it is a file, not a folder"),
        "under_a_file": (tmp_path / "file" / "model", "Not a directory"),
        "proc": (Path("/proc/nope"), "No such file or directory"),
        "disk_full": (tmp_path / "model", "No space left on device"),
    }[where]

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(joblib, "dump", full)
    with pytest.raises(ModelNotSavedError) as caught:
        save_artifact(tiny_model, out)
    assert str(caught.value) == f"cannot save the classifier in {out}: {said}"
    if where == "disk_full":  # no temporary file left behind
        assert list(out.iterdir()) == []
