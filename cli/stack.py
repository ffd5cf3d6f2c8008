"""``hotline stack …``: fetch, start, check and stop the local Kafka and Redis."""

from __future__ import annotations

import typer

from config.stack import StackSettings
from stack import kafka, redis, worker
from stack.process import StackError

app = typer.Typer(
    help="Local Apache Kafka (KRaft) and Redis on loopback, managed by the project.",
    no_args_is_help=True,
)


def _run(step, *args) -> None:
    try:
        typer.echo(step(*args))
    except StackError as exc:
        typer.secho(str(exc), fg=typer.colors.RED, err=True)
        raise typer.Exit(1) from None


@app.command()
def fetch() -> None:
    """Download the Kafka jars with Maven into the state folder (cached; offline afterwards)."""
    s = StackSettings()
    _run(lambda: f"Kafka {s.kafka_version} jars in {kafka.fetch(s, quiet=False)}")


@app.command()
def up() -> None:
    """Start Redis and Kafka (installing/fetching them first if needed) and wait until healthy."""
    s = StackSettings()
    _run(redis.start, s)
    _run(kafka.start, s)


@app.command()
def down(
    wipe: bool = typer.Option(
        False,
        "--wipe",
        help="Also delete their data (topics, Redis keys, the worker's local table state), "
        "so the next start is empty; the Kafka jars stay",
    ),
) -> None:
    """Stop the background worker, Kafka and Redis started by this project."""
    s = StackSettings()
    for step in (worker.stop, kafka.stop, redis.stop):
        _run(step, s)
    if wipe:
        _run(_wipe, s)


def _wipe(s: StackSettings) -> str:
    """Delete Kafka's log folder, Redis's append-only files and faust's local state."""
    import shutil

    for name, healthy in (("Kafka", kafka.healthy), ("Redis", redis.healthy)):
        if healthy(s):  # not ours to stop (started elsewhere): its data is not ours either
            raise StackError(f"{name} still answers on its port; nothing was wiped")
    folders = [s.kafka_dir / "data", s.redis_dir / "appendonlydir", s.state_dir / "faust"]
    for folder in folders:
        shutil.rmtree(folder, ignore_errors=True)
    (s.redis_dir / "dump.rdb").unlink(missing_ok=True)
    return "wiped " + ", ".join(str(f) for f in folders)


@app.command()
def status() -> None:
    """Say whether Kafka and Redis answer; exit 1 if either does not."""
    s = StackSettings()
    k, r = kafka.healthy(s), redis.healthy(s)
    typer.echo(f"Kafka {s.kafka_bootstrap}: {'healthy' if k else 'DOWN'}")
    typer.echo(f"Redis {s.redis_host}:{s.redis_port}: {'healthy' if r else 'DOWN'}")
    if not (k and r):
        raise typer.Exit(1)
