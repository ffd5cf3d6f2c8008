"""Where the local Kafka and Redis live and which versions the project runs."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from config.env import int_setting, setting

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class StackSettings:
    """Ports, folders and versions of the project-managed Kafka and Redis."""

    state_dir: Path = field(
        default_factory=lambda: Path(
            setting(
                "STATE_DIR",
                str(PROJECT_ROOT / ".state"),
                "Folder for Kafka/Redis data, logs and pid files",
            )
        )
    )
    kafka_version: str = field(
        default_factory=lambda: setting(
            "KAFKA_VERSION", "4.3.1", "Apache Kafka version fetched from Maven Central"
        )
    )
    kafka_host: str = field(
        default_factory=lambda: setting("KAFKA_HOST", "127.0.0.1", "Kafka listen address")
    )
    kafka_port: int = field(
        default_factory=lambda: int_setting(
            "KAFKA_PORT", 19092, "Kafka client port", low=1, high=65535
        )
    )
    kafka_controller_port: int = field(
        default_factory=lambda: int_setting(
            "KAFKA_CONTROLLER_PORT", 19093, "KRaft controller port", low=1, high=65535
        )
    )
    kafka_heap: str = field(
        default_factory=lambda: setting("KAFKA_HEAP", "768m", "Kafka JVM max heap (-Xmx)")
    )
    redis_host: str = field(
        default_factory=lambda: setting("REDIS_HOST", "127.0.0.1", "Redis listen address")
    )
    redis_port: int = field(
        default_factory=lambda: int_setting("REDIS_PORT", 16379, "Redis port", low=1, high=65535)
    )

    @property
    def kafka_bootstrap(self) -> str:
        return f"{self.kafka_host}:{self.kafka_port}"

    @property
    def kafka_dir(self) -> Path:
        return self.state_dir / "kafka"

    @property
    def kafka_libs(self) -> Path:
        """Cached jars, one folder per version, so a second start needs no network."""
        return self.kafka_dir / f"libs-{self.kafka_version}"

    @property
    def redis_dir(self) -> Path:
        return self.state_dir / "redis"
