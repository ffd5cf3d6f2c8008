"""After a rebalance, stream partitions with nothing committed are read from their start.

faust's own seek leaves such a partition where the fetcher got to, past records it
fetched and dropped (the crash-consistency test lost whole partition starts that way);
the patched seek also moves each of them to its first offset. Changelog partitions are
the table recovery's business and are left alone.
"""

from __future__ import annotations

from types import SimpleNamespace

from faust.types.tuples import TP

from streams import recovery_order

RAW_0, RAW_1, PIECES_2 = TP("raw.wechat", 0), TP("raw.wechat", 1), TP("intake.wechat.pieces", 2)
CHANGELOG_0 = TP("app-wechat-sessions-changelog", 0)


class FakeConsumer:
    """What the seek touches of faust's consumer: committed and read offsets, the seeks."""

    def __init__(self, committed: dict[TP, int | None], earliest: dict[TP, int]):
        self._committed_offset: dict[TP, int | None] = {}
        self._read_offset: dict[TP, int | None] = {tp: 99 for tp in committed}
        self.app = SimpleNamespace(tables=SimpleNamespace(changelog_topics={CHANGELOG_0.topic}))
        self.committed, self.earliest = committed, earliest
        self.sought: dict[TP, int] = {}

    def assignment(self) -> set[TP]:
        return set(self.committed)

    async def seek_to_committed(self) -> dict[TP, int | None]:
        return dict(self.committed)

    async def earliest_offsets(self, *tps: TP) -> dict[TP, int]:
        return {tp: self.earliest[tp] for tp in tps}

    async def seek_wait(self, offsets: dict[TP, int]) -> None:
        self.sought.update(offsets)


async def test_only_stream_partitions_with_nothing_committed_go_back_to_their_start():
    consumer = FakeConsumer(
        committed={RAW_0: 40, RAW_1: None, PIECES_2: None, CHANGELOG_0: None},
        earliest={RAW_1: 0, PIECES_2: 7},  # 7: the first records already deleted (retention)
    )
    await recovery_order._seek_uncommitted_to_start(consumer)
    assert consumer.sought == {RAW_1: 0, PIECES_2: 7}
    # faust's own part still ran: read offsets follow the committed ones
    assert consumer._read_offset[RAW_0] == 40 and consumer._committed_offset[RAW_0] == 40


async def test_nothing_is_sought_again_when_every_stream_partition_has_a_commit():
    consumer = FakeConsumer(committed={RAW_0: 3, RAW_1: 1, CHANGELOG_0: None}, earliest={})
    await recovery_order._seek_uncommitted_to_start(consumer)
    assert consumer.sought == {}


def test_install_patches_faust_once():
    from faust.tables.recovery import Recovery
    from faust.transport.consumer import Consumer

    recovery_order.install()
    recovery_order.install()
    assert Consumer.perform_seek is recovery_order._seek_uncommitted_to_start
    assert Recovery.on_recovery_completed is recovery_order._seek_before_fetching
