"""The pure-Python oracle on hand-worked cases: the domain notes' average-cost vectors and cash-flow examples."""
from fractions import Fraction

import pytest

from harness.pnl.avgcost import avg_cost_pnl, tdiv, yes_price
from harness.pnl.explain import explain
from harness.pnl.oracle import cashflow_pnl
from harness.pnl.rows import final
from tests.property.pnl_stream import Stream, addr

U = 1_000_000  # one USDC / one share in base units
A, B, C = addr(1), addr(2), addr(3)


def _avg(s, rounding):
    return avg_cost_pnl(s.rows, rounding=rounding)


@pytest.mark.parametrize("rounding", ["subgraph", "exact"])
def test_vector_buy_buy_sell_then_redeem(rounding):
    s = Stream()
    m = s.market()
    s.split(B, m, 300 * U)
    s.trade(A, B, m.tokens[0], 100 * U, 40 * U)
    s.trade(A, B, m.tokens[0], 100 * U, 60 * U)
    s.trade(C, A, m.tokens[0], 50 * U, 35 * U)
    assert _avg(s, rounding).markets[(A, m.condition_id)].realized == 10 * U
    s.resolve(m, [1, 0])
    s.redeem(A, m, [1, 0])
    got = _avg(s, rounding).markets[(A, m.condition_id)]
    assert got.realized == 85 * U and got.unrealized == 0


@pytest.mark.parametrize("rounding", ["subgraph", "exact"])
def test_vector_split_sell_yes_no_loses(rounding):
    s = Stream()
    m = s.market()
    s.split(A, m, 100 * U)
    s.trade(B, A, m.tokens[0], 100 * U, 80 * U)
    s.resolve(m, [1, 0])
    s.redeem(A, m, [1, 0])
    assert _avg(s, rounding).markets[(A, m.condition_id)].realized == -20 * U


@pytest.mark.parametrize("rounding", ["subgraph", "exact"])
def test_vector_buy_both_then_merge(rounding):
    s = Stream()
    m = s.market()
    s.split(B, m, 100 * U)
    s.trade(A, B, m.tokens[0], 100 * U, 30 * U)
    s.trade(A, B, m.tokens[1], 100 * U, 60 * U)
    s.merge(A, m, 100 * U)
    assert _avg(s, rounding).markets[(A, m.condition_id)].realized == 10 * U


def test_vector_clamped_sell():
    s = Stream()
    m = s.market()
    s.split(B, m, 100 * U)
    s.trade(A, B, m.tokens[0], 50 * U, 25 * U)
    s.send(B, A, m.tokens[0], 30 * U)  # 30 shares the subgraph never saw bought
    s.trade(C, A, m.tokens[0], 80 * U, 64 * U)
    got = _avg(s, "subgraph").markets[(A, m.condition_id)]
    assert got.realized == 15 * U and got.clamped_shares == 30 * U
    # cash-flow counts the transferred shares' proceeds in full: -25 + 64 = +39
    assert cashflow_pnl(s.rows).markets[(A, m.condition_id)].pnl == 39 * U
    d = next(x for x in explain(s.rows) if (x.wallet, x.condition_id) == (A, m.condition_id))
    assert d.diff == 24 * U and d.transfer_in == 30 * U and d.clamped_shares == 30 * U
    assert any("clamped" in r for r in d.reasons) and any("transfer" in r for r in d.reasons)


def test_yes_price_vectors():
    assert yes_price(750_000, 3, 5) == 125_000
    assert yes_price(730_000, 1, 6) == 146_000
    assert yes_price(Fraction(3, 4) * U, 3, 5, exact=True) == Fraction(1, 8) * U


def test_conversion_buys_yes_at_yes_price():
    s = Stream()
    nm = s.neg_risk_market(5)
    for q in nm.questions[:3]:
        s.split(B, q, 10 * U)
        s.trade(A, B, q.tokens[1], 10 * U, 7_500_000)  # NO at 0.75
    s.convert(A, nm, 0b00111, 10 * U)
    book = avg_cost_pnl(s.rows).tokens
    for q in nm.questions[3:]:
        assert book[(A, q.tokens[0])].avg == 125_000 and book[(A, q.tokens[0])].amount == 10 * U
    for q in nm.questions[:3]:
        st = book[(A, q.tokens[1])]
        assert st.amount == 0 and st.realized == 0
    # cash-flow: 10 * (3 - 1) = 20 USDC back, shared by the three questions whose NO was given up:
    # 20_000_000 / 3 = 6_666_666 rest 2, so questions 0 and 1 get one micro-USDC more; questions 3, 4 get nothing
    cf = cashflow_pnl(s.rows).cashflows
    assert [cf[(A, q.condition_id)] for q in nm.questions[:3]] == [
        -7_500_000 + 6_666_667, -7_500_000 + 6_666_667, -7_500_000 + 6_666_666]
    assert (A, nm.questions[3].condition_id) not in cf


def test_truncation_is_toward_zero():
    assert tdiv(-7, 2) == -3 and tdiv(7, -2) == -3 and tdiv(7, 2) == 3 and -7 // 2 == -4


def test_cashflow_hand_example():
    """Fees in shares and collateral, a split, a redemption, and an open market marked to price."""
    s = Stream()
    m = s.market()
    s.split(B, m, 100 * U)
    s.trade(A, B, m.tokens[0], 100 * U, 40 * U, buyer_fee_shares=U, seller_fee_usdc=U // 2)
    s.resolve(m, [1, 0])
    s.redeem(A, m, [1, 0])  # A holds 99 YES -> pays 99
    m2 = s.market()
    s.split(A, m2, 10)
    s.price(m2, 0, 300_000)
    s.price(m2, 1, 700_001)  # 10 * 0.3 + 10 * 0.700001 = 10.00001 -> floor 10
    s.split(C, m2, 3)
    s.send(C, A, m2.tokens[0], 3)  # transfers count in cash-flow
    res = cashflow_pnl(s.rows)
    assert res.markets[(A, m.condition_id)].pnl == -40 * U + 99 * U
    assert res.markets[(B, m.condition_id)].pnl == -100 * U + 40 * U - U // 2
    assert res.markets[(A, m2.condition_id)].value == 10 + 0  # 13*0.3 + 10*0.700001 = 10.90001 -> 10
    assert res.markets[(C, m2.condition_id)].pnl == -3 + 2  # 3 NO * 0.700001 = 2.1 -> 2
    w = res.wallets[A]
    assert (w.realized, w.unrealized, w.markets_resolved, w.markets_open) == (59 * U, 0, 1, 1)


def test_final_keeps_highest_version_and_drops_deleted():
    rows = [
        {"tx_hash": "t", "log_index": 1, "_version": 1, "_deleted": 0, "v": "old"},
        {"tx_hash": "t", "log_index": 1, "_version": 2, "_deleted": 0, "v": "new"},
        {"tx_hash": "u", "log_index": 1, "_version": 1, "_deleted": 0, "v": "gone"},
        {"tx_hash": "u", "log_index": 1, "_version": 3, "_deleted": 1, "v": "gone"},
    ]
    assert [r["v"] for r in final("trades_raw", rows)] == ["new"]
