"""The understand agent's periodic log line: where each record's time went."""

from __future__ import annotations

import logging

from streams.batch_stats import BatchStats


def test_the_line_splits_triage_publishing_and_ack_waits_per_record(caplog):
    stats = BatchStats("understand", every_s=3600)
    stats.add(100, work_s=0.05, publish_s=0.02, ack_s=0.01)
    stats.every_s = 0  # the next batch closes the window
    with caplog.at_level(logging.INFO, logger="streams.batch_stats"):
        stats.add(100, work_s=0.03, publish_s=2.0, ack_s=0.03)  # e.g. Redis was away
    (line,) = [r.getMessage() for r in caplog.records]
    assert "understand: 200 records in 2 batches" in line
    assert "0.40 ms triage" in line
    assert "10.10 ms publishing" in line
    assert "0.20 ms waiting for acks" in line
    assert stats.records == 0  # a new window starts
