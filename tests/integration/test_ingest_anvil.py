"""Ingestion against a real node: anvil on loopback replaying the source logs as real transactions."""
from __future__ import annotations

import itertools
import random

import pytest

from harness import ingest
from harness.chain.decode import COLUMNS, decode_logs
from harness.chain.rpc import RetryPolicy, RpcClient
from harness.gates.pipeline import RAW_TABLES, fingerprint
from tests.support.chainlogs import content

pytestmark = pytest.mark.anvil
FAULT_SPAN = 60  # blocks the fault test covers
REORG_BLOCKS = 40  # recorded blocks the reorg test replays before forking


def _known(logs):
    """The logs getLogs can return: those of a known (address, topic0)."""
    addrs, topics = set(ingest.ingest_addresses()), set(ingest.ingest_topic0s())
    return [lg for lg in logs if lg["address"].lower() in addrs and lg["topics"]
            and lg["topics"][0].lower() in topics and not lg.get("removed")]


def _rows_without_tx(client, table):
    cols = [c for c in COLUMNS[table] if c not in ("tx_hash", "_version", "_deleted")]
    sel = ", ".join("toUnixTimestamp(block_time)" if c == "block_time" else f"`{c}`" for c in cols)
    return sorted(client.query(f"SELECT {sel} FROM `{table}` FINAL").result_rows)


def test_replay_emits_the_source_logs_in_order(replayed_chain, chain_logs):
    node, rep = replayed_chain
    got = node.call("eth_getLogs", {"fromBlock": hex(rep.first_block), "toBlock": hex(rep.last_block)})
    assert content(got) == content([lg for lg in chain_logs if not lg.get("removed")])
    # same block times and per-block log indices as recorded
    assert [(int(g["blockTimestamp"], 16), int(g["logIndex"], 16)) for g in got] == \
        [(int(s["blockTimestamp"], 16), int(s["logIndex"], 16)) for s in chain_logs if not s.get("removed")]


def test_full_backfill_equals_the_source(replayed_chain, chain_logs, new_db):
    node, rep = replayed_chain
    db = new_db()
    stats = ingest.backfill(db, node.url, 0, rep.last_block, confirmations=0)
    known = _known(chain_logs)
    assert stats.logs == len(known)
    # decode the recorded logs with the block numbers anvil gave them: every column but tx_hash must match
    remapped = [{**lg, "blockNumber": hex(rep.blocks[int(lg["blockNumber"], 16)])} for lg in known]
    expected = decode_logs(remapped).rows
    for table in RAW_TABLES:
        cols = [i for i, c in enumerate(COLUMNS[table]) if c not in ("tx_hash", "_version", "_deleted")]
        want = sorted(tuple(r[i] for i in cols) for r in expected[table])
        got = _rows_without_tx(db, table)
        assert [tuple(x) for x in got] == want, table
    assert ingest.gaps(db, stats.source, 0, rep.last_block) == []


def test_split_ranges_and_reruns_give_the_same_tables(replayed_chain, new_db):
    node, rep = replayed_chain
    whole = new_db()
    ingest.backfill(whole, node.url, 0, rep.last_block, confirmations=0)
    want = fingerprint(whole, RAW_TABLES)
    rng = random.Random(11)
    for trial in range(2):
        db = new_db()
        cuts = sorted(rng.sample(range(1, rep.last_block), k=min(5, rep.last_block - 1)))
        bounds = [0] + cuts + [rep.last_block + 1]
        parts = [(a, b - 1) for a, b in itertools.pairwise(bounds)]
        rng.shuffle(parts)
        for a, b in parts:
            ingest.backfill(db, node.url, a, b, confirmations=0, window=rng.randint(1, 8))
        # re-runs: an overlapping refetch and a plain re-run (which finds nothing to do)
        ingest.backfill(db, node.url, parts[0][0], rep.last_block, confirmations=0, refetch=True)
        again = ingest.backfill(db, node.url, 0, rep.last_block, confirmations=0)
        assert again.logs == 0 and again.from_block is None, f"trial {trial}: re-run fetched {again}"
        assert fingerprint(db, RAW_TABLES) == want, f"trial {trial}, parts {parts}"


def test_gap_report_names_the_missing_blocks(replayed_chain, new_db):
    node, rep = replayed_chain
    db = new_db()
    hi = rep.last_block
    lo_end, hi_start = hi // 3, 2 * hi // 3
    ingest.backfill(db, node.url, 0, lo_end, confirmations=0)
    ingest.backfill(db, node.url, hi_start, hi, confirmations=0)
    assert ingest.gaps(db, "rpc:137", 0, hi) == [(lo_end + 1, hi_start - 1)]
    lo, top = ingest.run_hull(db, "rpc:137")
    assert (lo, top) == (0, hi)
    ingest.backfill(db, node.url, 0, hi, confirmations=0)  # fills exactly the hole
    assert ingest.gaps(db, "rpc:137", 0, hi) == []


def test_faults_still_yield_the_exact_log_set(replayed_chain, fault_proxy, new_db):
    from harness.chain.faultproxy import FaultPlan

    node, rep = replayed_chain
    last = min(rep.last_block, FAULT_SPAN)  # small windows and batches: keep the run short on a big world
    clean = new_db()
    ingest.backfill(clean, node.url, 0, last, confirmations=0)
    plan = FaultPlan(rate=0.35, seed=5, max_range=6, timeout_seconds=0.6, strip_block_timestamp=True)
    proxy = fault_proxy(node.url, plan)
    rpc = RpcClient(proxy.url, timeout=0.4, retry=RetryPolicy(attempts=30, base=0.005, cap=0.02))
    db = new_db()
    stats = ingest.backfill(db, rpc, 0, last, confirmations=0, window=4, batch_logs=15)
    assert fingerprint(db, RAW_TABLES) == fingerprint(clean, RAW_TABLES)
    assert ingest.gaps(db, stats.source, 0, last) == []
    injected = set(proxy.stats.faults)
    for kind in ("429", "500", "503", "timeout", "drop", "truncate_http", "truncate_json", "too_many(range)"):
        assert kind in injected, f"proxy never injected {kind}: {proxy.stats.faults}"
    assert stats.retries > 0 and stats.range_errors > 0
    assert proxy.stats.methods["eth_getBlockByNumber"] > 0, "timestamps were stripped: blocks must be fetched"


def test_reorg_retracts_vanished_logs_and_adds_the_new_ones(anvil_node, chain_logs, new_db):
    from tests.support.chainlogs import make_logs

    node = anvil_node
    blocks = sorted({int(lg["blockNumber"], 16) for lg in chain_logs})[:REORG_BLOCKS]
    keep, forked = set(blocks[:-4]), set(blocks[-4:])
    node.replay([lg for lg in chain_logs if int(lg["blockNumber"], 16) in keep])
    base = node.block_number()
    snap = node.snapshot()
    node.replay([lg for lg in chain_logs if int(lg["blockNumber"], 16) in forked], install=False)
    db = new_db()
    ingest.backfill(db, node.url, 0, node.block_number(), confirmations=0)
    before = fingerprint(db, RAW_TABLES)
    node.revert(snap)
    assert node.block_number() == base
    last_ts = int(node.call("eth_getBlockByNumber", hex(base), False)["timestamp"], 16)
    other = make_logs(seed=99, blocks=30, start_block=10**6, start_time=last_ts + 5, unknown=False)
    fork_blocks = sorted({int(lg["blockNumber"], 16) for lg in other})
    # the new fork is first shorter than the old chain (2 blocks replace 4), then grows past it
    node.replay([lg for lg in other if int(lg["blockNumber"], 16) in fork_blocks[:2]], install=False)
    assert node.block_number() == base + 2
    stats = ingest.sync(db, node.url, since_seconds=10**8, margin=8, confirmations=0)
    assert stats.retracted > 0
    assert ingest.gaps(db, stats.source, 0, base + 2) == []
    assert max(b for r in ingest.coverage(db, stats.source).values() for _, b in r) == base + 2

    def same_as_fresh_backfill():
        fresh = new_db()
        ingest.backfill(fresh, node.url, 0, node.block_number(), confirmations=0)
        assert fingerprint(db, RAW_TABLES) == fingerprint(fresh, RAW_TABLES)

    same_as_fresh_backfill()
    assert fingerprint(db, RAW_TABLES) != before
    node.replay([lg for lg in other if int(lg["blockNumber"], 16) in fork_blocks[2:10]], install=False)
    assert node.block_number() > base + 4  # now longer than the chain that was abandoned
    ingest.sync(db, node.url, since_seconds=10**8, margin=8, confirmations=0)
    same_as_fresh_backfill()


def test_real_polygon_logs_survive_replay_and_ingest(anvil_node, new_db):
    """The two real ConditionalTokens logs (fixtures/real), replayed and ingested: same rows as decoding them."""
    import json

    from harness.config import PROJECT_ROOT

    raw = json.loads((PROJECT_ROOT / "fixtures" / "real" / "erc1155_split_logs.json").read_text())
    real = [dict(v, blockTimestamp=hex(1_750_000_000), removed=False) for k, v in sorted(raw.items())
            if isinstance(v, dict) and "topics" in v]
    real.sort(key=lambda lg: int(lg["logIndex"], 16))
    assert len(real) == 2
    rep = anvil_node.replay(real)
    db = new_db()
    ingest.backfill(db, anvil_node.url, 0, rep.last_block, confirmations=0)
    skip = ("tx_hash", "log_index", "block_number", "_version", "_deleted")
    cols = [c for c in COLUMNS["erc1155_transfers"] if c not in skip]
    idx = [COLUMNS["erc1155_transfers"].index(c) for c in cols]
    want = sorted(tuple(r[i] for i in idx) for r in decode_logs(real).rows["erc1155_transfers"])
    sel = ", ".join("toUnixTimestamp(block_time)" if c == "block_time" else f"`{c}`" for c in cols)
    got = sorted(db.query(f"SELECT {sel} FROM erc1155_transfers FINAL").result_rows)
    assert [tuple(g) for g in got] == want and len(want) == 3  # one TransferSingle + a 2-id TransferBatch


def test_sync_behind_a_deeper_backfill_retracts_nothing(replayed_chain, new_db):
    """Blocks ingested above head - confirmations are not a reorg: a later sync keeps them and adds nothing."""
    node, rep = replayed_chain
    db = new_db()
    ingest.backfill(db, node.url, 0, rep.last_block, confirmations=0)
    before = fingerprint(db, RAW_TABLES)
    stats = ingest.sync(db, node.url, since_seconds=3600, margin=4, confirmations=20)
    assert stats.retracted == 0
    assert stats.from_block == rep.last_block - 3  # only the margin window was fetched again
    assert fingerprint(db, RAW_TABLES) == before
    assert ingest.gaps(db, stats.source, 0, rep.last_block) == []


def test_cutoff_and_since_resolve_to_blocks_by_timestamp(replayed_chain):
    node, _rep = replayed_chain
    rpc = RpcClient(node.url)
    head = rpc.block_number()
    times = {b: int(node.call("eth_getBlockByNumber", hex(b), False)["timestamp"], 16) for b in range(head + 1)}
    mid = head // 2
    # cutoff: the last block at or before the time (a second before the next block's time, and exactly at it)
    assert ingest.plan_range(rpc, from_block=0, cutoff=times[mid], confirmations=0) == (0, mid)
    assert ingest.plan_range(rpc, from_block=0, cutoff=times[mid + 1] - 1, confirmations=0)[1] == \
        max(b for b, t in times.items() if t <= times[mid + 1] - 1)
    # since: the first block at or after head time - since
    since = times[head] - times[mid]
    assert ingest.plan_range(rpc, since_seconds=since, confirmations=0) == \
        (min(b for b, t in times.items() if t >= times[mid]), head)
    # no cutoff: the head less the confirmations
    assert ingest.plan_range(rpc, from_block=0, no_cutoff=True, confirmations=5) == (0, head - 5)
    with pytest.raises(ingest.IngestError, match="mutually exclusive"):
        ingest.plan_range(rpc, cutoff=1, no_cutoff=True)
    with pytest.raises(ingest.IngestError, match="beyond the chain head"):
        ingest.plan_range(rpc, from_block=0, to_block=head + 1)
    with pytest.raises(ingest.IngestError, match="after the last block to ingest"):
        ingest.plan_range(rpc, from_block=head, confirmations=5)
