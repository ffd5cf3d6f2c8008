"""The cached partitioner places keys exactly where aiokafka's default partitioner does."""

from __future__ import annotations

import random

from aiokafka.partitioner import DefaultPartitioner

from streams.partitioner import cached_partitioner


def test_keyed_records_land_where_the_default_partitioner_puts_them():
    default = DefaultPartitioner()
    rnd = random.Random(3)
    keys = [
        f"{rnd.choice(['hotline', 'mailbox', 'wechat'])}-{rnd.getrandbits(64):x}"
        for _ in range(400)
    ]
    keys += ["", "市长信箱-投诉-1", "x" * 300]  # empty, non-ASCII, long
    for n in (1, 3, 4, 12):
        partitions = list(range(n))
        for key in [k.encode() for k in keys]:
            for _ in range(2):  # computed, then remembered
                assert cached_partitioner(key, partitions, partitions) == default(
                    key, partitions, partitions
                )


def test_a_partition_list_that_is_not_0_to_n_is_indexed_like_the_default():
    default = DefaultPartitioner()
    partitions = [2, 5, 7]
    for key in (b"a", b"hotline-1", b"mailbox-2"):
        assert cached_partitioner(key, partitions, partitions[:1]) == default(
            key, partitions, partitions[:1]
        )


def test_records_without_a_key_go_to_an_available_partition():
    assert {cached_partitioner(None, [0, 1, 2, 3], [1, 3]) for _ in range(200)} == {1, 3}
    assert {cached_partitioner(None, [0, 1], []) for _ in range(200)} == {0, 1}
