"""In-process throughput of appeal classification: naive per-message vs the batch API.

Usage: ``.venv/bin/python bench/classify_throughput.py [--n 2000] [--runs 3] [--batch 500]``

Needs a trained model (``hotline train``). Messages are the real appeals of
``hot_messages.csv`` (title + content), cycled to ``--n``. Each path runs ``--runs`` times
on one core (this process); the median is reported. Paths:

* naive: for each message, pure-Python jieba tokens of the whole text (what a consumer
  that segments for itself does), then ``classify_batch`` of that one message;
* single: ``classify_batch`` of one message at a time (no extra segmentation);
* batched: ``classify_batch`` of ``--batch`` messages: one feature matrix, one predict.

The last line is a JSON summary with the command line.
"""

from __future__ import annotations

import argparse
import csv
import json
import shlex
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from config.data import DATA_DIR  # noqa: E402
from understand import load_classifier, segment  # noqa: E402


def load_messages(n: int) -> list[tuple[str, str]]:
    with (DATA_DIR / "hot_messages.csv").open(encoding="utf-8") as fh:
        rows = [(r["subject"], r["detail"]) for r in csv.DictReader(fh)]
    return [rows[i % len(rows)] for i in range(n)]


def naive(clf, items) -> None:
    for title, content in items:
        segment.content_tokens(segment.cut_reference(f"{title}。{content}"))
        clf.classify_batch([(title, content)])


def single(clf, items) -> None:
    for item in items:
        clf.classify_batch([item])


def batched(clf, items, batch: int) -> None:
    for start in range(0, len(items), batch):
        clf.classify_batch(items[start : start + batch])


def rate(fn, items, runs: int) -> tuple[float, list[float], float]:
    """Median appeals/s over wall-clock time, all runs, and median over this process's CPU
    time (the same unless other processes compete for the core)."""
    rates, cpu_rates = [], []
    for _ in range(runs):
        started, cpu_started = time.perf_counter(), time.process_time()
        fn(items)
        rates.append(len(items) / (time.perf_counter() - started))
        cpu_rates.append(len(items) / (time.process_time() - cpu_started))
    return statistics.median(rates), rates, statistics.median(cpu_rates)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000, help="messages per batched run")
    parser.add_argument("--runs", type=int, default=3, help="runs per path (median reported)")
    parser.add_argument("--batch", type=int, default=500, help="batch size of the batched path")
    args = parser.parse_args()
    command = shlex.join([".venv/bin/python", *sys.argv])
    clf = load_classifier()
    items = load_messages(args.n)
    clf.classify_batch(items[:50])  # warm up: dictionaries, lazy imports
    segment.cut_reference("预热")
    small = items[: max(200, args.n // 5)]  # the per-message paths are slow: fewer messages
    naive_rate, naive_all, naive_cpu = rate(lambda it: naive(clf, it), small, args.runs)
    single_rate, single_all, single_cpu = rate(lambda it: single(clf, it), small, args.runs)
    batch_rate, batch_all, batch_cpu = rate(
        lambda it: batched(clf, it, args.batch), items, args.runs
    )
    print(f"$ {command}")
    print(
        f"model {clf.version}, {args.n} messages (char n-grams of the first"
        f" {clf.feature_chars} chars, jieba on the first {clf.segment_chars}), C++"
        f" segmentation {'on' if segment.accelerated() else 'OFF'},"
        f" median of {args.runs} runs"
    )
    print(f"{'appeals/s':>46} {'(per CPU-second)':>18}")
    print(f"naive per-message (jieba + predict): {naive_rate:8.0f} {naive_cpu:14.0f}")
    print(f"single-message classify_batch     : {single_rate:8.0f} {single_cpu:14.0f}")
    print(f"batched classify_batch ({args.batch:>4})     : {batch_rate:8.0f} {batch_cpu:14.0f}")
    print(f"ratio batched / naive             : {batch_rate / naive_rate:8.1f}x")
    print(
        json.dumps(
            {
                "command": command,
                "naive_per_s": round(naive_rate),
                "single_per_s": round(single_rate),
                "batched_per_s": round(batch_rate),
                "batched_runs_per_s": [round(r) for r in batch_all],
                "naive_per_cpu_s": round(naive_cpu),
                "single_per_cpu_s": round(single_cpu),
                "batched_per_cpu_s": round(batch_cpu),
                "naive_runs_per_s": [round(r) for r in naive_all],
                "single_runs_per_s": [round(r) for r in single_all],
                "ratio": round(batch_rate / naive_rate, 2),
                "batch": args.batch,
                "n": args.n,
                "runs": args.runs,
                "accelerated_segmentation": segment.accelerated(),
                "model_version": clf.version,
            }
        )
    )


if __name__ == "__main__":
    main()
