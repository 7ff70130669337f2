"""Properties of the P&L definitions themselves, on the oracle (the SQL is held equal to it in test_pnl_sql)."""
from __future__ import annotations

from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from harness.pnl.avgcost import avg_cost_pnl
from harness.pnl.oracle import cashflow_pnl
from tests.property.pnl_ops import WALLETS, ops, play
from tests.property.pnl_stream import Stream

amounts = st.integers(1, 10**12)
prices = st.integers(0, 1_000_000)


@given(amounts, prices)
def test_buy_then_sell_at_one_price_without_fee_is_zero(shares, price):
    s = Stream()
    m = s.market()
    a, b, c = WALLETS[:3]
    s.split(b, m, shares)
    usdc = shares * price // 1_000_000
    s.trade(a, b, m.tokens[0], shares, usdc)
    s.trade(c, a, m.tokens[0], shares, usdc)
    assert cashflow_pnl(s.rows).wallets[a].total == 0


@given(amounts, st.integers(2, 5))
def test_split_then_merge_is_zero(amount, outcomes):
    s = Stream()
    m = s.market(outcomes)
    s.split(WALLETS[0], m, amount)
    s.merge(WALLETS[0], m, amount)
    p = cashflow_pnl(s.rows).wallets[WALLETS[0]]
    assert (p.total, p.markets_open) == (0, 1)


@given(amounts, st.lists(st.integers(0, 10**6), min_size=2, max_size=5).filter(lambda x: sum(x) > 0))
def test_complete_set_is_worth_exactly_one(amount, numerators):
    s = Stream()
    m = s.market(len(numerators))
    s.split(WALLETS[0], m, amount)
    s.resolve(m, numerators)
    mk = cashflow_pnl(s.rows).markets[(WALLETS[0], m.condition_id)]
    assert (mk.value, mk.pnl, mk.resolved) == (amount, 0, True)


@given(ops(transfers=True, fees=True, one_hot=True))
def test_closed_markets_sum_to_minus_fees(op_list):
    """Resolve every market (one YES per negRisk market) and redeem everyone: wallets' P&L sums to minus the
    collateral fees and the winning share fees the exchange kept, less what the FeeModule refunded (one-hot
    payouts: no redemption rounding)."""
    s = play(op_list)
    conds = {r["condition_id"]: r for r in s.rows.get("condition_preparations", [])}
    res = {r["condition_id"]: r["payout_numerators"] for r in s.rows.get("condition_resolutions", [])}
    tmap = {r["token_id"]: (r["condition_id"], r["outcome_index"]) for r in s.rows["token_map"]}
    winners = {}
    for q in sorted(s.rows.get("neg_risk_questions", []), key=lambda q: q["question_index"]):
        winners.setdefault(q["market_id"], q["condition_id"])  # exactly one YES per negRisk market
        res[q["condition_id"]] = [1, 0] if winners[q["market_id"]] == q["condition_id"] else [0, 1]
        s.resolve(_market(s, q["condition_id"]), res[q["condition_id"]])
    for cid, prep in conds.items():
        if cid not in res:
            res[cid] = [1] + [0] * (prep["outcome_slot_count"] - 1)
            s.resolve(_market(s, cid), res[cid])
    for w in WALLETS:
        for cid in conds:
            s.redeem(w, _market(s, cid), res[cid])
    out = cashflow_pnl(s.rows)
    refunds = s.rows.get("fee_refunds", [])  # what the FeeModule gave back is not kept
    fees = sum(r["fee_usdc"] for r in s.rows.get("trades_raw", [])) - sum(r["refund"] for r in refunds
                                                                          if r["token_id"] == 0)
    value = lambda tok: res[tmap[tok][0]][tmap[tok][1]]  # noqa: E731
    fee_value = sum(r["fee_shares"] * value(r["token_id"]) for r in s.rows.get("trades_raw", [])) \
        - sum(r["refund"] * value(r["token_id"]) for r in refunds if r["token_id"] != 0)
    assert sum(p.total for p in out.wallets.values()) == -(fees + fee_value)
    assert all(p.unrealized == 0 and p.markets_open == 0 for p in out.wallets.values())


def _market(s, cid):
    from tests.property.pnl_stream import Market
    toks = sorted((r["outcome_index"], r["token_id"]) for r in s.rows["token_map"] if r["condition_id"] == cid)
    return Market(cid, [t for _o, t in toks])


@given(ops(transfers=False, fees=False, one_hot=True))
def test_without_transfers_and_fees_cashflow_equals_average_cost(op_list):
    s = play(op_list)
    cf = cashflow_pnl(s.rows)
    ac = avg_cost_pnl(s.rows, rounding="exact")
    for w in WALLETS:
        exact_cf = sum((m.cashflow + m.value_exact for (x, _c), m in cf.markets.items() if x == w), Fraction(0))
        assert ac.wallet_total(w) == exact_cf
    converted = {q["condition_id"] for q in s.rows.get("neg_risk_questions", [])}
    for k, m in cf.markets.items():  # per market too, where no conversion moves basis across conditions
        if k[1] not in converted and k in ac.markets:
            a = ac.markets[k].total
            assert a.numerator // a.denominator == m.pnl
