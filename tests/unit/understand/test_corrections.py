import codecs
import csv
import fcntl
import os
import threading
import time
from datetime import UTC, datetime

import pytest

import understand.corrections as corrections
from models.review import ReviewDecision
from understand.corrections import COLUMNS, append_correction
from understand.dataset import (
    DatasetError,
    LabelledAppeal,
    ends_in_quoted_cell,
    escape_formula,
    read_corrections,
    read_labelled,
    read_table,
    unescape_formula,
)
from understand.training import merge_corrections

BOM = codecs.BOM_UTF8
HEADER = ",".join(COLUMNS) + "\r\n"


def _decision(category="环境保护", decision_id="d1", appeal_id="a1", **fields):
    values = {
        "reviewer": "张三",
        "decided_at": datetime(2024, 5, 1, 8, 0, tzinfo=UTC),
        "subcategory": "环境污染",
        "note": "噪音,不是城建",
    }
    values.update(fields)
    return ReviewDecision(appeal_id=appeal_id, decision_id=decision_id, category=category, **values)


def _ids(path):
    """(appeal_id, decision_id) of every row, as the csv module reads the file."""
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return [(r["appeal_id"], r["decision_id"]) for r in csv.DictReader(fh)]


def test_appends_header_once_and_rows_readable_as_training_data(tmp_path):
    path = tmp_path / "sub" / "corrections.csv"
    append_correction(_decision(), "楼下KTV噪音", "每晚唱到凌晨,吵得睡不着", path)
    append_correction(_decision("城乡建设", "d2"), "小区停水", "已经停水三天", path)
    with path.open(encoding="utf-8-sig") as fh:
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


# -- concurrent writers: the row is on disk before the lock is released ------------------


def test_row_is_on_disk_before_the_lock_is_released(tmp_path, monkeypatch):
    path = tmp_path / "c.csv"
    real = fcntl.flock
    at_unlock = []

    def spy(fh, op):
        if op == fcntl.LOCK_UN:
            at_unlock.append(path.read_bytes())
        return real(fh, op)

    monkeypatch.setattr(corrections.fcntl, "flock", spy)
    append_correction(_decision(), "噪音", "吵", path)
    append_correction(_decision(decision_id="d2"), "停水", "三天", path)
    # what the next writer reads once it has the lock: each time the whole file so far
    assert at_unlock[0].startswith(BOM + HEADER.encode()) and "噪音".encode() in at_unlock[0]
    assert at_unlock[1] == path.read_bytes() and "停水".encode() in at_unlock[1]


def test_a_writer_in_the_unlock_gap_adds_no_second_header(tmp_path, monkeypatch):
    # writer A is descheduled right after releasing the lock; B appends meanwhile
    path = tmp_path / "c.csv"
    real = fcntl.flock

    def slow_unlock(fh, op):
        done = real(fh, op)
        if op == fcntl.LOCK_UN and threading.current_thread().name == "A":
            time.sleep(0.3)
        return done

    monkeypatch.setattr(corrections.fcntl, "flock", slow_unlock)
    a = threading.Thread(
        name="A", target=append_correction, args=(_decision(), "标题1", "内容", path)
    )
    a.start()
    time.sleep(0.1)
    append_correction(_decision(appeal_id="a2", decision_id="d2"), "标题2", "内容", path)
    a.join()
    assert path.read_text(encoding="utf-8-sig").count("subject,detail") == 1
    assert [r.subject for r in read_corrections(path).rows] == ["标题1", "标题2"]


# -- a last row cut off while being written ---------------------------------------------


def test_file_cut_off_inside_a_quoted_cell_gets_each_decision_once(tmp_path):
    path = tmp_path / "c.csv"
    path.write_bytes((HEADER + '停水,"已经停水三天,\r\n第二段').encode())
    for _ in range(3):  # the same decision, redelivered
        append_correction(_decision(), "噪音", "吵", path)
    text = path.read_bytes().decode("utf-8")
    assert text.startswith(HEADER + '停水,"已经停水三天,\r\n第二段"\r\n噪音,吵,环境保护,')
    assert _ids(path) == [(None, None), ("a1", "d1")]  # the cut-off row is short
    read = read_corrections(path)
    assert [(r.subject, r.detail, r.label) for r in read.rows] == [("噪音", "吵", "环境保护")]
    assert len(read.skipped) == 1
    assert read.skipped[0].startswith(f"{path}:3: row left out: 2 of 10 cells (cut off")


def test_a_file_still_ending_inside_a_quoted_cell_reads_without_that_row(tmp_path):
    path = tmp_path / "c.csv"
    append_correction(_decision(), "噪音", "吵", path)
    with path.open("ab") as fh:  # a later row, cut off in its last (quoted) cell
        fh.write('停水,三天,城乡建设,,a9,d9,李四,,2024-05-01,"未完'.encode())
    read = read_corrections(path)
    assert [r.subject for r in read.rows] == ["噪音"]
    assert read.skipped == [
        f"{path}:3: row left out: a quoted cell is not closed at the end of the file "
        "(cut off while written?); complete or delete it"
    ]


def test_cut_off_row_with_the_decision_ids_does_not_count_as_written(tmp_path):
    # the worker died while writing d1's row (cut in its note): d1 comes again
    path = tmp_path / "c.csv"
    path.write_bytes(BOM + (HEADER + '噪音,吵,环境保护,,a1,d1,张三,,2024-05-01,"噪音').encode())
    assert read_corrections(path).skipped  # cut off: not trained on, not a written decision
    append_correction(_decision(), "噪音", "吵", path)
    append_correction(_decision(), "噪音", "吵", path)
    assert _ids(path) == [("a1", "d1"), ("a1", "d1")]
    assert path.read_bytes().decode().split("\r\n")[1:] == [
        '噪音,吵,环境保护,,a1,d1,张三,,2024-05-01,"噪音"',  # closed as it was
        '噪音,吵,环境保护,环境污染,a1,d1,张三,,2024-05-01T08:00:00+00:00,"噪音,不是城建"',
        "",
    ]


def test_unquoted_cut_off_row_is_left_out_and_named(tmp_path):
    path = tmp_path / "c.csv"
    path.write_bytes(BOM + (HEADER + "停水,已经停水").encode())
    append_correction(_decision(), "噪音", "吵", path)
    assert path.read_text(encoding="utf-8-sig").splitlines()[1:3] == [
        "停水,已经停水",
        '噪音,吵,环境保护,环境污染,a1,d1,张三,,2024-05-01T08:00:00+00:00,"噪音,不是城建"',
    ]
    read = read_corrections(path)
    assert [r.subject for r in read.rows] == ["噪音"]
    assert read.skipped == [
        f"{path}:2: row left out: 2 of 10 cells (cut off while written?); complete or delete it"
    ]


# the disk filled up in the middle of 教 (E6 95 99): two of its three bytes were written
CUT_IN_JIAO = "教".encode()[:2]


@pytest.mark.parametrize(
    ("cut_row", "left_out"),
    [
        ("孩子上学难,".encode() + CUT_IN_JIAO, "2 of 10 cells"),
        ('孩子上学难,"学校说,\r\n'.encode() + CUT_IN_JIAO, "a quoted cell is not closed"),
        ("孩子上学难,".encode() + CUT_IN_JIAO[:1], "2 of 10 cells"),
    ],
)
@pytest.mark.parametrize("bom", [BOM, b""])
def test_a_row_cut_inside_a_character_is_closed_and_the_file_stays_utf8(
    tmp_path, caplog, bom, cut_row, left_out
):
    # before: the file was no text in UTF-8 (nor GB18030), so every later append raised
    # and `hotline train` failed; or it read as GB18030 mojibake and the next row was
    # appended in GB18030, a file of two encodings
    path = tmp_path / "c.csv"
    append_correction(_decision(appeal_id="a0", decision_id="d0"), "噪音", "吵", path)
    if not bom:
        path.write_bytes(path.read_bytes().removeprefix(BOM))
    with path.open("ab") as fh:
        fh.write(cut_row)
    read = read_corrections(path)  # as `hotline train` reads it before the next append
    assert [r.subject for r in read.rows] == ["噪音"]
    assert len(read.skipped) == 1 and left_out in read.skipped[0]
    append_correction(_decision(category="教育文体"), "停水", "三天", path)
    text = path.read_bytes().decode("utf-8-sig")  # UTF-8 again: the cut bytes are gone
    assert "\ufffd" not in text and text.endswith("\r\n")
    assert text.count(cut_row.decode("utf-8", errors="ignore")) == 1  # kept, closed
    assert "\r\n停水,三天,教育文体," in text  # the new row on a line of its own
    assert "cut off while written: removed them" in caplog.text
    read = read_corrections(path)
    assert [(r.subject, r.label) for r in read.rows] == [("噪音", "环境保护"), ("停水", "教育文体")]
    assert len(read.skipped) == 1 and "2 of 10 cells" in read.skipped[0]  # closed now
    assert _ids(path)[-1] == ("a1", "d1")
    append_correction(_decision(category="教育文体"), "停水", "三天", path)  # redelivered
    assert [r.subject for r in read_corrections(path).rows] == ["噪音", "停水"]


def test_training_reads_a_corrections_file_cut_inside_a_character(small_rows, tmp_path):
    from understand.training import train

    data = tmp_path / "train.csv"
    with data.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["subject", "detail", "label"])
        w.writerows((r.subject, r.detail, r.label) for r in small_rows[::2])
    path = tmp_path / "corrections.csv"
    append_correction(_decision(), "噪音", "楼下KTV每晚唱到凌晨", path)
    with path.open("ab") as fh:
        fh.write("孩子上学难,".encode() + CUT_IN_JIAO)  # no append since: still cut
    _, meta = train([data], path, tmp_path / "model", cross_validation=False, progress=False)
    assert meta["n_corrections"] == 1  # before: DatasetError, not text in utf-8 or gb18030
    assert len(meta["corrections_skipped"]) == 1


@pytest.mark.parametrize(
    ("text", "inside"),
    [
        ("", False),
        ('a,"b\r\nc', True),
        ('a,"b""', True),
        ('a,"b"', False),
        ('a,"b"""', False),
        ('a,b"c', False),  # a quote inside an unquoted cell is just a character
        ('a,b"c,"d', True),
        ('a,"b"c"', False),  # after the closing quote the cell is unquoted
        ('"x\r\ny",z\r\n"', True),
        ('"', True),
        ('a\t"b', True),
    ],
)
def test_ends_in_quoted_cell_reads_quotes_as_the_csv_module(text, inside):
    delimiter = "\t" if "\t" in text else ","
    assert ends_in_quoted_cell(text, delimiter) is inside
    try:  # strict csv raises at the end of data exactly when inside a quoted cell
        list(csv.reader([text] if text else [], delimiter=delimiter, strict=True))
        strict_inside = False
    except csv.Error as exc:
        strict_inside = "unexpected end of data" in str(exc)
    if "\r\n" not in text:
        assert strict_inside is inside


# -- spreadsheet formula injection -------------------------------------------------------

FORMULAS = {
    "subject": "=cmd|' /C calc'!A0",
    "detail": "@SUM(1+1)*cmd|' /C calc'!A0",
    "reviewer": '=HYPERLINK("http://x","张三")',
    "note": "+86 138 0000 0000",
}


def test_formula_cells_are_escaped_in_the_file_and_read_back_exactly(tmp_path):
    path = tmp_path / "c.csv"
    d = _decision(reviewer=FORMULAS["reviewer"], note=FORMULAS["note"], department_code="-1")
    append_correction(d, FORMULAS["subject"], FORMULAS["detail"], path)
    with path.open(encoding="utf-8-sig", newline="") as fh:
        raw = list(csv.DictReader(fh))[0]
    for name in (*FORMULAS, "department_code"):
        assert raw[name].startswith("'"), name  # Excel shows it as text
    assert raw["label"] == "环境保护" and raw["decision_id"] == "d1"
    (row,) = read_corrections(path).rows
    assert (row.subject, row.detail) == (FORMULAS["subject"], FORMULAS["detail"])
    assert read_labelled(path)[0].detail == FORMULAS["detail"]
    cells = read_table(path, ("subject", "detail")).rows[0][1]  # as routing train reads it
    assert {k: cells[k] for k in FORMULAS} == FORMULAS
    assert cells["department_code"] == "-1"
    append_correction(d, FORMULAS["subject"], FORMULAS["detail"], path)  # redelivered
    assert _ids(path) == [("a1", "d1")]


def test_routing_training_reads_the_unescaped_text(tmp_path):
    from routing.catalogue import load_catalogue
    from routing.training import correction_examples

    path = tmp_path / "c.csv"
    append_correction(_decision(department_code="a.zjj"), "+86 138 物业乱收费", "=多收", path)
    examples, _ = correction_examples([path], load_catalogue())
    assert [(e.case.title, e.case.content) for e in examples] == [("+86 138 物业乱收费", "=多收")]


@pytest.mark.parametrize(
    "cell",
    ["", "'", "''", "=1", "+86", "-", "@x", "\tx", "\rx", "'=1", "''+1", "'abc", "a=1", "停水"],
)
def test_escape_formula_round_trip(cell):
    escaped = escape_formula(cell)
    assert unescape_formula(escaped) == cell
    assert escaped[:1] not in ("=", "+", "-", "@", "\t", "\r")


def test_a_leading_quote_in_a_file_without_decisions_is_kept(tmp_path):
    path = tmp_path / "data.csv"  # not a corrections file: its text is taken as it is
    path.write_text("subject,detail,label\n'=x,'+y,城乡建设\n", encoding="utf-8")
    assert [(r.subject, r.detail) for r in read_labelled(path)] == [("'=x", "'+y")]


# -- a new file starts with a UTF-8 BOM (for Excel on a Chinese Windows) ---------------


def test_new_file_starts_with_one_utf8_bom(tmp_path):
    path = tmp_path / "c.csv"
    append_correction(_decision(), "楼下KTV噪音", "每晚唱到凌晨", path)
    append_correction(_decision(decision_id="d2"), "停水", "三天", path)
    data = path.read_bytes()
    assert data.startswith(BOM + HEADER.encode()) and data.count(BOM) == 1
    assert [r.subject for r in read_labelled(path)] == ["楼下KTV噪音", "停水"]


# -- duplicates are (appeal_id, decision_id) -------------------------------------------


def test_a_decision_id_reused_for_another_appeal_is_appended(tmp_path):
    path = tmp_path / "c.csv"
    append_correction(_decision(appeal_id="MB-1", decision_id="1"), "噪音", "吵", path)
    append_correction(_decision("城乡建设", "1", "MB-2"), "停水", "三天", path)
    append_correction(_decision("城乡建设", "1", "MB-2"), "停水", "三天", path)  # redelivered
    append_correction(_decision(appeal_id="MB-10", decision_id="10"), "噪音", "吵", path)
    append_correction(_decision(appeal_id="MB-1", decision_id="10"), "噪音", "吵", path)
    assert _ids(path) == [("MB-1", "1"), ("MB-2", "1"), ("MB-10", "10"), ("MB-1", "10")]


def test_without_an_appeal_id_column_duplicates_are_by_decision_id(tmp_path):
    path = tmp_path / "c.csv"
    path.write_text("subject,detail,label,decision_id\n停水,三天,城乡建设,d1\n", "utf-8")
    append_correction(_decision(appeal_id="a9"), "噪音", "吵", path)
    append_correction(_decision(decision_id="d2"), "噪音", "吵", path)
    assert path.read_text("utf-8").splitlines()[1:] == [
        "停水,三天,城乡建设,d1",
        "噪音,吵,环境保护,d2",
    ]


@pytest.mark.parametrize("decision_id", ['d"1', "d,1", "d\n1", "-1"])
def test_ids_csv_quotes_or_escapes_are_found_again(tmp_path, decision_id):
    path = tmp_path / "c.csv"
    append_correction(_decision(decision_id=decision_id), "噪音", "吵", path)
    append_correction(_decision(decision_id=decision_id), "噪音", "吵", path)
    assert [(a, unescape_formula(d)) for a, d in _ids(path)] == [("a1", decision_id)]
    assert [cells["decision_id"] for _, cells in read_table(path, ()).rows] == [decision_id]


def test_tab_separated_file_is_checked_for_duplicates_by_its_own_delimiter(tmp_path):
    path = tmp_path / "c.csv"
    path.write_text(
        "subject\tdetail\tlabel\tappeal_id\tdecision_id\n停水\t三天\t城乡建设\ta1\td1\n"
    )
    append_correction(_decision(), "噪音", "吵", path)  # already there
    append_correction(_decision(decision_id="d\t2"), "噪音", "吵", path)
    append_correction(_decision(decision_id="d\t2"), "噪音", "吵", path)
    assert read_table(path, ("decision_id",)).rows[-1][1]["decision_id"] == "d\t2"
    assert len(read_table(path, ("decision_id",)).rows) == 2


# -- files emptied in Excel --------------------------------------------------------------


@pytest.mark.parametrize("content", [b"", BOM, BOM + b"\r\n", b"\r\n\r\n", BOM + b" \n"])
def test_blank_or_bom_only_file_is_a_new_file(tmp_path, content):
    path = tmp_path / "c.csv"
    path.write_bytes(content)
    append_correction(_decision(), "噪音", "吵", path)
    data = path.read_bytes()
    assert data.startswith(BOM + HEADER.encode()) and data.count(BOM) == 1
    assert [r.subject for r in read_corrections(path).rows] == ["噪音"]


@pytest.mark.parametrize("content", [BOM + HEADER.encode(), HEADER.encode(), BOM, b"", b"\n"])
def test_corrections_file_without_rows_is_no_corrections(tmp_path, content):
    path = tmp_path / "c.csv"
    path.write_bytes(content)
    assert read_corrections(path).rows == [] and read_corrections(path).skipped == []


def test_unusable_corrections_file_is_still_an_error(tmp_path):
    path = tmp_path / "c.csv"
    path.write_text("subject,detail\n停水,三天\n", encoding="utf-8")
    with pytest.raises(DatasetError, match="missing column"):
        read_corrections(path)
    path.write_text(HEADER + "停水,三天,其他" + ",x" * 7 + "\r\n", encoding="utf-8")
    with pytest.raises(DatasetError, match="c.csv:2: unknown label"):
        read_corrections(path)


# -- appending does not parse the whole file for a new decision -------------------------


def test_a_new_decision_is_appended_without_parsing_the_file(tmp_path, monkeypatch):
    path = tmp_path / "c.csv"
    for i in range(3):
        append_correction(_decision(appeal_id=f"a{i}", decision_id=f"d{i}"), "t", "c", path)
    parsed = []
    real = corrections.parse_text
    monkeypatch.setattr(
        corrections, "parse_text", lambda *a, **k: parsed.append(1) or real(*a, **k)
    )
    append_correction(_decision(appeal_id="a7", decision_id="d7"), "t", "c", path)
    assert parsed == []
    append_correction(_decision(appeal_id="a7", decision_id="d7"), "t", "c", path)  # again
    assert parsed == [1]
    assert _ids(path)[-1] == ("a7", "d7") and len(_ids(path)) == 4


def test_no_bytes_written_while_another_holds_the_lock(tmp_path):
    path = tmp_path / "c.csv"
    append_correction(_decision(), "噪音", "吵", path)
    before = path.read_bytes()
    fd = os.open(path, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        t = threading.Thread(
            target=append_correction, args=(_decision(decision_id="d2"), "停水", "三天", path)
        )
        t.start()
        time.sleep(0.2)
        assert path.read_bytes() == before
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
    t.join()
    assert _ids(path) == [("a1", "d1"), ("a1", "d2")]
