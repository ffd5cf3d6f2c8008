"""The faust worker: app id, broker, topic names and partitions."""

from __future__ import annotations

from dataclasses import dataclass, field

from config.env import SettingError, float_setting, int_setting, redis_url_setting, setting
from config.sla import SlaSettings
from config.stack import StackSettings

#: Stages of the worker, in pipeline order (see ``streams/stages.py``).
STAGES = ("intake", "understand", "sla")


def _stages(raw: str) -> tuple[str, ...]:
    wanted = {s.strip() for s in raw.split(",") if s.strip()}
    unknown = wanted - set(STAGES)
    if unknown or not wanted:
        raise SettingError(
            f"HOTLINE_WORKER_STAGES must name some of {', '.join(STAGES)}; got {raw!r}"
        )
    return tuple(s for s in STAGES if s in wanted)


def group_id_for(app_id: str, stages: tuple[str, ...]) -> str:
    """The consumer group (faust app id, before the topic prefix) of a worker running
    ``stages`` (in :data:`STAGES` order): ``app_id`` itself for every stage."""
    return app_id if stages == STAGES else f"{app_id}-{'-'.join(stages)}"


def _retention_days(days: int) -> int:
    if days < 0:
        raise SettingError(
            f"HOTLINE_CASE_LOG_RETENTION_DAYS must be 0 (forever) or more days, got {days}"
        )
    return days


@dataclass(frozen=True)
class StreamSettings:
    """Worker settings; ``topic_prefix`` lets tests and benchmarks run in isolation."""

    app_id: str = field(
        default_factory=lambda: setting(
            "APP_ID", "hotline12345", "faust app id (consumer group, changelog names)"
        )
    )
    broker: str = field(
        default_factory=lambda: setting(
            "KAFKA_BOOTSTRAP",
            StackSettings().kafka_bootstrap,
            "Kafka bootstrap servers (host:port[,host:port])",
        )
    )
    redis_url: str = field(
        default_factory=lambda: redis_url_setting(
            "REDIS_URL",
            f"redis://{StackSettings().redis_host}:{StackSettings().redis_port}/0",
            "Redis URL for SLA clocks and the contact store",
        )
    )
    topic_prefix: str = field(
        default_factory=lambda: setting("TOPIC_PREFIX", "", "Prefix for every topic name")
    )
    partitions: int = field(
        default_factory=lambda: int_setting(
            "PARTITIONS", 4, "Partitions of the topics the worker creates", low=1
        )
    )
    web_port: int = field(
        default_factory=lambda: int_setting(
            "WEB_PORT", 6066, "faust web port (0 disables it)", low=0, high=65535
        )
    )
    seen_ttl_s: int = field(
        default_factory=lambda: int_setting(
            "SEEN_TTL_S",
            90 * 86400,
            "How long an appeal id is remembered for de-duplication (seconds)",
            low=1,
        )
    )
    contact_ttl_s: int = field(
        default_factory=lambda: int_setting(
            "CONTACT_TTL_S",
            180 * 86400,
            "How long the contact store keeps a citizen's details (phone, name, numbers found "
            "in the text) after their last appeal (seconds; covers the case, its 回访 and a "
            "reopening: raise it where cases stay open, paused, longer; 0 keeps them until "
            "deleted by hand)",
            low=0,
        )
    )
    case_log_retention_days: int = field(
        default_factory=lambda: _retention_days(
            int_setting(
                "CASE_LOG_RETENTION_DAYS",
                0,
                "How long Kafka keeps the case log: assignments.all, cases.events and "
                "sla.alerts, which `hotline sla rebuild` replays (days; 0 keeps it forever, "
                "the default: a period must exceed the longest a case stays open, or a "
                "rebuild loses that case). Applied to these topics at each worker start",
            )
        )
    )
    dossier_ttl_s: int = field(
        default_factory=lambda: int_setting(
            "DOSSIER_TTL_S",
            90 * 86400,
            "How long a case's appeal is kept after its last assignment, for the text of the "
            "next 改派 / 重办 hop (seconds; once the case is closed, at most "
            "HOTLINE_SLA_CLOSED_TTL)",
            low=1,
        )
    )
    batch_window_s: float = field(
        default_factory=lambda: float_setting(
            "BATCH_WINDOW_S",
            0.005,
            "Longest wait to fill a batch (adds at most this latency; under load batches "
            "fill from the backlog without waiting)",
        )
    )
    batch_size: int = field(
        default_factory=lambda: int_setting(
            "BATCH_SIZE", 500, "Max records an agent handles per batch", low=1
        )
    )

    stages: tuple[str, ...] = field(
        default_factory=lambda: _stages(
            setting(
                "WORKER_STAGES",
                ",".join(STAGES),
                "Stages this worker runs, comma-separated, from "
                + "/".join(STAGES)
                + " (scale them as separate workers; a subset gets its own consumer group)",
            )
        )
    )

    producer_max_batch_bytes: int = field(
        default_factory=lambda: int_setting(
            "PRODUCER_MAX_BATCH_BYTES",
            131072,
            "Largest batch of records the producer sends to one partition at once; assignments "
            "carry the appeal text, and with faust's 16 KiB a worker spent ~10 % more CPU per "
            "appeal on producer requests",
            low=1,
        )
    )
    producer_linger_ms: int = field(
        default_factory=lambda: int_setting(
            "PRODUCER_LINGER_MS",
            1,
            "How long the producer waits for more records before sending a batch (ms). The "
            "understand stage hands a whole batch over at once and waits for its acks, so a "
            "longer wait is pure latency: at a steady 500 appeals/s, 5 ms gave a p50 of "
            "32-34 ms against 22-24 ms with 1 or 0; intake, which sends as it goes, lost "
            "about 13 % of its throughput with 0 and nothing measurable with 1",
            low=0,
        )
    )
    producer_request_timeout_s: float = field(
        default_factory=lambda: float_setting(
            "PRODUCER_REQUEST_TIMEOUT_S",
            1200.0,
            "How long the producer keeps retrying a record while the broker is unreachable "
            "(faust's default); a batch whose records still fail is sent again",
        )
    )

    triage_processes: int = field(
        default_factory=lambda: int_setting(
            "TRIAGE_PROCESSES",
            0,
            "Processes for classification and routing (0: a thread of the worker process)",
            low=0,
        )
    )
    triage_chunk_timeout_s: float = field(
        default_factory=lambda: float_setting(
            "TRIAGE_CHUNK_TIMEOUT_S",
            60.0,
            "With triage processes: seconds without a chunk's result (100 appeals, about "
            "50 ms) before its process is taken for stuck and the processes are restarted",
            low=0.1,
        )
    )

    @property
    def group_id(self) -> str:
        """Consumer group (faust app id): one per set of stages, so split workers never share."""
        return group_id_for(self.app_id, self.stages)

    @property
    def redis_prefix(self) -> str:
        """Redis keys carry the topic prefix too, so isolated runs never share state."""
        return self.topic_prefix

    @property
    def sla_redis_prefix(self) -> str:
        """The SLA clocks' keys: the run's prefix, then ``HOTLINE_SLA_REDIS_PREFIX``. The
        worker and the supervisors' commands (``hotline sla``) both read it here."""
        return f"{self.redis_prefix}{SlaSettings().redis_prefix}"

    def topic(self, name: str) -> str:
        """Full topic name for ``name``."""
        return f"{self.topic_prefix}{name}"

    @property
    def case_log_retention_ms(self) -> str:
        """``retention.ms`` of the case-log topics: ``-1`` (forever) for 0 days."""
        days = self.case_log_retention_days
        return "-1" if days == 0 else str(days * 86_400_000)
