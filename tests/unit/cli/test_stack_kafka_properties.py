"""server.properties is read by Kafka as ISO-8859-1 with backslash escapes
(``Properties.load(InputStream)``): a state folder with non-ASCII characters must be
written escaped, or the broker formats and uses another (garbled) folder."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from config.stack import StackSettings
from stack import kafka

TRICKY = " lead/数据 dir/é/😀/back\\slash/a=b:c#d!e\tf"


def test_printable_ascii_is_unchanged() -> None:
    path = "/work/main/.state/kafka/data-1_2.x y"
    assert kafka.properties_value(path) == path
    assert kafka.properties_value(19092) == "19092"


def test_escapes_as_java_properties_store_does() -> None:
    assert kafka.properties_value("/tmp/数据") == "/tmp/\\u6570\\u636E"
    assert kafka.properties_value("é") == "\\u00E9"  # Latin-1 too: the file stays ASCII
    assert kafka.properties_value("😀") == "\\uD83D\\uDE00"  # a UTF-16 surrogate pair
    assert kafka.properties_value("a\\b") == "a\\\\b"
    assert kafka.properties_value(" a b") == "\\ a b"  # only a leading space is escaped
    assert kafka.properties_value("=:#!") == "\\=\\:\\#\\!"
    assert kafka.properties_value("\t\n\r\f") == "\\t\\n\\r\\f"


def test_config_of_an_ascii_state_folder_is_as_before(tmp_path) -> None:
    s = StackSettings(state_dir=tmp_path / "state", kafka_port=39092, kafka_controller_port=39093)
    s.kafka_dir.mkdir(parents=True)
    template = (kafka.TEMPLATES / "server.properties").read_text()
    before = template.format(
        host=s.kafka_host, port=39092, controller_port=39093, data_dir=s.kafka_dir / "data"
    )
    assert kafka._config(s).read_bytes() == before.encode()


def test_config_of_a_non_ascii_state_folder_is_ascii(tmp_path) -> None:
    s = StackSettings(state_dir=tmp_path / "状态 dir", kafka_port=39092)
    s.kafka_dir.mkdir(parents=True)
    text = kafka._config(s).read_bytes().decode("ascii")
    assert f"log.dirs={tmp_path}/\\u72B6\\u6001 dir/kafka/data\n" in text


JAVA_LOAD = """
import java.io.FileInputStream;
import java.util.Properties;
public class Load {
    public static void main(String[] args) throws Exception {
        Properties p = new Properties();
        try (FileInputStream in = new FileInputStream(args[0])) { p.load(in); }
        StringBuilder out = new StringBuilder();
        for (char c : p.getProperty("v").toCharArray()) out.append((int) c).append(' ');
        System.out.print(out.toString().trim());
    }
}
"""


@pytest.mark.skipif(not shutil.which("java"), reason="no java to read the file back")
def test_java_properties_load_reads_back_the_value(tmp_path) -> None:
    """What Kafka does with the file: Properties.load(InputStream) gives the value back."""
    (tmp_path / "Load.java").write_text(JAVA_LOAD)
    (tmp_path / "p.properties").write_bytes(f"v={kafka.properties_value(TRICKY)}\n".encode("ascii"))
    result = subprocess.run(
        ["java", str(tmp_path / "Load.java"), str(tmp_path / "p.properties")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    if "jdk.compiler" in result.stderr:
        pytest.skip("the Java runtime cannot run a source file (no jdk.compiler)")
    assert result.returncode == 0, result.stderr
    utf16 = TRICKY.encode("utf-16-be")
    expected = [utf16[i] << 8 | utf16[i + 1] for i in range(0, len(utf16), 2)]
    assert [int(c) for c in result.stdout.split()] == expected


def _jars() -> Path | None:
    libs = StackSettings().kafka_libs  # where `hotline stack fetch` put them
    return libs if any(libs.glob("kafka_2.13-*.jar")) else None


@pytest.mark.skipif(
    not shutil.which("java") or _jars() is None,
    reason="Kafka jars not fetched (`hotline stack fetch`) or no java",
)
def test_storage_tool_formats_a_non_ascii_state_folder_once(tmp_path) -> None:
    """Two `stack up`s format the storage of a folder named 状态 once, in that folder (the
    old config made Kafka format a garbled folder, and the second start failed)."""
    root = tmp_path / "状态 dir"
    s = StackSettings(state_dir=root, kafka_port=39092, kafka_controller_port=39093)
    s.kafka_dir.mkdir(parents=True)
    s.kafka_libs.symlink_to(_jars(), target_is_directory=True)
    config = kafka._config(s)
    kafka._format_storage(s, config)
    meta = s.kafka_dir / "data" / "meta.properties"
    assert meta.exists()
    first = meta.read_text()
    kafka._format_storage(s, kafka._config(s))  # the second start
    assert meta.read_text() == first
    assert sorted(p.name for p in tmp_path.iterdir()) == ["状态 dir"]  # no garbled twin


def test_a_cluster_id_never_starts_with_a_dash(monkeypatch) -> None:
    """The storage tool reads ``-t -…`` as a missing argument: a fresh stack failed to
    format its storage once in 64 starts."""
    import uuid

    drawn = iter([uuid.UUID(bytes=b"\xf8" + bytes(15)), uuid.UUID(bytes=b"\x01" * 16)])
    monkeypatch.setattr(kafka.uuid, "uuid4", lambda: next(drawn))
    assert kafka.new_cluster_id() == "AQEBAQEBAQEBAQEBAQEBAQ"
    monkeypatch.undo()
    assert len({kafka.new_cluster_id() for _ in range(200)}) == 200
