"""`understand.training.train`: what the stored metadata says about the data trained on."""

from __future__ import annotations

import csv
import hashlib

import pytest

import understand.training as training


def _write(path, rows):
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["subject", "detail", "label"])
        w.writerows((r.subject, r.detail, r.label) for r in rows)
    return path


def test_data_hash_is_of_the_bytes_trained_on(small_rows, tmp_path, monkeypatch):
    """A review worker appends to the corrections file while `hotline train` fits: the
    stored SHA-256 is still that of the data the model learnt from."""
    data = _write(tmp_path / "train.csv", small_rows[::2])
    corrections = tmp_path / "corrections.csv"
    corrections.write_text(
        "subject,detail,label,appeal_id,decision_id\n路灯坏了,小区路灯坏了一个月,城乡建设,a1,d1\n",
        encoding="utf-8",
    )
    trained_on = hashlib.sha256(data.read_bytes() + corrections.read_bytes()).hexdigest()
    real_fit = training.fit_model

    def fit_while_a_reviewer_decides(*args, **kwargs):
        with corrections.open("a", encoding="utf-8") as fh:
            fh.write("公交晚点,公交车经常晚点,交通运输,a2,d2\n")
        return real_fit(*args, **kwargs)

    monkeypatch.setattr(training, "fit_model", fit_while_a_reviewer_decides)
    _, meta = training.train(
        [data], corrections, tmp_path / "model", cross_validation=False, progress=False
    )
    assert meta["n_corrections"] == 1
    assert meta["data_sha256"] == trained_on


@pytest.mark.parametrize("n", [1, 2])
def test_fewer_than_three_categories_is_refused_up_front(small_rows, tmp_path, monkeypatch, n):
    labels = sorted({r.label for r in small_rows})[:n]
    data = _write(tmp_path / "few.csv", [r for r in small_rows if r.label in labels])

    def no_segmenting(*args, **kwargs):
        raise AssertionError("segmented data it cannot train on")

    monkeypatch.setattr(training, "prepare", no_segmenting)
    with pytest.raises(ValueError, match="at least 3 categories") as info:
        training.train([data], tmp_path / "none.csv", tmp_path / "model", progress=False)
    assert all(label in str(info.value) for label in labels)
    assert not (tmp_path / "model").exists()
