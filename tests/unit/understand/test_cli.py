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
