"""Apache Kafka 4.x in KRaft mode from the official jars on Maven Central.

``fetch`` resolves ``org.apache.kafka:kafka_2.13`` and ``kafka-tools`` with Maven into a
per-version folder of the state directory (so a second start is offline), ``start``
formats the log folder once with ``kafka.tools.StorageTool`` and runs ``kafka.Kafka``
with the machine's Java 17 on loopback.
"""

from __future__ import annotations

import base64
import shutil
import subprocess
import uuid
from pathlib import Path

from config.stack import StackSettings
from stack.process import (
    StackError,
    join_running,
    port_open,
    spawn,
    start_lock,
    stop_pid,
    wait_or_stop,
)

TEMPLATES = Path(__file__).with_name("templates")
LOG4J_VERSION = "2.25.4"
# what identifies our broker in a pid file written without the process's identity
LEGACY = (("kafka.Kafka",),)


def _java() -> str:
    java = shutil.which("java")
    if not java:
        raise StackError(
            "java not found: install a Java 17+ runtime (Debian: openjdk-17-jre-headless)"
        )
    return java


def fetch(s: StackSettings, quiet: bool = True) -> Path:
    """Resolve the Kafka jars with Maven unless they are cached; return the jar folder."""
    libs = s.kafka_libs
    if libs.is_dir() and any(libs.glob(f"kafka_2.13-{s.kafka_version}.jar")):
        return libs
    mvn = shutil.which("mvn")
    if not mvn:
        raise StackError("mvn not found: install Maven (Debian: maven) to fetch the Kafka jars")
    work = s.kafka_dir / "maven"
    work.mkdir(parents=True, exist_ok=True)
    shutil.copy(TEMPLATES / "pom.xml", work / "pom.xml")
    tmp = libs.with_name(libs.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    cmd = [
        mvn, "-B", *(["-q"] if quiet else []), "-f", str(work / "pom.xml"),
        f"-Dkafka.version={s.kafka_version}", f"-Dlog4j.version={LOG4J_VERSION}",
        "dependency:copy-dependencies", f"-DoutputDirectory={tmp}", "-DincludeScope=runtime",
    ]  # fmt: skip
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0:
        raise StackError(
            f"Maven could not resolve Kafka {s.kafka_version}:\n{result.stdout[-3000:]}{result.stderr[-2000:]}"
        )
    tmp.rename(libs)  # only a complete download becomes the cache
    return libs


def _classpath(s: StackSettings) -> str:
    return str(s.kafka_libs / "*")


def properties_value(value: object) -> str:
    """``value`` escaped as ``java.util.Properties.store`` writes a value.

    Kafka reads server.properties with ``Properties.load(InputStream)``, i.e. as ISO-8859-1
    with backslash escapes: a UTF-8 path (a state folder named 数据) would be read as other
    characters, so Kafka would write its data elsewhere and reformat on every start.
    Characters outside printable ASCII become ``\\uXXXX`` (UTF-16, so two for one beyond
    the BMP), backslash and ``= : # !`` get a backslash, and so does a leading space.
    Printable ASCII without those characters is written unchanged.
    """
    out = []
    for i, ch in enumerate(str(value)):
        code = ord(ch)
        if ch == " " and i == 0:
            out.append("\\ ")
        elif ch in "\\=:#!":
            out.append("\\" + ch)
        elif ch in "\t\n\r\f":
            out.append({"\t": "\\t", "\n": "\\n", "\r": "\\r", "\f": "\\f"}[ch])
        elif 0x20 <= code <= 0x7E:
            out.append(ch)
        else:
            units = ch.encode("utf-16-be", "surrogatepass")
            out.extend(f"\\u{units[j] << 8 | units[j + 1]:04X}" for j in range(0, len(units), 2))
    return "".join(out)


def _config(s: StackSettings) -> Path:
    data = s.kafka_dir / "data"
    text = (
        (TEMPLATES / "server.properties")
        .read_text()
        .format(
            host=properties_value(s.kafka_host),
            port=s.kafka_port,
            controller_port=s.kafka_controller_port,
            data_dir=properties_value(data),
        )
    )
    path = s.kafka_dir / "server.properties"
    path.write_text(text, encoding="ascii")
    return path


def new_cluster_id() -> str:
    """A KRaft cluster id: 16 random bytes, base64url without padding, not starting with
    ``-`` (the storage tool would read such an id as an option and fail: one format in 64).
    Kafka's own ``Uuid.randomUuid`` draws again for the same reason."""
    while True:
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not cluster_id.startswith("-"):
            return cluster_id


def _format_storage(s: StackSettings, config: Path) -> None:
    data = s.kafka_dir / "data"
    if (data / "meta.properties").exists():
        return
    cluster_id = new_cluster_id()
    cmd = [
        _java(),
        "-cp",
        _classpath(s),
        "kafka.tools.StorageTool",
        "format",
        "-t",
        cluster_id,
        "-c",
        str(config),
    ]
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0:
        raise StackError(f"formatting Kafka storage failed:\n{result.stdout}{result.stderr}")


def pid_file(s: StackSettings) -> Path:
    return s.kafka_dir / "kafka.pid"


def log_file(s: StackSettings) -> Path:
    return s.kafka_dir / "logs" / "server.log"


def healthy(s: StackSettings) -> bool:
    """The broker answers a metadata request (not merely an open port)."""
    if not port_open(s.kafka_host, s.kafka_port):
        return False
    from stack.kafka_health import broker_ready

    return broker_ready(s.kafka_bootstrap)


def start(s: StackSettings, timeout: float = 90.0) -> str:
    """Fetch, format and start Kafka unless it already runs; wait until healthy.

    A broker an earlier start left coming up is waited for, not started twice; a broker
    this start spawned that does not become healthy in time is stopped again.
    """
    with start_lock(s.kafka_dir, "Kafka"):
        if healthy(s):
            return f"Kafka already running on {s.kafka_bootstrap}"
        pid = join_running(pid_file(s), LEGACY, lambda: healthy(s), timeout, "Kafka", log_file(s))
        if pid is not None:
            return f"Kafka already running on {s.kafka_bootstrap} (pid {pid})"
        if port_open(s.kafka_host, s.kafka_port):
            raise StackError(
                f"port {s.kafka_port} is taken by something that is not a healthy Kafka"
            )
        fetch(s)
        config = _config(s)
        _format_storage(s, config)
        logs = s.kafka_dir / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        cmd = [
            _java(), f"-Xmx{s.kafka_heap}", f"-Xms{min_heap(s.kafka_heap)}", "-XX:+UseG1GC",
            f"-Dkafka.logs.dir={logs}",
            f"-Dlog4j2.configurationFile={TEMPLATES / 'log4j2.properties'}",
            "-cp", _classpath(s), "kafka.Kafka", str(config),
        ]  # fmt: skip
        proc = spawn(cmd, logs / "stdout.log", pid_file(s))
        wait_or_stop(
            proc,
            pid_file(s),
            lambda: healthy(s),
            timeout,
            "Kafka",
            log_file(s),
            exited=lambda: f"Kafka exited at start; see {logs}/stdout.log and {log_file(s)}",
        )
    return f"Kafka {s.kafka_version} started on {s.kafka_bootstrap} (KRaft, data in {s.kafka_dir / 'data'})"


def min_heap(heap: str) -> str:
    """A small initial heap keeps start-up light on shared 2-core machines."""
    return "256m" if heap[-1:].lower() in "mg" else heap


def stop(s: StackSettings) -> str:
    """Stop the broker started by :func:`start` (controlled shutdown on SIGTERM)."""
    return (
        "Kafka stopped"
        if stop_pid(pid_file(s), timeout=60, legacy=LEGACY)
        else "Kafka was not running"
    )
