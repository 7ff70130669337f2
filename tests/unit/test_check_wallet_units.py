"""check-wallet's small rules: the data API's float figures to micro-units, and the per-position tolerance."""
from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.checkwallet import CENT, CheckWalletError, _micro, _within, wallet_filters


@given(st.integers(min_value=-(10**15), max_value=10**15))
def test_six_decimal_floats_come_back_exact(m):
    """The API writes money and sizes as JSON floats with up to 6 decimals: every such value parses to its exact
    micro-units (a float's shortest repr round-trips)."""
    assert _micro(float(Decimal(m) / 10**6), "x") == m


def test_non_numbers_are_named():
    for bad in ("lots", None, "nan", float("inf")):
        with pytest.raises(CheckWalletError, match="where"):
            _micro(bad, "where")


@given(st.integers(min_value=-(10**13), max_value=10**13), st.integers(min_value=-(10**12), max_value=10**12),
       st.integers(min_value=0, max_value=100))
def test_tolerance_is_a_percentage_of_polymarkets_figure_with_a_cent_floor(theirs, delta, pct):
    ours = theirs + delta
    expected = abs(delta) <= CENT or abs(delta) * 100 <= pct * abs(theirs)
    assert _within(ours, theirs, Decimal(pct)) is expected
    assert _within(theirs, theirs, Decimal(0))


def test_every_wallet_filter_asks_for_the_wallets_and_only_them():
    a, b = "0x" + "11" * 20, "0x" + "22" * 20
    for _step, _addresses, topics in wallet_filters([a, b]):
        named = [t for t in topics[1:] if t is not None]
        assert named == [["0x" + "0" * 24 + "11" * 20, "0x" + "0" * 24 + "22" * 20]]
