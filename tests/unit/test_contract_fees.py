"""The fee formulas of harness.chain.contracts.exchange against the simulator's and against arithmetic done by hand.

v1_fee is CalculatorHelper's formula (price at 1e18, fee in the proceeds asset), as our CtfExchange and FeeModule
compute it on chain; the simulator writes the same rule in whole micro-units. v2_fee is the operator's default
V2 collateral fee. The on-chain side is checked in tests/integration/test_contract_flows.py.
"""
from __future__ import annotations

from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from harness.chain.contracts.exchange import Order, Side, v1_fee, v2_fee
from harness.worlds.clob import exchange_fee as sim_fee

U = 1_000_000
bps = st.sampled_from((0, 1, 50, 100, 200, 1000))
cents = st.integers(1, 99)
lots = st.integers(1, 100_000).map(lambda n: n * 100)  # shares, multiples of 100 micro-units


def test_hand_examples():
    # BUY 10 shares at 0.50, 100 bps: 100 x 0.5 x 10 / 0.5 / 1e4 = 0.1 share
    assert v1_fee(100, 10 * U, 5 * U, 10 * U, Side.BUY) == 100_000
    # SELL 10 shares at 0.70, 200 bps: 200 x 0.3 x 10 / 1e4 = 0.06 USDC
    assert v1_fee(200, 10 * U, 10 * U, 7 * U, Side.SELL) == 60_000
    # V2 BUY 10 at 0.40, 100 bps: 100 x min(4, 6) / 1e4 = 0.04
    assert v2_fee(Order("0x" + "1" * 40, 1, Side.BUY, 4 * U, 10 * U, 100), 4 * U) == 40_000
    assert v1_fee(0, 10 * U, 5 * U, 10 * U, Side.BUY) == 0


@given(bps, cents, lots)
def test_v1_fee_equals_the_simulator_at_cent_prices(b, p, shares):
    usdc = shares * p // 100
    assert v1_fee(b, shares, usdc, shares, Side.BUY) == sim_fee(b, usdc, shares, True)
    assert v1_fee(b, shares, shares, usdc, Side.SELL) == sim_fee(b, shares, usdc, False)


@given(bps, st.integers(1, 10**12), st.integers(1, 10**12))
def test_v1_fee_is_the_exact_rate_floored_within_one_unit(b, collateral, shares):
    """For any price in (0, 1]: fee = floor(exact) or one less (the 1e18 price is itself floored)."""
    if collateral > shares:
        collateral, shares = shares, collateral
    p = Fraction(collateral, shares)
    m = min(p, 1 - p)
    exact_buy = Fraction(b) * m * shares / p / 10_000
    exact_sell = Fraction(b) * m * shares / 10_000
    got_buy = v1_fee(b, shares, collateral, shares, Side.BUY)
    got_sell = v1_fee(b, shares, shares, collateral, Side.SELL)
    assert int(exact_buy) - 1 <= got_buy <= int(exact_buy) + 1
    assert int(exact_sell) - 1 <= got_sell <= int(exact_sell)


@given(bps, cents, lots)
def test_v2_fee_is_rate_times_the_smaller_leg(b, p, shares):
    usdc = shares * p // 100
    buy = Order("0x" + "1" * 40, 1, Side.BUY, usdc, shares, b)
    sell = Order("0x" + "1" * 40, 1, Side.SELL, shares, usdc, b)
    want = b * min(usdc, shares - usdc) // 10_000
    assert v2_fee(buy, usdc) == want and v2_fee(sell, shares) == want
