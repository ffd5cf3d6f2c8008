"""Saving and loading versioned classifier artifacts.

Layout in the model folder (``HOTLINE_UNDERSTAND_MODEL_DIR``)::

    classifier-<version>.joblib   the fitted AppealClassifier (pickle via joblib)
    classifier-<version>.json     its metadata: metrics, training-data SHA-256, versions
    CURRENT                       the version the stream loads

``<version>`` is ``<UTC timestamp>-<first 8 hex of the training-data SHA-256>``, with
``-2``, ``-3``, ... added when another run on the same data saved that version in the same
second: a version's files are never overwritten. Artifacts are pickles: load only those
your own ``hotline train`` wrote.
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


class ModelUnreadableError(RuntimeError):
    """A classifier artifact that cannot be used: cut off or corrupt, not an artifact, pickled
    by code whose classes are gone, or of another artifact format. The message is one line
    naming the file and the cause."""


class ModelNotSavedError(RuntimeError):
    """The model folder cannot take an artifact: a file, under a file or ``/proc``, no
    permission, disk full. The message is one line naming the folder and the cause."""


#: How many runs on the same data can save in one second: ``-2`` to ``-9`` are added to
#: the version (one digit, so that the names still sort in the order they were saved).
_SAME_SECOND_RUNS = 9


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


def _publish(tmp: str, path: Path) -> None:
    """Give the finished file ``tmp`` the name ``path``; ``FileExistsError`` if it is taken."""
    try:
        os.link(tmp, path)  # atomic, and never replaces an existing file
    except FileExistsError:
        raise
    except OSError:  # a file system without hard links: claim the name, then fill it
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644))
        os.replace(tmp, path)


def make_version(data_sha256: str, now: datetime | None = None) -> str:
    """``YYYYmmddTHHMMSSZ-<sha8>``: sortable by time, tied to the training data."""
    now = now or datetime.now(UTC)
    return f"{now:%Y%m%dT%H%M%SZ}-{data_sha256[:8]}"


def save_artifact(model: AppealClassifier, out_dir: Path, make_current: bool = True) -> Path:
    """Write ``model`` (its ``meta`` must hold ``data_sha256``) and point CURRENT at it.

    The artifact gets a version no other artifact in ``out_dir`` has, even when another
    ``hotline train`` on the same data saves in the same second (see the module notes).
    Raises :class:`ModelNotSavedError` when ``out_dir`` cannot take it.
    """
    try:
        return _save_artifact(model, out_dir, make_current)
    except OSError as exc:
        reason = "it is a file, not a folder" if out_dir.is_file() else exc.strerror or exc
        raise ModelNotSavedError(f"cannot save the classifier in {out_dir}: {reason}") from None


def _save_artifact(model: AppealClassifier, out_dir: Path, make_current: bool) -> Path:
    import joblib
    import sklearn

    out_dir.mkdir(parents=True, exist_ok=True)
    base = make_version(model.meta["data_sha256"])
    for n in range(1, _SAME_SECOND_RUNS + 1):
        version = base if n == 1 else f"{base}-{n}"
        model.meta.update(
            version=version,
            artifact_format=ARTIFACT_FORMAT,
            sklearn_version=sklearn.__version__,
            created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        )
        path = out_dir / f"classifier-{version}.joblib"
        if path.exists():  # cheap check first; the link below is what decides
            continue
        # A temp file of our own (concurrent runs must not share one), published with a
        # hard link: it fails if the name exists, so no run replaces another's artifact.
        fd, tmp = tempfile.mkstemp(dir=out_dir, prefix=f".{path.name}.", suffix=".tmp")
        try:
            os.close(fd)
            joblib.dump(model, tmp, compress=3)
            os.chmod(tmp, 0o644)  # mkstemp makes 0600; the stream may run as another user
            _publish(tmp, path)
        except FileExistsError:
            continue  # taken since the check: the version is in the pickle, dump again
        finally:
            Path(tmp).unlink(missing_ok=True)
        break
    else:
        raise FileExistsError(f"versions {base} to {base}-{n} all exist")  # named by the caller
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
        version = current.read_text(encoding="utf-8", errors="replace").strip()
        if not version:  # cut off while written by hand or by a full disk
            raise ModelNotFoundError(
                f"{current} names no version (the file is empty): run `hotline train`, or "
                f"write the version of a classifier-VERSION.joblib in {path} into it"
            )
        path = path / f"classifier-{version}.joblib"
    if not path.is_file():
        raise ModelNotFoundError(f"classifier artifact {path} not found: run `hotline train` first")
    return path


def load_classifier(path: Path | str | None = None) -> AppealClassifier:
    """Load the current classifier (or the one at ``path``).

    Raises :class:`ModelNotFoundError` telling the user to run ``hotline train`` when there
    is none, and :class:`ModelUnreadableError` (a ``RuntimeError``) naming the artifact
    when it cannot be used.
    """
    import joblib

    from understand.classifier import AppealClassifier

    artifact = resolve_artifact(path)
    try:
        model = joblib.load(artifact)
    except Exception as exc:  # cut off, not a pickle, a class since renamed: all unusable
        cause = " ".join(f"{type(exc).__name__}: {exc}".split())  # one line
        raise ModelUnreadableError(
            f"{artifact}: cannot load the classifier ({cause}); run `hotline train` again"
        ) from exc
    if not isinstance(model, AppealClassifier):
        raise ModelUnreadableError(
            f"{artifact} is not a classifier artifact (it holds a {type(model).__name__})"
        )
    if model.meta.get("artifact_format") != ARTIFACT_FORMAT:
        raise ModelUnreadableError(
            f"{artifact} has artifact format {model.meta.get('artifact_format')}, this code "
            f"reads {ARTIFACT_FORMAT}: run `hotline train` again"
        )
    return model
