"""In-process throughput of appeal classification: naive per-message vs the batch API.

Usage: ``.venv/bin/python bench/classify_throughput.py [--n 2000] [--runs 5] [--batch 500]``

Needs a trained model (``hotline train``). Messages are the real appeals of
``hot_messages.csv`` (title + content), cycled to ``--n``. Prints appeals/s per path
(median of ``--runs``), the ratio, and a JSON line with the figures last.

* naive: for each message, jieba tokens for the stream, then ``classify_batch`` of one
  (segments the text a second time, one sparse matrix of one row per predict call);
* batched: ``classify_batch`` of ``--batch`` messages (segment once, one predict call),
  whose results carry the jieba tokens the stream needs.
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from config.data import DATA_DIR  # noqa: E402
from understand import load_classifier  # noqa: E402
from understand.segment import tokenize  # noqa: E402


def load_messages(n: int) -> list[tuple[str, str]]:
    with (DATA_DIR / "hot_messages.csv").open(encoding="utf-8") as fh:
        rows = [(r["subject"], r["detail"]) for r in csv.DictReader(fh)]
    return [rows[i % len(rows)] for i in range(n)]


def naive(clf, items) -> None:
    for title, content in items:
        tokenize(f"{title}。{content}")
        clf.classify_batch([(title, content)])


def batched(clf, items, batch: int) -> None:
    for start in range(0, len(items), batch):
        clf.classify_batch(items[start : start + batch])


def rate(fn, items, runs: int) -> float:
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        fn(items)
        timings.append(time.perf_counter() - started)
    return len(items) / statistics.median(timings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000, help="messages per run")
    parser.add_argument("--runs", type=int, default=5, help="runs per path (median reported)")
    parser.add_argument("--batch", type=int, default=500, help="batch size of the batched path")
    args = parser.parse_args()
    clf = load_classifier()
    items = load_messages(args.n)
    clf.classify_batch(items[:50])  # warm up: jieba dictionary, lazy imports
    naive_rate = rate(lambda it: naive(clf, it), items[: max(200, args.n // 5)], args.runs)
    batch_rate = rate(lambda it: batched(clf, it, args.batch), items, args.runs)
    print(f"model {clf.version}, {args.n} messages, median of {args.runs} runs")
    print(f"naive per-message : {naive_rate:8.0f} appeals/s")
    print(f"batched ({args.batch:>4})    : {batch_rate:8.0f} appeals/s")
    print(f"ratio             : {batch_rate / naive_rate:8.1f}x")
    print(
        json.dumps(
            {
                "naive_per_s": round(naive_rate),
                "batched_per_s": round(batch_rate),
                "ratio": round(batch_rate / naive_rate, 2),
                "batch": args.batch,
                "n": args.n,
                "runs": args.runs,
                "model_version": clf.version,
            }
        )
    )


if __name__ == "__main__":
    main()
