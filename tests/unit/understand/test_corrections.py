import csv
from datetime import UTC, datetime

import pytest

from models.review import ReviewDecision
from understand.corrections import COLUMNS, append_correction
from understand.dataset import DatasetError, LabelledAppeal, read_labelled
from understand.training import merge_corrections


def _decision(category="环境保护", decision_id="d1"):
    return ReviewDecision(
        appeal_id="a1",
        decision_id=decision_id,
        reviewer="张三",
        category=category,
        decided_at=datetime(2024, 5, 1, 8, 0, tzinfo=UTC),
        subcategory="环境污染",
        note="噪音,不是城建",
    )


def test_appends_header_once_and_rows_readable_as_training_data(tmp_path):
    path = tmp_path / "sub" / "corrections.csv"
    append_correction(_decision(), "楼下KTV噪音", "每晚唱到凌晨,吵得睡不着", path)
    append_correction(_decision("城乡建设", "d2"), "小区停水", "已经停水三天", path)
    with path.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == list(COLUMNS)
    assert [r["decision_id"] for r in rows] == ["d1", "d2"]
    labelled = read_labelled(path)
    assert [r.label for r in labelled] == ["环境保护", "城乡建设"]
    assert labelled[0].subject == "楼下KTV噪音"


def test_text_with_commas_quotes_and_newlines_survives(tmp_path):
    path = tmp_path / "c.csv"
    detail = '他说:"不管",\n然后就走了,,,'
    append_correction(_decision(), "标题", detail, path)
    assert read_labelled(path)[0].detail == detail


def test_unknown_category_is_rejected(tmp_path):
    with pytest.raises(ValueError, match="unknown category"):
        append_correction(_decision("民政"), "t", "c", tmp_path / "c.csv")
    assert not (tmp_path / "c.csv").exists()


def test_correction_replaces_training_row_with_same_text():
    rows = [LabelledAppeal("a", "x", "城乡建设"), LabelledAppeal("b", "y", "交通运输")]
    fixes = [LabelledAppeal("a", "x", "环境保护", "corrections")]
    merged = merge_corrections(rows, fixes)
    assert sorted((r.subject, r.label) for r in merged) == [("a", "环境保护"), ("b", "交通运输")]


def test_read_labelled_rejects_unknown_label(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("subject,detail,label\nt,d,不存在\n", encoding="utf-8")
    with pytest.raises(ValueError, match="bad.csv:2"):
        read_labelled(path)


def test_redelivered_decision_adds_no_second_row(tmp_path):
    path = tmp_path / "c.csv"
    append_correction(_decision(), "楼下KTV噪音", "每晚唱到凌晨", path)
    append_correction(_decision("城乡建设", "d2"), "小区停水", "已经停水三天", path)
    # d1 again (a crash between append and settle): the file keeps one row per decision
    append_correction(_decision(), "楼下KTV噪音", "每晚唱到凌晨", path)
    with path.open(encoding="utf-8") as fh:
        assert [r["decision_id"] for r in csv.DictReader(fh)] == ["d1", "d2"]
    append_correction(_decision("卫生计生", "d3"), "诊所乱收费", "", path)
    assert [r.label for r in read_labelled(path)] == ["环境保护", "城乡建设", "卫生计生"]


def test_appends_follow_a_file_resaved_as_gb18030_with_tabs_and_reordered_columns(tmp_path):
    # what Excel on a Chinese Windows makes of the file: GB18030, tabs, columns moved,
    # and no line break after the last row
    path = tmp_path / "c.csv"
    names = ["label", "decision_id", "detail", "subject", "reviewer"]
    path.write_bytes(
        ("\t".join(names) + "\r\n" + "城乡建设\td0\t已经停水三天\t小区停水\t李四").encode("gb18030")
    )
    append_correction(_decision(), "楼下KTV噪音", "每晚唱到凌晨", path)
    append_correction(_decision(), "楼下KTV噪音", "每晚唱到凌晨", path)  # redelivered
    text = path.read_bytes().decode("gb18030")  # still one encoding throughout
    assert text.splitlines()[2] == "环境保护\td1\t每晚唱到凌晨\t楼下KTV噪音\t张三"
    rows = read_labelled(path)
    assert [(r.subject, r.label) for r in rows] == [
        ("小区停水", "城乡建设"),
        ("楼下KTV噪音", "环境保护"),
    ]


def test_utf8_bom_file_gets_no_second_bom(tmp_path):
    path = tmp_path / "c.csv"
    path.write_bytes(("\ufeff" + ",".join(COLUMNS) + "\r\n").encode("utf-8"))
    append_correction(_decision(), "噪音", "吵", path)
    assert path.read_bytes().count("\ufeff".encode()) == 1
    assert [r.subject for r in read_labelled(path)] == ["噪音"]


def test_blank_file_gets_a_header(tmp_path):
    path = tmp_path / "c.csv"
    path.write_text("\n\n", encoding="utf-8")
    append_correction(_decision(), "噪音", "吵", path)
    assert [r.subject for r in read_labelled(path)] == ["噪音"]


def test_file_without_decision_ids_is_refused_untouched(tmp_path):
    path = tmp_path / "c.csv"
    path.write_text("subject,detail,label\n停水,三天,城乡建设\n", encoding="utf-8")
    before = path.read_bytes()
    with pytest.raises(DatasetError, match="decision_id"):
        append_correction(_decision(), "噪音", "吵", path)
    assert path.read_bytes() == before
