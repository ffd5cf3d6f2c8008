import csv
import json

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
    assert "hotline train" in result.output


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
