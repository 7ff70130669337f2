"""The legacy AMM (FPMM) in both P&L methods: hand-computed vectors (the pnl-subgraph's
FixedProductMarketMakerMapping rules and the cash-flow rule of harness.pnl.fpmm_cash), SQL equal to the oracle on
random pool histories, and no FPMM ever holding a P&L row."""
from __future__ import annotations

from harness.pnl import LP_OUTCOME, avg_cost_pnl, cashflow_pnl
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


def test_fpmm_sql_equals_oracle_on_the_vectors(warehouse):
    s, _m, fp = vector_stream()
    load(warehouse, s.rows)
    assert sql_state(warehouse) == oracle_state(cashflow_pnl(s.rows))
    sql, oracle = sql_avgcost(warehouse), oracle_avgcost(s.rows)
    assert same(sql, oracle), (sql, oracle)
    assert not warehouse.query("SELECT count() FROM wallet_market_pnl WHERE wallet = {w:String}",
                               parameters={"w": fp}).result_rows[0][0]
