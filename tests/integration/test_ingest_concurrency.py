"""eth_getLogs requests in flight (``concurrency``) against a node that answers every request 50 ms late (the fault
proxy's latency, in front of anvil): the rows and checkpoints equal a one-request-at-a-time backfill, the windows
are applied in block order, and a window that fails stops the run after the windows before it, never after."""
from __future__ import annotations

from itertools import pairwise

import pytest

from harness import ingest
from harness.chain.faultproxy import FaultPlan
from harness.chain.rpc import RetryPolicy, RpcClient, RpcError
from harness.gates.pipeline import RAW_TABLES, fingerprint

pytestmark = pytest.mark.anvil
LATENCY = 0.05
WINDOW = 40  # blocks per eth_getLogs: the replayed chain is many windows


@pytest.fixture(scope="module")
def one_at_a_time(replayed_chain, module_db):
    """Raw tables and checkpoints of a plain backfill (no proxy, one request at a time)."""
    node, rep = replayed_chain
    db = module_db()
    stats = ingest.backfill(db, node.url, 0, rep.last_block, confirmations=0, window=WINDOW, max_window=WINDOW,
                            preparations=False)
    return fingerprint(db, RAW_TABLES), stats


def _checkpoints(db, source: str) -> list[tuple[int, int]]:
    rows = db.query("SELECT DISTINCT from_block, to_block FROM ingest_checkpoints WHERE source = {s:String} "
                    "ORDER BY from_block", parameters={"s": source}).result_rows
    return [(int(a), int(b)) for a, b in rows]


def test_requests_in_flight_over_a_slow_node_give_the_same_rows(replayed_chain, fault_proxy, new_db,
                                                                 one_at_a_time):
    node, rep = replayed_chain
    clean_fp, clean = one_at_a_time
    proxy = fault_proxy(node.url, FaultPlan(rate=0.0, latency=LATENCY))
    db = new_db()
    stats = ingest.backfill(db, RpcClient(proxy.url), 0, rep.last_block, confirmations=0, window=WINDOW,
                            max_window=WINDOW, preparations=False, concurrency=8, batch_blocks=5 * WINDOW)
    assert stats.logs == clean.logs and stats.rows == clean.rows
    assert fingerprint(db, RAW_TABLES) == clean_fp  # the same rows, byte for byte
    assert ingest.gaps(db, stats.source, 0, rep.last_block) == []
    spans = _checkpoints(db, stats.source)
    assert spans[0][0] == 0 and spans[-1][1] == rep.last_block
    assert all(b + 1 == c for (_, b), (c, _) in pairwise(spans)), spans  # whole, in order, no overlap
    # requests really overlapped at the node (throughput against a bare loop is bench_ingest.py --latency's job:
    # a wall-clock bound here would measure the shared machine)
    assert 4 <= proxy.stats.max_in_flight <= 8, proxy.stats


def test_a_window_that_keeps_failing_stops_the_run_after_the_windows_before_it(replayed_chain, fault_proxy,
                                                                               new_db, one_at_a_time):
    """Windows from block ``bad`` on answer HTTP 500 every time. With 8 in flight, later windows are fetched (or
    fail) before earlier ones are applied; the run still stops with checkpoints whole and in order, ending before
    ``bad``, and rows of no block after the last checkpoint. A re-run without the fault then fills the rest."""
    node, rep = replayed_chain
    clean_fp, _ = one_at_a_time
    bad = rep.last_block // 2
    proxy = fault_proxy(node.url, FaultPlan(rate=0.0, latency=LATENCY / 5, fail_from_block=bad))
    rpc = RpcClient(proxy.url, retry=RetryPolicy(attempts=2, base=0.001, cap=0.001))
    db = new_db()
    with pytest.raises(RpcError, match="gave up after 2 attempts"):
        ingest.backfill(db, rpc, 0, rep.last_block, confirmations=0, window=WINDOW, max_window=WINDOW,
                        preparations=False, concurrency=8, batch_blocks=2 * WINDOW)
    source = ingest.rpc_source_name(RpcClient(node.url))
    spans = _checkpoints(db, source)
    assert spans and spans[0][0] == 0, spans
    assert all(b + 1 == c for (_, b), (c, _) in pairwise(spans)), spans
    last = spans[-1][1]
    assert last < bad, (last, bad)
    for table in ("erc1155_transfers", "trades_raw"):
        beyond = db.query(f"SELECT count() FROM {table} WHERE block_number > {{b:UInt64}}",
                          parameters={"b": last}).result_rows[0][0]
        assert beyond == 0, f"{table}: {beyond} rows after the last checkpoint {last}"
    stats = ingest.backfill(db, RpcClient(node.url), 0, rep.last_block, confirmations=0, window=WINDOW,
                            max_window=WINDOW, preparations=False, concurrency=4)
    assert ingest.gaps(db, stats.source, 0, rep.last_block) == []
    assert fingerprint(db, RAW_TABLES) == clean_fp


def test_concurrency_outside_its_bounds_is_refused(replayed_chain):
    node, _ = replayed_chain
    for bad in (0, -1, 65, 2.5):
        with pytest.raises(ValueError, match="concurrency"):
            ingest.RpcSource(RpcClient(node.url), concurrency=bad)


def test_backfill_command_takes_rpc_concurrency(replayed_chain, fault_proxy, new_db, warehouse_settings, capsys,
                                                one_at_a_time):
    """``backfill --rpc-concurrency 6`` through the slow proxy: the same rows, with requests overlapping; an
    out-of-range value is refused before anything is fetched."""
    from harness.__main__ import main
    from tests.support.target import warehouse_args

    node, rep = replayed_chain
    clean_fp, _ = one_at_a_time
    proxy = fault_proxy(node.url, FaultPlan(rate=0.0, latency=LATENCY))
    db = new_db()
    name = db.query("SELECT currentDatabase()").result_rows[0][0]
    args = ["backfill", "--rpc-url", proxy.url, "--from-block", "0", "--to-block", str(rep.last_block),
            "--confirmations", "0", "--window", str(WINDOW), "--max-window", str(WINDOW), "--no-preparations",
            *warehouse_args(warehouse_settings, name)]
    assert main([*args, "--rpc-concurrency", "6"]) == 0, capsys.readouterr()
    assert fingerprint(db, RAW_TABLES) == clean_fp
    assert proxy.stats.max_in_flight >= 3, proxy.stats
    before = proxy.stats.methods["eth_getLogs"]
    assert main([*args, "--rpc-concurrency", "65"]) != 0
    assert "concurrency=65 must be 1..64" in capsys.readouterr().err
    assert proxy.stats.methods["eth_getLogs"] == before
