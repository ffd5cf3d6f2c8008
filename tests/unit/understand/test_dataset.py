"""Reading labelled CSVs as users save them: encodings, delimiters, column names, errors."""

import codecs
import csv
import logging
from pathlib import Path

import pytest

from understand.dataset import (
    DatasetError,
    decode_text,
    incomplete_utf8_tail,
    read_labelled,
    read_labelled_file,
)

ROWS = [
    ("小区物业乱收费", "物业每月多收停车费，业主投诉无门。", "城乡建设"),
    ("", "公交车司机开车打电话，乘客很危险，请交通部门管一管", "交通运输"),
    ("孩子入学难", '学校说"名额已满",\n让我们等下学期', "教育文体"),
]


def _write(path, header, rows, encoding="utf-8", delimiter=","):
    with path.open("w", encoding=encoding, newline="") as fh:
        w = csv.writer(fh, delimiter=delimiter)
        w.writerow(header)
        w.writerows(rows)
    return path


def _triples(rows):
    return [(r.subject, r.detail, r.label) for r in rows]


def test_utf8_with_and_without_bom(tmp_path):
    plain = _write(tmp_path / "a.csv", ["subject", "detail", "label"], ROWS)
    bom = _write(tmp_path / "b.csv", ["subject", "detail", "label"], ROWS, "utf-8-sig")
    assert _triples(read_labelled(plain)) == ROWS
    assert _triples(read_labelled(bom)) == ROWS


def test_gbk_excel_export_with_the_competitions_column_names(tmp_path):
    # What Excel on a Chinese Windows saves: GBK bytes; the competition's headers, any order.
    rows = [(str(i), label, subject, detail) for i, (subject, detail, label) in enumerate(ROWS)]
    path = _write(
        tmp_path / "gbk.csv", ["留言编号", "一级标签", "留言主题", "留言详情"], rows, "gbk"
    )
    with pytest.raises(UnicodeDecodeError):
        path.read_bytes().decode("utf-8")  # the file really is not UTF-8
    got = read_labelled_file(path)
    assert got.encoding == "gb18030"
    assert _triples(got.rows) == ROWS


def test_latin_column_names_in_any_case(tmp_path):
    # a spreadsheet's header style: Subject, Detail, LABEL
    path = _write(tmp_path / "c.csv", [" Subject", "Detail", "LABEL"], ROWS)
    assert _triples(read_labelled(path)) == ROWS


def test_tab_and_semicolon_separated(tmp_path):
    for delimiter in ("\t", ";"):
        path = _write(tmp_path / "t.csv", ["subject", "detail", "label"], ROWS, delimiter=delimiter)
        got = read_labelled_file(path)
        assert got.delimiter == delimiter
        assert _triples(got.rows) == ROWS


def test_blank_lines_skipped_and_short_rows_padded(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("label,detail,subject,extra\n\n城乡建设,路灯不亮\n,,,\n", encoding="utf-8")
    assert _triples(read_labelled(path)) == [("", "路灯不亮", "城乡建设")]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "missing column"),
        ("subject,detail\nt,d\n", "missing column(s) label"),
        ("subject,detail,label\n", "no labelled rows"),
        ("subject,detail,label\nt,d,城乡建设\nt,d,其他\n", "x.csv:3: unknown label '其他'"),
    ],
)
def test_unusable_files_are_named_errors(tmp_path, text, message):
    path = tmp_path / "x.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DatasetError) as info:
        read_labelled(path)
    assert message in str(info.value)


def test_missing_file_and_binary_file(tmp_path):
    with pytest.raises(DatasetError, match="cannot read"):
        read_labelled(tmp_path / "absent.csv")
    path = tmp_path / "bin.csv"
    path.write_bytes(b"subject,detail,label\n\xff\xfe\xfd,\x81,\x80\n")
    with pytest.raises(DatasetError, match="not text"):
        read_labelled(path)


def test_a_cell_longer_than_the_csv_modules_default_limit(tmp_path):
    """csv refuses fields over 131,072 characters by default; a pasted document is one."""
    long = "物业乱收费。" * 40_000  # 240,000 characters
    path = _write(tmp_path / "long.csv", ["subject", "detail", "label"], [("长", long, "城乡建设")])
    assert [r.detail for r in read_labelled(path)] == [long]


def test_a_csv_error_is_a_dataset_error_naming_file_and_line(tmp_path):
    path = _write(tmp_path / "x.csv", ["subject", "detail", "label"], ROWS)
    limit = csv.field_size_limit(10)  # any error of the csv module, e.g. this one
    try:
        with pytest.raises(DatasetError, match=r"x\.csv:2: .*field larger than field limit"):
            read_labelled(path)
    finally:
        csv.field_size_limit(limit)


JIAO = "教".encode()  # E6 95 99
BOM = codecs.BOM_UTF8


@pytest.mark.parametrize(
    ("data", "cut"),
    [
        (b"", 0),
        (b"a,b\r\n", 0),
        (BOM, 0),
        (BOM[:2], 2),  # the BOM itself cut: a character of three bytes
        ("学校,".encode() + JIAO, 0),
        ("学校,".encode() + JIAO[:1], 1),
        ("学校,".encode() + JIAO[:2], 2),
        (BOM + "学校,".encode() + JIAO[:2], 2),
        (BOM + JIAO[:2], 2),
        ("😀".encode()[:3], 3),
        ("学校,教".encode("gb18030"), 0),  # GB18030, not UTF-8 cut short
        (b"\xff" + JIAO[:2], 0),  # not UTF-8 before the end either
        (JIAO[:2] + b"x" + JIAO[:2], 0),
    ],
)
def test_incomplete_utf8_tail_counts_only_a_character_cut_at_the_end(data, cut):
    assert incomplete_utf8_tail(data) == cut


@pytest.mark.parametrize("bom", [BOM, b""])
@pytest.mark.parametrize("kept", ["subject,detail,label\r\n停水,三天,城乡建设\r\n孩子,", "a,"])
def test_utf8_cut_inside_its_last_character_is_read_as_utf8_without_it(caplog, bom, kept):
    # before: not text at all, or (the second) GB18030 mojibake: 锘縜,鏁
    source = Path("corrections.csv")
    with caplog.at_level(logging.WARNING):
        assert decode_text(bom + kept.encode() + JIAO[:2], source) == (kept, "utf-8-sig")
    assert "corrections.csv ends in 2 byte(s) of a UTF-8 character cut off" in caplog.text


def test_a_gb18030_file_is_still_read_as_gb18030(tmp_path):
    text = "subject,detail,label\r\n孩子上学难,学校说名额已满,教育文体\r\n停水,三天,城乡建设"
    for ending in ("\r\n", ""):  # Excel ends with a line break; a hand edit may not
        data = (text + ending).encode("gb18030")
        assert incomplete_utf8_tail(data) == 0
        assert decode_text(data, tmp_path / "x.csv") == (text + ending, "gb18030")
    path = _write(tmp_path / "gbk.csv", ["subject", "detail", "label"], ROWS, "gb18030")
    assert read_labelled_file(path).encoding == "gb18030"
