"""A tiny classifier trained once per test session on a small slice of the real data."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from config.data import DATA_DIR
from understand.dataset import CATEGORIES, LabelledAppeal, read_labelled

#: Enough to learn something, small enough to train in a couple of seconds.
PER_CLASS = 40


@pytest.fixture(scope="session")
def labelled() -> list[LabelledAppeal]:
    path = DATA_DIR / "appeals_labelled.csv"
    if not path.is_file():
        pytest.skip(f"shared data not found at {path}")
    return read_labelled(path)


@pytest.fixture(scope="session")
def small_rows(labelled) -> list[LabelledAppeal]:
    rng = random.Random(7)
    out = []
    for c in CATEGORIES:
        rows = [r for r in labelled if r.label == c]
        out += rng.sample(rows, PER_CLASS)
    return out


@pytest.fixture(scope="session")
def tiny_model(small_rows):
    from understand.features import prepare
    from understand.training import fit_model

    docs = [prepare(r.subject, r.detail) for r in small_rows]
    model = fit_model(docs, [r.label for r in small_rows], {"calibration_folds": 3})
    model.meta["data_sha256"] = "0" * 64
    return model


@pytest.fixture(scope="session")
def saved_model(tiny_model, tmp_path_factory) -> Path:
    from understand.artifact import save_artifact

    out = tmp_path_factory.mktemp("model")
    save_artifact(tiny_model, out)
    return out
