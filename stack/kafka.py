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
from stack.process import StackError, port_open, spawn, stop_pid, wait_until

TEMPLATES = Path(__file__).with_name("templates")
LOG4J_VERSION = "2.25.4"


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


def _config(s: StackSettings) -> Path:
    data = s.kafka_dir / "data"
    text = (
        (TEMPLATES / "server.properties")
        .read_text()
        .format(
            host=s.kafka_host,
            port=s.kafka_port,
            controller_port=s.kafka_controller_port,
            data_dir=data,
        )
    )
    path = s.kafka_dir / "server.properties"
    path.write_text(text)
    return path


def _format_storage(s: StackSettings, config: Path) -> None:
    data = s.kafka_dir / "data"
    if (data / "meta.properties").exists():
        return
    # a KRaft cluster id is 16 random bytes, base64url without padding
    cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
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
    """Fetch, format and start Kafka unless it already runs; wait until healthy."""
    if healthy(s):
        return f"Kafka already running on {s.kafka_bootstrap}"
    if port_open(s.kafka_host, s.kafka_port):
        raise StackError(f"port {s.kafka_port} is taken by something that is not a healthy Kafka")
    fetch(s)
    config = _config(s)
    _format_storage(s, config)
    logs = s.kafka_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    cmd = [
        _java(), f"-Xmx{s.kafka_heap}", f"-Xms{min_heap(s.kafka_heap)}", "-XX:+UseG1GC",
        f"-Dkafka.logs.dir={logs}", f"-Dlog4j2.configurationFile={TEMPLATES / 'log4j2.properties'}",
        "-cp", _classpath(s), "kafka.Kafka", str(config),
    ]  # fmt: skip
    proc = spawn(cmd, logs / "stdout.log", pid_file(s))
    wait_until(lambda: proc.poll() is not None or healthy(s), timeout, "Kafka", log_file(s))
    if proc.poll() is not None:
        raise StackError(f"Kafka exited at start; see {logs}/stdout.log and {log_file(s)}")
    return f"Kafka {s.kafka_version} started on {s.kafka_bootstrap} (KRaft, data in {s.kafka_dir / 'data'})"


def min_heap(heap: str) -> str:
    """A small initial heap keeps start-up light on shared 2-core machines."""
    return "256m" if heap[-1:].lower() in "mg" else heap


def stop(s: StackSettings) -> str:
    """Stop the broker started by :func:`start` (controlled shutdown on SIGTERM)."""
    return "Kafka stopped" if stop_pid(pid_file(s), timeout=60) else "Kafka was not running"
