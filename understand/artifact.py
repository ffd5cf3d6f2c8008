"""Saving and loading versioned classifier artifacts.

Layout in the model folder (``HOTLINE_UNDERSTAND_MODEL_DIR``)::

    classifier-<version>.joblib   the fitted AppealClassifier (pickle via joblib)
    classifier-<version>.json     its metadata: metrics, training-data SHA-256, versions
    CURRENT                       the version the stream loads

``<version>`` is ``<UTC timestamp>-<first 8 hex of the training-data SHA-256>``. Artifacts
are pickles: load only those your own ``hotline train`` wrote.
"""

from __future__ import annotations

import json
import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from understand.classifier import AppealClassifier

#: Bumped when the pickled structure changes incompatibly.
ARTIFACT_FORMAT = 2
CURRENT = "CURRENT"


class ModelNotFoundError(FileNotFoundError):
    """No trained classifier where the configuration points."""


def _atomic_write(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; the stream may run as another user
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def make_version(data_sha256: str, now: datetime | None = None) -> str:
    """``YYYYmmddTHHMMSSZ-<sha8>``: sortable by time, tied to the training data."""
    now = now or datetime.now(UTC)
    return f"{now:%Y%m%dT%H%M%SZ}-{data_sha256[:8]}"


def save_artifact(model: AppealClassifier, out_dir: Path, make_current: bool = True) -> Path:
    """Write ``model`` (its ``meta`` must hold ``data_sha256``) and point CURRENT at it."""
    import joblib
    import sklearn

    out_dir.mkdir(parents=True, exist_ok=True)
    version = make_version(model.meta["data_sha256"])
    model.meta.update(
        version=version,
        artifact_format=ARTIFACT_FORMAT,
        sklearn_version=sklearn.__version__,
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
    )
    path = out_dir / f"classifier-{version}.joblib"
    tmp = path.with_suffix(".joblib.tmp")
    joblib.dump(model, tmp, compress=3)
    os.replace(tmp, path)
    meta = json.dumps(model.meta, ensure_ascii=False, indent=2, default=str)
    _atomic_write(path.with_suffix(".json"), meta.encode("utf-8"))
    if make_current:
        _atomic_write(out_dir / CURRENT, (version + "\n").encode())
    return path


def resolve_artifact(path: Path | str | None = None) -> Path:
    """The artifact file for ``path`` (a file, a model folder, or None = configured)."""
    from config.understand import MODEL_DIR, MODEL_PATH

    if path is None or str(path) == "":
        path = Path(MODEL_PATH) if MODEL_PATH else MODEL_DIR
    path = Path(path)
    if path.is_dir():
        current = path / CURRENT
        if not current.is_file():
            raise ModelNotFoundError(
                f"no trained classifier in {path} (no {CURRENT} file): run `hotline train` first"
            )
        path = path / f"classifier-{current.read_text().strip()}.joblib"
    if not path.is_file():
        raise ModelNotFoundError(f"classifier artifact {path} not found: run `hotline train` first")
    return path


def load_classifier(path: Path | str | None = None) -> AppealClassifier:
    """Load the current classifier (or the one at ``path``).

    Raises :class:`ModelNotFoundError` telling the user to run ``hotline train`` when there
    is none, and ``RuntimeError`` for an artifact of another format.
    """
    import joblib

    from understand.classifier import AppealClassifier

    artifact = resolve_artifact(path)
    model = joblib.load(artifact)
    if not isinstance(model, AppealClassifier):
        raise RuntimeError(f"{artifact} is not a classifier artifact")
    if model.meta.get("artifact_format") != ARTIFACT_FORMAT:
        raise RuntimeError(
            f"{artifact} has artifact format {model.meta.get('artifact_format')}, this code "
            f"reads {ARTIFACT_FORMAT}: run `hotline train` again"
        )
    return model
