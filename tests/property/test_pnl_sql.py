"""SQL build and views against the pure-Python oracle, to the micro-dollar, on random chain-consistent streams."""
from __future__ import annotations

from collections import defaultdict

from hypothesis import given, settings
from hypothesis import strategies as st

from harness.pnl.build import rebuild, rebuild_range
from harness.pnl.oracle import cashflow_pnl
from tests.property.pnl_ops import PACK, Markets, ops, packed, play_all
from tests.property.pnl_stream import T0, insert
from tests.property.sqlcheck import load, oracle_state, sql_state

#: Each example rebuilds the warehouse (~1 CPU-s, whatever the stream's size) and checks PACK random histories in
#: one stream: as many histories as a third of the profile's budget of single ones (ci 5 x 4 = 20, dev 41 x 4 = 164).
DB = settings(max_examples=max(3, settings.default.max_examples // (3 * PACK)))
RETRACTABLE = ("trades_raw", "erc1155_transfers", "ctf_actions", "neg_risk_conversions", "condition_resolutions")


def _noise(rows, rnd):
    """Reorg-style edits: some rows retracted (_deleted at a higher version), some re-sent with a new version."""
    out = {t: list(v) for t, v in rows.items()}
    for t in RETRACTABLE:
        for r in rows.get(t, []):
            x = rnd.random()
            if x < 0.08:
                out[t].append({**r, "_version": r["_version"] + 1, "_deleted": 1})
            elif x < 0.15:
                out[t].append({**r, "_version": r["_version"] + 2})
    return out


@DB
@given(packed(ops()), st.randoms(use_true_random=False), st.booleans())
def test_sql_equals_oracle(warehouse, op_lists, rnd, with_cutoff):
    s = play_all(op_lists)
    rows = _noise(s.rows, rnd)
    cutoff = rnd.randint(T0, s.time) if with_cutoff else None
    load(warehouse, rows, cutoff=cutoff)
    assert sql_state(warehouse) == oracle_state(cashflow_pnl(rows, cutoff=cutoff))


@DB
@given(packed(ops(max_size=20)))
def test_ingesting_twice_changes_nothing(warehouse, op_lists):
    s = play_all(op_lists)
    load(warehouse, s.rows)
    once = sql_state(warehouse)
    load(warehouse, s.rows, times=2)
    assert sql_state(warehouse) == once


@DB
@given(packed(ops(max_size=25)), st.randoms(use_true_random=False))
def test_order_within_a_block_does_not_matter(warehouse, op_lists, rnd):
    s = play_all(op_lists)
    # marks from fills follow log order (the last fill prices an outcome): import a price for every outcome, so
    # what is compared is the order-free part (cash, shares, payouts)
    s.rows["imported_prices"] += [{"condition_id": r["condition_id"], "outcome_index": r["outcome_index"],
                                   "price_micros": 123_457, "as_of": s.time, "source": "test"}
                                  for r in s.rows["token_map"]]
    load(warehouse, s.rows)
    before = sql_state(warehouse)
    per_block = defaultdict(set)
    for rs in s.rows.values():
        for r in rs:
            if "log_index" in r:
                per_block[r["block_number"]].add(r["log_index"])
    perm = {}
    for b, idx in per_block.items():
        old = sorted(idx)
        new = old[:]
        rnd.shuffle(new)
        perm.update({(b, o): n for o, n in zip(old, new)})
    shuffled = {t: [{**r, "log_index": perm[(r["block_number"], r["log_index"])]} if "log_index" in r else r
                    for r in rs] for t, rs in s.rows.items()}
    load(warehouse, shuffled)
    assert sql_state(warehouse) == before


@DB
@given(packed(ops(max_size=15)), packed(ops(max_size=15)), st.randoms(use_true_random=False))
def test_incremental_rebuild_equals_full(warehouse, first, second, rnd):
    """The second part continues each history of the first (its ops also trade, convert, resolve and redeem on
    the first part's markets), and a full rebuild after a range rebuild over it changes nothing."""
    states = [Markets() for _ in first]
    s = play_all(first, states=states)
    load(warehouse, s.rows)
    seen = {t: len(v) for t, v in s.rows.items()}
    s.next_block()
    start = s.block
    play_all(second, s, states)
    new = {t: v[seen.get(t, 0):] for t, v in s.rows.items()}
    # a reorg inside the new range: retract one of the new transfers
    tr = new.get("erc1155_transfers", [])
    if tr:
        r = rnd.choice(tr)
        new["erc1155_transfers"] = tr + [{**r, "_version": r["_version"] + 1, "_deleted": 1}]
    insert(warehouse, new)
    rep = rebuild_range(warehouse, start, s.block)
    incremental = sql_state(warehouse)
    rebuild(warehouse)
    assert incremental == sql_state(warehouse)
    assert rep.mode == "range" and rep.conditions is not None
