"""Range arithmetic (coverage, gaps), adaptive windows and retry classification, against simple oracles."""
from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.chain.rpc import RangeTooLarge, RetryPolicy, RpcError, iter_windows
from harness.ingest import complement, merge_ranges

ranges = st.lists(st.tuples(st.integers(0, 200), st.integers(0, 60)).map(lambda t: (t[0], t[0] + t[1])),
                  max_size=12)


def _blocks(rs):
    return {b for a, z in rs for b in range(a, z + 1)}


@given(ranges)
def test_merge_ranges_is_the_union_with_no_touching_parts(rs):
    merged = merge_ranges(rs)
    assert _blocks(merged) == _blocks(rs)
    for (a1, b1), (a2, b2) in itertools.pairwise(merged):
        assert b1 + 1 < a2  # disjoint and not adjacent
    assert all(a <= b for a, b in merged)


@given(ranges, st.integers(0, 150), st.integers(0, 150))
def test_complement_is_exactly_the_missing_blocks(rs, lo, span):
    hi = lo + span
    holes = complement(merge_ranges(rs), lo, hi)
    assert _blocks(holes) == set(range(lo, hi + 1)) - _blocks(rs)
    assert holes == merge_ranges(holes)


class FakeNode:
    """getLogs over a fixed chain of logs, refusing ranges wider than a limit, like a provider would."""

    def __init__(self, per_block: dict[int, int], limit: int):
        self.per_block, self.limit, self.calls = per_block, limit, []

        class S:
            range_errors = 0
        self.stats = S()

    def get_logs(self, a, b, addresses, topics):
        self.calls.append((a, b))
        if b - a + 1 > self.limit:
            raise RangeTooLarge("query returned more than 10000 results")
        return [{"blockNumber": hex(n)} for n in range(a, b + 1) for _ in range(self.per_block.get(n, 0))]


@given(st.dictionaries(st.integers(0, 300), st.integers(0, 5), max_size=40), st.integers(1, 50),
       st.integers(1, 64), st.integers(0, 300))
def test_windows_cover_every_block_once_in_order(per_block, limit, window, hi):
    node = FakeNode(per_block, limit)
    got = list(iter_windows(node, 0, hi, addresses=None, topic0s=None, window=window, max_window=512,
                            grow_below=3))
    spans = [(a, b) for a, b, _ in got]
    assert spans[0][0] == 0 and spans[-1][1] == hi
    assert all(b1 + 1 == a2 for (_, b1), (a2, _) in itertools.pairwise(spans))
    assert sum(len(logs) for _, _, logs in got) == sum(v for k, v in per_block.items() if k <= hi)
    assert all(b - a + 1 <= limit for a, b in spans)


def test_a_single_block_still_too_large_is_an_error_not_a_skip():
    node = FakeNode({5: 1}, limit=0)
    with pytest.raises(RpcError, match="block 0 alone"):
        list(iter_windows(node, 0, 10, addresses=None, topic0s=None, window=4))


def test_windows_grow_when_quiet_and_shrink_on_refusal():
    node = FakeNode({}, limit=40)
    list(iter_windows(node, 0, 400, addresses=None, topic0s=None, window=5, max_window=1000, grow_below=1))
    sizes = [b - a + 1 for a, b in node.calls]
    assert sizes[:4] == [5, 10, 20, 40]  # doubling while quiet
    assert 80 in sizes and sizes[sizes.index(80) + 1] == 40  # refused, halved


@given(st.integers(0, 20))
def test_backoff_is_bounded_by_the_cap_and_honours_retry_after(attempt):
    p = RetryPolicy(base=0.1, cap=2.0)
    d = p.delay(attempt)
    assert 0 <= d <= min(2.0, 0.1 * 2 ** attempt)
    assert p.delay(attempt, retry_after=1.5) >= 1.5
