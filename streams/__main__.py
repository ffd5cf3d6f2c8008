"""``python -m streams worker -l info`` runs the faust worker with every agent loaded.

Before the worker starts, every topic it reads or writes is created with the configured
partitions. The web server follows ``HOTLINE_WEB_PORT`` (0 turns it off) unless web
options are given.
"""

import asyncio
import socket
import sys

from aiokafka.errors import KafkaConnectionError, KafkaError

from stack.topic_admin import align_topic_configs, ensure_topics, ensure_topics_sync
from streams.changelog_move import move_changelog
from streams.log_throttle import throttle_kafka_client_logs

try:
    from streams.app import load_all, settings
except ValueError as exc:  # a HOTLINE_* setting that cannot be read: name it, no traceback
    print(f"error: {exc}", file=sys.stderr)
    raise SystemExit(2) from None

COMPACTED = {"cleanup.policy": "compact"}  # what faust gives a table's changelog


async def prepare_faust_topics(app) -> None:
    """Create faust's own topics (the leader-assignor topic, each table's changelog) as faust
    would, before the worker starts, and see them in the broker's metadata.

    Left to faust, these topics are created moments before the consumer joins its group; a
    broker still busy with the department topics may not list them yet, the consumer then
    ignores them for minutes, and the first table write fails with PartitionsMismatch
    (every WeChat piece was lost that way after a fresh broker start).
    """
    # faust's LeaderAssignor._leader_topic_name; reading it from app._leader_assignor would
    # build the assignor on this short-lived event loop and break the worker's start
    leader = f"{app.conf.id}-__assignor-__leader"
    await ensure_topics(settings.broker, [leader], 1)
    for table in app.tables.values():
        changelog = table.changelog_topic.get_topic_name()
        partitions = table.partitions or settings.partitions
        await ensure_topics(settings.broker, [changelog], partitions, configs=COMPACTED)
        former = f"{app.conf.id}-{table.name}-changelog"  # faust's own name (per stages)
        if former == changelog:
            continue
        moved = await move_changelog(settings.broker, former, changelog)
        if moved is not None:
            print(
                f"{table.name}: {moved} records moved from {former} to {changelog}", file=sys.stderr
            )


async def prepare_case_log() -> None:
    """Create the case-log topics (``TopicSpec.case_log``) with their retention
    (``HOTLINE_CASE_LOG_RETENTION_DAYS``) and give it to those created before: under the
    broker's default (7 days) a rebuild from Kafka would lose every case older than that."""
    from streams.topics import case_log_topic_names

    retention = {"retention.ms": settings.case_log_retention_ms}
    names = case_log_topic_names()
    await ensure_topics(settings.broker, names, settings.partitions, configs=retention)
    changed = await align_topic_configs(settings.broker, names, retention)
    if changed:
        kept = "forever" if retention["retention.ms"] == "-1" else f"{retention['retention.ms']} ms"
        print(f"case log retention set to {kept} on {', '.join(changed)}", file=sys.stderr)


async def hand_over_offsets(app) -> None:
    """Resume each topic this worker reads where another arrangement of the stages stopped
    (:mod:`streams.group_handover`), so splitting or merging workers reprocesses nothing."""
    from streams.group_handover import describe, hand_over, other_arrangements

    topics = {t for agent in app.agents.values() for t in getattr(agent.channel, "topics", ())}
    moves = await hand_over(settings.broker, app.conf.id, other_arrangements(settings), topics)
    for line in describe(app.conf.id, moves):
        print(line, file=sys.stderr)


def warn_missing_overrides() -> None:
    """Say so when ``HOTLINE_SLA_CALENDAR_OVERRIDES`` names a file that is not there: the
    calendar then has no local days off, and a mistyped path would drop them silently.
    Not an error: ``hotline sla declare-year`` creates the file at its first use."""
    import os

    from config.sla import DEFAULTS

    if os.environ.get("HOTLINE_SLA_CALENDAR_OVERRIDES") and not DEFAULTS.overrides_file.exists():
        print(
            f"warning: HOTLINE_SLA_CALENDAR_OVERRIDES names {DEFAULTS.overrides_file}, which "
            "does not exist: deadlines use the national calendar without local days off",
            file=sys.stderr,
        )


def preflight() -> None:
    """Exit 2 with the reason when a stage's model or setting is missing or bad, before the
    worker starts.

    Left to the agent, a missing classifier crashes it at its first batch and faust's
    supervisor restarts it in a loop while the worker looks alive and appeals pile up.
    """
    warn_missing_overrides()
    if "understand" not in settings.stages:
        return
    from streams.review_wait import review_clock

    try:
        review_clock()
    except ValueError as exc:  # a bad duration would crash every parking of an appeal
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    from understand.artifact import ModelNotFoundError, ModelUnreadableError, load_classifier

    try:
        # loaded, not only found: a cut-off or outdated artifact fails the same way (0.2 s)
        load_classifier()
    except (ModelNotFoundError, ModelUnreadableError) as exc:
        print(f"error: the understand stage needs a classifier: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


WEB_BIND = "127.0.0.1"


def web_options(argv: list[str]) -> list[str]:
    """faust's web options from ``HOTLINE_WEB_PORT``, none when ``argv`` has its own.

    Exit 2 when the port is taken (most often by another worker on this machine): faust
    would bind it only after joining the group, and end in a traceback. A check, not a
    reservation: a port taken between the two still fails in faust.
    """
    if any(a.startswith(("--with", "--web", "-p")) for a in argv):
        return []
    port = settings.web_port
    if port == 0:
        return ["--without-web"]
    with socket.socket() as probe:
        # as asyncio's server does: a port left in TIME_WAIT by a stopped worker is free
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((WEB_BIND, port))
        except OSError as exc:
            print(
                f"error: the worker's web port {WEB_BIND}:{port} cannot be used "
                f"({exc.strerror or exc}; another worker on this machine?): set "
                "HOTLINE_WEB_PORT to a free port, or to 0 to run without the web server",
                file=sys.stderr,
            )
            raise SystemExit(2) from None
    return ["--web-port", str(port), "--web-bind", WEB_BIND]


if __name__ == "__main__":
    argv = sys.argv[1:]
    throttle_kafka_client_logs()
    app = load_all()
    if argv[:1] == ["worker"]:
        preflight()  # before Kafka: a missing model or bad setting is said first, and alone
        argv += web_options(argv)  # a taken port too
        from streams.topics import ALL, DEPARTMENT_PARTITIONS, department_topic_names

        try:
            asyncio.run(prepare_case_log())  # first: the generic creation below sets no retention
            ensure_topics_sync(
                settings.broker, [t.get_topic_name() for t in ALL], settings.partitions
            )
        except KafkaConnectionError:
            print(
                f"error: Kafka at {settings.broker} is not reachable "
                "(`hotline stack up` starts the project's own, or set HOTLINE_KAFKA_BOOTSTRAP)",
                file=sys.stderr,
            )
            raise SystemExit(2) from None
        # department topics too: creating ~300 topics one by one on first send stalls dispatch
        departments = department_topic_names()
        ensure_topics_sync(settings.broker, departments, DEPARTMENT_PARTITIONS)
        asyncio.run(prepare_faust_topics(app))
        try:
            asyncio.run(hand_over_offsets(app))
        except KafkaError as exc:
            print(
                f"error: Kafka at {settings.broker} did not say where the consumer groups "
                f"stopped ({type(exc).__name__}: {exc})",
                file=sys.stderr,
            )
            raise SystemExit(2) from None
    sys.argv = [sys.argv[0], *argv]
    app.main()
