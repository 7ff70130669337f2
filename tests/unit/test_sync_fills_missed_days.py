"""A sync after a missed window fills everything since the last contiguous checkpoint, and says so."""
from __future__ import annotations

from harness import ingest
from harness.chain.rpc import RetryPolicy, RpcClient


class QuietChain(RpcClient):
    """An in-memory chain of ``n`` blocks, 2 s apart, with no logs: enough to plan and checkpoint ranges."""

    def __init__(self, n: int) -> None:
        super().__init__("http://127.0.0.1:9", retry=RetryPolicy(attempts=1))
        self.n = n

    def call(self, method, params=None):
        if method == "eth_chainId":
            return "0x89"
        if method == "eth_blockNumber":
            return hex(self.n - 1)
        if method == "eth_getLogs":
            return []
        raise AssertionError(method)

    def batch(self, calls):
        return [{"number": p[0], "timestamp": hex(1_000 + 2 * int(p[0], 16)), "hash": "0x" + "00" * 32}
                for _, p in calls]


def test_sync_after_a_missed_window_fills_the_hole(fresh_db):
    chain = QuietChain(1000)
    ingest.backfill(fresh_db, chain, 0, 300, confirmations=0)
    stats = ingest.sync(fresh_db, chain, since_seconds=100, confirmations=0, margin=0)
    assert ingest.gaps(fresh_db, "rpc:137", 0, 999) == []
    assert "filled from block 301" in str(stats) and "last contiguous checkpoint 300" in str(stats)
    assert stats.from_block == 301


def test_a_sync_inside_the_covered_range_starts_at_its_window(fresh_db):
    chain = QuietChain(1000)
    ingest.backfill(fresh_db, chain, 0, 960, confirmations=0)
    stats = ingest.sync(fresh_db, chain, since_seconds=100, confirmations=0, margin=0)
    assert ingest.gaps(fresh_db, "rpc:137", 0, 999) == []
    assert "filled from" not in str(stats) and stats.from_block == 961
