"""`hotline train` / `hotline evaluate` with a corrections file emptied or cut off."""

import codecs
import csv
import json

import pytest
from typer.testing import CliRunner

from cli.understand import app
from understand.corrections import COLUMNS

runner = CliRunner()
HEADER = ",".join(COLUMNS) + "\r\n"


def _train_data(path, rows):
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["subject", "detail", "label"])
        for r in rows:
            w.writerow([r.subject, r.detail, r.label])
    return path


def _train(tmp_path, small_rows, corrections):
    data = _train_data(tmp_path / "train.csv", small_rows[::2])
    args = ["train", "--data", str(data), "--out", str(tmp_path / "model"), "--no-cv", "-q"]
    return runner.invoke(app, [*args, "--corrections", str(corrections)])


@pytest.mark.parametrize("content", [codecs.BOM_UTF8 + HEADER.encode(), codecs.BOM_UTF8])
def test_train_with_a_corrections_file_without_rows(tmp_path, small_rows, content):
    corrections = tmp_path / "corrections.csv"  # rows deleted in Excel after a retrain
    corrections.write_bytes(content)
    result = _train(tmp_path, small_rows, corrections)
    assert result.exit_code == 0, result.output
    assert "(corrections 0)" in result.stdout


def test_train_leaves_out_a_cut_off_correction_and_says_so(tmp_path, small_rows):
    corrections = tmp_path / "corrections.csv"
    row = "楼下KTV噪音,每晚唱到凌晨,环境保护,,a1,d1,张三,,2024-05-01T08:00:00+00:00,\r\n"
    corrections.write_text(HEADER + row + '停水,"已经停水三天,\r\n第二段', encoding="utf-8")
    result = _train(tmp_path, small_rows, corrections)
    assert result.exit_code == 0, result.output
    assert "(corrections 1)" in result.stdout
    assert f"warning: {corrections}:4: row left out: a quoted cell is not closed" in result.stderr


def test_evaluate_with_a_header_only_corrections_file(tmp_path, small_rows, monkeypatch):
    import config.understand
    import understand.evaluation

    data = _train_data(tmp_path / "train.csv", small_rows)
    corrections = tmp_path / "corrections.csv"
    corrections.write_text(HEADER, encoding="utf-8")
    monkeypatch.setattr(config.understand, "TRAIN_DATA", data)
    monkeypatch.setattr(config.understand, "CORRECTIONS_PATH", corrections)
    seen = []

    class Stop(Exception):
        pass

    def cross_validate(rows, **kwargs):
        seen.append(rows)
        raise Stop  # the rows are what this test is about, not the figures

    monkeypatch.setattr(understand.evaluation, "cross_validate", cross_validate)
    result = runner.invoke(app, ["evaluate", "-q"])
    assert isinstance(result.exception, Stop), result.output
    assert [(r.subject, r.label) for r in seen[0]] == [(r.subject, r.label) for r in small_rows]


def test_train_json_summary_is_still_the_last_line(tmp_path, small_rows):
    corrections = tmp_path / "corrections.csv"
    corrections.write_text(HEADER + "停水,已经停", encoding="utf-8")
    result = _train(tmp_path, small_rows, corrections)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout.strip().splitlines()[-1])["version"]
