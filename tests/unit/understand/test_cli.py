import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.understand import app

runner = CliRunner()


def test_every_command_has_help():
    for cmd in ("train", "evaluate"):
        result = runner.invoke(app, [cmd, "--help"])
        assert result.exit_code == 0, result.output
        assert "--data" in result.output


def test_evaluate_file_prints_json_summary_last(saved_model, small_rows, tmp_path):
    data = tmp_path / "holdout.csv"
    with data.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "subject", "detail", "label"])
        for i, r in enumerate(small_rows[::10]):
            w.writerow([i, r.subject, r.detail, r.label])
    result = runner.invoke(app, ["evaluate", "--data", str(data), "--model", str(saved_model)])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output.strip().splitlines()[-1])
    assert summary["mode"] == "file"
    assert summary["n"] == len(small_rows[::10])
    assert 0.0 <= summary["macro_f1"] <= 1.0 and 0.0 <= summary["accuracy"] <= 1.0
    assert "accuracy" in result.output and "macro-F1" in result.output


def test_evaluate_without_model_says_run_train(tmp_path, small_rows):
    data = tmp_path / "d.csv"
    data.write_text("subject,detail,label\n物业,物业乱收费,城乡建设\n", encoding="utf-8")
    result = runner.invoke(app, ["evaluate", "--data", str(data), "--model", str(tmp_path)])
    assert result.exit_code == 2
    assert result.output.startswith("error: ") and "hotline train" in result.output


def test_train_writes_artifact(tmp_path, small_rows):
    data = tmp_path / "train.csv"
    with data.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["subject", "detail", "label"])
        for r in small_rows[::2]:
            w.writerow([r.subject, r.detail, r.label])
    out = tmp_path / "model"
    args = ["train", "--data", str(data), "--out", str(out), "--no-cv", "--quiet"]
    args += ["--corrections", str(tmp_path / "none.csv")]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert (out / "CURRENT").is_file()
    summary = json.loads(result.output.strip().splitlines()[-1])
    assert summary["version"] == (out / "CURRENT").read_text().strip()


def test_evaluate_reads_a_gbk_file_like_its_utf8_twin(saved_model, small_rows, tmp_path):
    summaries = []
    for encoding in ("utf-8", "gbk"):
        data = tmp_path / f"{encoding}.csv"
        with data.open("w", encoding=encoding, newline="") as fh:
            w = csv.writer(fh)
            w.writerow(["留言主题", "留言详情", "一级标签"])
            for r in small_rows[::10]:
                w.writerow([r.subject, r.detail, r.label])
        args = ["evaluate", "--data", str(data), "--model", str(saved_model)]
        result = runner.invoke(app, args)
        assert result.exit_code == 0, result.output
        summaries.append(json.loads(result.output.strip().splitlines()[-1]))
    assert [s["encoding"] for s in summaries] == ["utf-8-sig", "gb18030"]
    for key in ("n", "accuracy", "macro_f1", "per_class_f1"):
        assert summaries[0][key] == summaries[1][key]


def test_unusable_data_file_is_an_error_not_a_traceback(saved_model, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("subject,detail,label\n标题,内容,其他\n", encoding="utf-8")
    for args in (
        ["evaluate", "--data", str(bad), "--model", str(saved_model)],
        ["evaluate", "--data", str(tmp_path / "absent.csv"), "--model", str(saved_model)],
        ["train", "--data", str(bad), "--out", str(tmp_path / "m"), "--no-cv", "--quiet"],
    ):
        result = runner.invoke(app, args)
        assert result.exit_code == 2, result.output
        assert result.output.startswith("error: ") and "Traceback" not in result.output
        assert not isinstance(result.exception, ValueError)


def test_classify_prints_what_the_understand_stage_decides(saved_model):
    result = runner.invoke(
        app, ["classify", "家里煤气漏了", "A市A3区杜鹃路8号,味道很大", "--model", str(saved_model)]
    )
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert out["category"] == out["alternatives"][0]["category"]
    assert out["confidence"] == out["alternatives"][0]["probability"]
    assert out["emergency"]["service"] == "119"
    if out["review"] is None:  # routed with the category, as the stream does
        assert out["routing"]["lead"]["code"]
    else:
        assert "routing" not in out
    stopped = runner.invoke(app, ["classify", "小区停水三天了", "--model", str(saved_model)])
    assert json.loads(stopped.output)["outage"] is True


def test_classify_without_model_says_run_train(tmp_path):
    result = runner.invoke(app, ["classify", "物业乱收费", "--model", str(tmp_path)])
    assert result.exit_code == 2 and "hotline train" in result.output


def _truncated_copy(saved_model, folder):
    """A model folder whose current artifact was cut off (disk full, interrupted copy)."""
    version = (saved_model / "CURRENT").read_text().strip()
    folder.mkdir()
    (folder / "CURRENT").write_text(version + "\n")
    artifact = folder / f"classifier-{version}.joblib"
    artifact.write_bytes((saved_model / artifact.name).read_bytes()[:20000])
    return artifact


def _one_line_error(result) -> str:
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    assert result.output.startswith("error: ") and len(result.output.strip().splitlines()) == 1
    return result.output


def test_classify_with_a_broken_model_is_one_line_naming_it(saved_model, tmp_path):
    artifact = _truncated_copy(saved_model, tmp_path / "model")
    for model in (artifact, artifact.parent):
        said = _one_line_error(
            runner.invoke(app, ["classify", "物业乱收费", "--model", str(model)])
        )
        assert str(artifact) in said


def test_evaluate_with_a_broken_default_model_names_it(saved_model, tmp_path, monkeypatch):
    import config.understand

    artifact = _truncated_copy(saved_model, tmp_path / "model")
    monkeypatch.setattr(config.understand, "MODEL_DIR", artifact.parent)
    monkeypatch.setattr(config.understand, "MODEL_PATH", "")
    data = tmp_path / "d.csv"
    data.write_text("subject,detail,label\n物业,物业乱收费,城乡建设\n", encoding="utf-8")
    said = _one_line_error(runner.invoke(app, ["evaluate", "--data", str(data), "-q"]))
    assert str(artifact) in said and "None" not in said


def test_evaluate_reads_a_very_long_cell(saved_model, small_rows, tmp_path):
    data = tmp_path / "long.csv"
    with data.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["subject", "detail", "label"])
        w.writerow(["物业", "物业乱收费。" * 30_000, "城乡建设"])  # 180,000 characters
        w.writerows((r.subject, r.detail, r.label) for r in small_rows[::2])
    result = runner.invoke(app, ["evaluate", "--data", str(data), "--model", str(saved_model)])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output.strip().splitlines()[-1])["n"] == 1 + len(small_rows[::2])


def _cross_validate_on(rows, tmp_path, monkeypatch, *args):
    import config.understand

    data = tmp_path / "train.csv"
    with data.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["subject", "detail", "label"])
        w.writerows((r.subject, r.detail, r.label) for r in rows)
    monkeypatch.setattr(config.understand, "TRAIN_DATA", data)
    monkeypatch.setattr(config.understand, "CORRECTIONS_PATH", tmp_path / "none.csv")
    return runner.invoke(app, ["evaluate", "-q", *args])


def test_evaluate_data_it_cannot_cross_validate_is_one_line(small_rows, tmp_path, monkeypatch):
    result = _cross_validate_on(small_rows[::4], tmp_path, monkeypatch, "--folds", "200")
    said = _one_line_error(result)
    assert "cannot cross-validate" in said and "200" in said


def test_evaluate_two_categories_is_refused_up_front(small_rows, tmp_path, monkeypatch):
    two = sorted({r.label for r in small_rows})[:2]
    rows = [r for r in small_rows if r.label in two]
    said = _one_line_error(_cross_validate_on(rows, tmp_path, monkeypatch))
    assert "at least 3 categories" in said and all(label in said for label in two)


def test_train_two_categories_says_why(small_rows, tmp_path):
    two = sorted({r.label for r in small_rows})[:2]
    data = tmp_path / "two.csv"
    with data.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["subject", "detail", "label"])
        w.writerows((r.subject, r.detail, r.label) for r in small_rows if r.label in two)
    args = ["train", "--data", str(data), "--out", str(tmp_path / "m"), "-q"]
    said = _one_line_error(runner.invoke(app, [*args, "--corrections", str(tmp_path / "no.csv")]))
    assert "at least 3 categories" in said and "inconsistent numbers" not in said
    assert not (tmp_path / "m").exists()


def _train_args(small_rows, tmp_path, out) -> list[str]:
    data = tmp_path / "train.csv"
    with data.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["subject", "detail", "label"])
        w.writerows((r.subject, r.detail, r.label) for r in small_rows[::2])
    return ["train", "--data", str(data), "--out", str(out), "--no-cv", "--quiet",
            "--corrections", str(tmp_path / "none.csv")]  # fmt: skip


@pytest.mark.parametrize("where", ["a_file", "proc"])
def test_train_to_an_out_it_cannot_write_is_one_line_naming_it(small_rows, tmp_path, where):
    # FileExistsError / FileNotFoundError tracebacks before
    (tmp_path / "model.joblib").write_text("not a folder")
    out = {"a_file": tmp_path / "model.joblib", "proc": Path("/proc/nope")}[where]
    said = _one_line_error(runner.invoke(app, _train_args(small_rows, tmp_path, out)))
    assert said.startswith(f"error: cannot save the classifier in {out}: ")


@pytest.mark.parametrize(
    ("variable", "content"),
    [("HOTLINE_ROUTING_CATALOGUE", None), ("HOTLINE_ROUTING_KIND_MODEL", "not JSON")],
)
def test_classify_with_a_routing_file_it_cannot_read_is_one_line(tmp_path, variable, content):
    # FileNotFoundError / JSONDecodeError tracebacks before; `hotline routing route` said
    # them in one line
    path = tmp_path / "routing-file"
    if content is not None:
        path.write_text(content)
    done = subprocess.run(
        [sys.executable, "-m", "cli", "classify", "路灯坏了", "小区门口路灯坏了一个星期"],
        # threshold 0: nothing goes to review, so the appeal is routed
        env={**os.environ, variable: str(path), "HOTLINE_UNDERSTAND_REVIEW_THRESHOLD": "0"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith(f"{path}: ") and len(done.stderr.splitlines()) == 1
