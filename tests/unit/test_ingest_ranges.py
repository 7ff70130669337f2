"""Range arithmetic (coverage, gaps), adaptive windows and retry classification, against simple oracles."""
from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.chain.rpc import RangeTooLarge, RetryPolicy, RpcError, WindowTimedOut, iter_windows
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

    def __init__(self, per_block: dict[int, int], limit: int, stalls=None):
        self.per_block, self.limit, self.calls = per_block, limit, []
        self.stalls = stalls or (lambda a, b: False)  # (a, b) -> the node times out on this window this time
        self.retry, self.sleep = RetryPolicy(base=0, cap=0), lambda s: None

        class S:
            range_errors = 0
        self.stats = S()

    def get_logs(self, a, b, addresses, topics):
        self.calls.append((a, b))
        if b - a + 1 > self.limit:
            raise RangeTooLarge("query returned more than 10000 results")
        if self.stalls(a, b):
            raise WindowTimedOut("timed out twice")
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


@given(st.dictionaries(st.integers(0, 300), st.integers(0, 5), max_size=40), st.integers(1, 64),
       st.integers(0, 300), st.data())
def test_windows_that_time_out_at_random_still_cover_every_block_once(per_block, window, hi, data):
    """Any pattern of timed-out windows (a single block may stall too, a few times): same exact cover."""
    budget = {"single": 0}

    def stalls(a, b):
        if a == b:  # a one-block window may stall, but not forever (then it is an error, tested below)
            budget["single"] += 1
            return budget["single"] % 3 == 0
        return data.draw(st.booleans(), label=f"stall {a}..{b}")

    node = FakeNode(per_block, limit=10**9, stalls=stalls)
    got = list(iter_windows(node, 0, hi, addresses=None, topic0s=None, window=window, max_window=512))
    spans = [(a, b) for a, b, _ in got]
    assert spans[0][0] == 0 and spans[-1][1] == hi
    assert all(b1 + 1 == a2 for (_, b1), (a2, _) in itertools.pairwise(spans))
    assert sum(len(logs) for _, _, logs in got) == sum(v for k, v in per_block.items() if k <= hi)


def test_a_timed_out_window_halves_and_grows_back_only_after_a_streak():
    node = FakeNode({}, limit=10**9, stalls=lambda a, b: (a, b) == (0, 63))
    list(iter_windows(node, 0, 400, addresses=None, topic0s=None, window=64, max_window=64, grow_below=1,
                      grow_after=4))
    sizes = [b - a + 1 for a, b in node.calls]
    assert sizes[:6] == [64, 32, 32, 32, 32, 64]  # halved; 4 good windows; then back to 64


def test_a_single_block_still_too_large_is_an_error_not_a_skip():
    node = FakeNode({5: 1}, limit=0)
    with pytest.raises(RpcError, match="block 0 alone"):
        list(iter_windows(node, 0, 10, addresses=None, topic0s=None, window=4))
    assert node.calls[-4:] == [(0, 0)] * 4  # asked again a few times before giving up


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
