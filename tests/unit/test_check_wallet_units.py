"""check-wallet's small rules: the data API's float figures to micro-units, and the per-position tolerance."""
from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.gates.checkwallet import CheckWalletError
from harness.gates.checkwallet.fetch import wallet_filters
from harness.gates.checkwallet.positions import _micro
from harness.gates.checkwallet.report import CENT, _within


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


def test_safe_derivation_matches_polymarkets_init_code_hash_and_sdk():
    """The Safe CREATE2 derivation: PolySafeLib's proxy creation code with the master copy in contracts.yaml hashes
    to the SAFE_INIT_CODE_HASH Polymarket's clients use, and a signer's Safe is the address Polymarket's SDK
    derived for it in a public report (vchat-meme-blip/betmirror docs/POLYMARKET_SDK_ISSUE_REPORT.md: signer
    0xBBc2...45be, "SDK Derived Safe" 0xEFae...E1Ad)."""
    from eth_hash.auto import keccak

    from harness.chain.proxies import polymarket_proxy_address, polymarket_safe_address, safe_init_code
    from harness.gates.checkwallet.fetch import derived_links

    assert keccak(safe_init_code()).hex() == "2bce2127ff07fb632d16c8347c4ebf501f4841168bed00d9e6ef715ddb6fcecf"
    signer = "0xbbc264c10f54a61607a31b53358a5a87d4b045be"
    assert polymarket_safe_address(signer) == "0xefae63145ffb73ab047e578324bca9baabe5e1ad"
    assert [(p.proxy, p.kind) for p in derived_links(signer)] == [
        ("0xefae63145ffb73ab047e578324bca9baabe5e1ad", "safe"), (polymarket_proxy_address(signer), "proxy")]
