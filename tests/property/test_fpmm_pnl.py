"""The legacy AMM (FPMM) in both P&L methods: hand-computed vectors (the pnl-subgraph's
FixedProductMarketMakerMapping rules and the cash-flow rule of harness.pnl.oracle.fpmm_cash), SQL equal to the oracle on
random pool histories, and no FPMM ever holding a P&L row."""
from __future__ import annotations

from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from harness.pnl.avgcost import LP_OUTCOME, avg_cost_pnl
from harness.pnl.explain import explain
from harness.pnl.fpmm import Pool, PoolError
from harness.pnl.oracle import cashflow_pnl
from tests.property.pnl_ops import PACK, packed
from tests.property.pnl_stream import Stream, addr
from tests.property.sqlcheck import load, oracle_state, sql_state
from tests.property.test_avgcost_sql import oracle_avgcost, same, sql_avgcost

U = 1_000_000
A, B, LP = addr(1), addr(2), addr(3)


def vector_stream() -> tuple[Stream, object, str]:
    """LP funds 100 USDC (amountsAdded [100, 60]: 40 of outcome 1 sent back, 80 LP shares); A buys 250 of
    outcome 0 for 100 (fee 2) and sells 100 back for 60 (fee 1.2); the LP removes half its shares (30 and 50
    shares back, 2 USDC of fees); outcome 0 wins."""
    s = Stream()
    m = s.market()
    fp = s.fpmm(m)
    s.fpmm_add(LP, fp, m, 100 * U, [100 * U, 60 * U], 80 * U)
    s.next_block()
    s.fpmm_buy(A, fp, m, 0, 100 * U, 2 * U, 250 * U)
    s.next_block()
    s.fpmm_sell(A, fp, m, 0, 60 * U, 1_200_000, 100 * U)
    s.next_block()
    s.fpmm_remove(LP, fp, m, [30 * U, 50 * U], 2 * U, 40 * U)
    s.next_block()
    s.resolve(m, [1, 0])
    return s, m, fp


def test_fpmm_vectors_in_the_oracle():
    s, m, fp = vector_stream()
    cid = m.condition_id
    cf = cashflow_pnl(s.rows)
    # A: paid 100, got 60 back, holds 150 winning shares -> 110; the LP: paid 100, got 2 of fees, holds 30 of
    # outcome 0 (worth 30) and 40 + 50 of outcome 1 (worth 0) -> -68 (its 40 LP shares left are not valued)
    assert cf.markets[(A, cid)].pnl == 110 * U and cf.markets[(A, cid)].cashflow == -40 * U
    assert cf.markets[(LP, cid)].pnl == -68 * U
    assert fp not in {w for w, _c in cf.markets}
    ac = avg_cost_pnl(s.rows)
    # A: bought 250 @ 0.40, sold 100 @ 0.60 -> realized 20; 150 left @ 0.40 marked at 1 -> +90
    assert (ac.markets[(A, cid)].realized, ac.markets[(A, cid)].unrealized) == (20 * U, 90 * U)
    lp_tok = int(fp, 16)
    st = ac.tokens[(LP, lp_tok)]
    # add: 40 sent back @ 100/160 = 0.625 costs 25, the 80 LP shares cost the other 75 -> 0.9375 each;
    # remove: 30 @ 50/80 = 0.625 and 50 @ 30/80 = 0.375 cost 37.5; 40 LP shares sold at (2 - 37.5) / 40 =
    # -0.8875 -> realized 40 x (-0.8875 - 0.9375) = -73; 40 LP shares left at 0.9375, marked at 0 -> -37.5
    assert st.amount == 40 * U and st.avg == 937_500 and st.realized == -73 * U
    assert ac.markets[(LP, cid)].realized == -73 * U
    # unrealized: 30 of outcome 0 @ 0.625 marked 1 (+11.25), 90 of outcome 1 @ 0.486111 (truncated) marked 0
    # (-43.74999), 40 LP shares @ 0.9375 marked 0 (-37.5). Cash-flow says -68: the subgraph's removal books the
    # tokens' 37.5 against the LP sale where the funder in fact got them on top of it, so the two differ by 2 x 37.5
    assert ac.markets[(LP, cid)].total == -142_999_990
    assert cf.markets[(LP, cid)].pnl - ac.markets[(LP, cid)].total == 75 * U - 10
    assert (fp, cid) not in ac.markets
    assert LP_OUTCOME == 255
    why = {(d.wallet, d.condition_id): d for d in explain(s.rows)}
    assert why[(A, cid)].diff == 0 and why[(A, cid)].reasons == ()
    assert why[(LP, cid)].diff == 75 * U - 10 and len(why[(LP, cid)].reasons) == 1
    assert why[(LP, cid)].reasons[0].startswith("FPMM liquidity")


def test_fpmm_sql_equals_oracle_on_the_vectors(warehouse):
    s, _m, fp = vector_stream()
    load(warehouse, s.rows)
    assert sql_state(warehouse) == oracle_state(cashflow_pnl(s.rows))
    sql, oracle = sql_avgcost(warehouse), oracle_avgcost(s.rows)
    assert same(sql, oracle), (sql, oracle)
    assert not warehouse.query("SELECT count() FROM wallet_market_pnl WHERE wallet = {w:String}",
                               parameters={"w": fp}).result_rows[0][0]


# ---- random pool histories --------------------------------------------------------------------------------------

WALLETS = [addr(10 + i) for i in range(4)]
fpmm_op = st.one_of(
    st.tuples(st.just("buy"), st.integers(0, 3), st.integers(0, 1), st.integers(1, 50_000_000)),
    st.tuples(st.just("sell"), st.integers(0, 3), st.integers(0, 1), st.integers(1, 90)),
    st.tuples(st.just("add"), st.integers(0, 3), st.integers(0, 1), st.integers(1, 80_000_000)),
    st.tuples(st.just("remove"), st.integers(0, 3), st.integers(0, 1), st.integers(1, 4)),
    st.tuples(st.just("block"), st.integers(0, 3), st.integers(0, 1), st.integers(1, 3)),
)


def open_pool(s: Stream):
    """A new binary market in ``s`` with an FPMM on it, funded 100 USDC at even odds by the first wallet."""
    m = s.market()
    fp = s.fpmm(m)
    pool = Pool()
    first = pool.add_funding(WALLETS[0], 100 * U, [1, 1])
    s.fpmm_add(WALLETS[0], fp, m, 100 * U, first.amounts_added, first.minted)
    return m, fp, pool


def play_ops(s: Stream, m, fp: str, pool: Pool, op_list, *, removals: bool = True) -> dict[str, Fraction]:
    """``op_list`` on an open pool, through harness.pnl.fpmm (the contract's arithmetic) into ``s``: the total
    cost of the tokens each removal handed out, exact, per wallet."""
    removed_cost: dict[str, Fraction] = {}
    for kind, wi, o, n in op_list:
        w = WALLETS[wi]
        try:
            if kind == "block":
                s.next_block(n)
            elif kind == "buy":
                b = pool.buy(n, o)
                s.fpmm_buy(w, fp, m, o, b.investment, b.fee, b.tokens)
            elif kind == "sell":
                have = s.balances[(w, m.tokens[o])]
                num, den = pool.price(o)
                returned = have * num // den * n // 100 if den else 0
                if returned <= 0 or pool.calc_sell(returned, o) > have:
                    continue
                sl = pool.sell(returned, o)
                s.fpmm_sell(w, fp, m, o, sl.returned, sl.fee, sl.tokens)
            elif kind == "add":
                a = pool.add_funding(w, n)
                s.fpmm_add(w, fp, m, n, a.amounts_added, a.minted)
            elif kind == "remove" and removals and pool.shares[w] > 0:
                rm = pool.remove_funding(w, max(1, pool.shares[w] // n))
                s.fpmm_remove(w, fp, m, rm.amounts, rm.fees, rm.burnt)
                tot = sum(rm.amounts)
                if tot:
                    removed_cost[w] = removed_cost.get(w, Fraction(0)) + Fraction(
                        rm.amounts[0] * rm.amounts[1] * 2, tot)
        except PoolError:
            continue
    return removed_cost


def play_pool(op_list, *, removals: bool = True, resolve: list[int] | None = None,
              stream: Stream | None = None):
    """A pool history on one binary market into a Stream (``stream``, after what it holds: a market and FPMM
    of its own): (stream, market, fpmm, total cost of the tokens each removal handed out, exact, per wallet,
    pool)."""
    s = stream or Stream()
    m, fp, pool = open_pool(s)
    removed_cost = play_ops(s, m, fp, pool, op_list, removals=removals)
    if resolve is not None:
        s.resolve(m, resolve)
    return s, m, fp, removed_cost, pool


@settings(max_examples=max(3, settings.default.max_examples // (3 * PACK)), deadline=None)
@given(packed(st.tuples(st.lists(fpmm_op, max_size=25), st.sampled_from([None, [1, 0], [0, 1], [1, 1]]))))
def test_fpmm_sql_equals_oracle(warehouse, pools):
    """PACK pool histories per example (each its own market and FPMM, the same four wallets), so one rebuild
    checks them all: ci 5 x 4 = 20 histories, as many as one per example did."""
    s, fps = Stream(), []
    for op_list, resolve in pools:
        s, _m, fp, _c, _p = play_pool(op_list, resolve=resolve, stream=s)
        fps.append(fp)
    load(warehouse, s.rows)
    assert sql_state(warehouse) == oracle_state(cashflow_pnl(s.rows))
    sql, oracle = sql_avgcost(warehouse), oracle_avgcost(s.rows)
    assert same(sql, oracle), {k: (sql.get(k), oracle.get(k)) for k in set(sql) | set(oracle)
                               if sql.get(k, (0, 0)) != oracle.get(k, (0, 0))}
    assert not set(fps) & ({w for w, _c in sql} | {w for w, _c, _o in sql_state(warehouse)["positions"]})


@settings(deadline=None)
@given(st.lists(fpmm_op, max_size=40), st.sampled_from([None, [1, 0], [0, 1], [1, 1]]))
def test_fpmm_avgcost_and_cashflow_totals(op_list, resolve):
    """Exact rounding: buys, sells and added funding cost the same in both methods (a buy's price includes the
    fee, the LP shares carry what the sent-back shares did not cost, and are worth 0 in both). A removal's tokens,
    worth T at the pool price, are booked by the subgraph against the LP sale (at (fees - T) per share) though the
    funder got them on top of the fees: each wallet's cash-flow total exceeds its average-cost total by 2 T."""
    s, m, _fp, cost, _p = play_pool(op_list, resolve=resolve)
    if resolve is None:  # open: marked at the imported prices of both outcomes
        s.price(m, 0, 400_000)
        s.price(m, 1, 600_000)
    cf = cashflow_pnl(s.rows)
    ac = avg_cost_pnl(s.rows, rounding="exact")
    for w in WALLETS:
        if w in cf.wallets:
            exact_cf = cf.markets[(w, m.condition_id)].cashflow + cf.markets[(w, m.condition_id)].value_exact
            assert exact_cf - ac.wallet_total(w) == 2 * cost.get(w, 0), w


@given(st.lists(fpmm_op, max_size=40))
def test_pool_arithmetic_conserves_shares(op_list):
    """The pool model agrees with the ERC1155 book its calls produce: the FPMM holds exactly the pool's balances,
    the LP shares sum to the supply, and the fees paid out to funders never exceed the fees collected."""
    s, m, fp, _c, pool = play_pool(op_list)
    assert [s.balances[(fp, t)] for t in m.tokens] == pool.balances
    assert sum(pool.shares.values()) == pool.supply
    collected = sum(r["fee"] for r in s.rows["fpmm_trades"])
    paid = sum(r["collateral_removed"] for r in s.rows["fpmm_funding"])
    assert 0 <= paid <= collected


@settings(max_examples=max(2, settings.default.max_examples // (10 * PACK) + 1), deadline=None)
@given(packed(st.tuples(st.lists(fpmm_op, max_size=12), st.lists(fpmm_op, min_size=1, max_size=12))))
def test_incremental_rebuild_with_fpmm_equals_full(warehouse, pools):
    """FPMM trades and funding in a later block range: the range rebuild (affected_conditions reaches the
    FPMM's condition) gives the same derived rows as a full rebuild. PACK pools per example (ci 2 x 4 = 8
    histories, was 6 x 1): every pool's first part, built; then every pool's second part, range-rebuilt."""
    from harness.pnl.build import rebuild, rebuild_range
    from tests.property.pnl_stream import insert

    s = Stream()
    opened = [open_pool(s) for _ in pools]
    for (m, fp, pool), (first, _second) in zip(opened, pools):
        play_ops(s, m, fp, pool, first)
    load(warehouse, s.rows)
    start = s.block  # the second part may begin in the first part's last block
    seen = {t: len(v) for t, v in s.rows.items()}
    for (m, fp, pool), (_first, second) in zip(opened, pools):
        play_ops(s, m, fp, pool, second)
    insert(warehouse, {t: v[seen.get(t, 0):] for t, v in s.rows.items()})
    q = [f"SELECT * FROM {t} ORDER BY ALL" for t in ("trade_cashflows_v3", "wallet_token_avgcost",
                                                      "wallet_market_pnl_avgcost", "wallet_market_pnl")]
    rebuild_range(warehouse, start, s.block)
    incremental = [warehouse.query(x).result_rows for x in q]
    rebuild(warehouse)
    assert incremental == [warehouse.query(x).result_rows for x in q]
