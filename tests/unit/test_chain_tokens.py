"""Token-id math against real Polymarket ids and against an independent (Tonelli-free, web3-hashed) derivation."""
from __future__ import annotations

import gzip
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st
from web3 import Web3

from harness.chain import tokens
from harness.config import PROJECT_ROOT, contracts, token_address

P = 21888242871839275222246405745257275088696311157297823662689037894645226208583


def _oracle_collection_id(cond: str, index_set: int) -> int:
    """Independent form: P = 3 mod 4, so a square root is v^((P+1)/4); accept x once (sqrt)^2 == x^3+3."""
    h = Web3.solidity_keccak(["bytes32", "uint256"], [bytes.fromhex(cond[2:]), index_set])
    x = int.from_bytes(h, "big")
    odd = x >= 2**255
    while True:
        x = (x + 1) % P
        v = (pow(x, 3, P) + 3) % P
        y = pow(v, (P + 1) // 4, P)
        if y * y % P == v:
            break
    return x + 2**254 if odd else x  # x < P < 2^254, so setting bit 254 is an addition


def _oracle_token(collateral: str, cond: str, index_set: int) -> int:
    cid = _oracle_collection_id(cond, index_set)
    return int.from_bytes(Web3.solidity_keccak(["address", "bytes32"], [Web3.to_checksum_address(collateral),
                                                                        cid.to_bytes(32, "big")]), "big")


def test_all_gamma_markets_regenerate_their_clob_token_ids():
    path = PROJECT_ROOT / "fixtures" / "real" / "gamma_btc5m_markets_2026-07-24.jsonl.gz"
    with gzip.open(path, "rt") as fh:
        markets = [json.loads(line) for line in fh]
    assert len(markets) == 292
    for m in markets:
        assert [str(t) for t in tokens.token_ids(m["condition_id"], 2)] == m["token_ids"], m["slug"]
        raw = json.loads(m["raw"]) if isinstance(m["raw"], str) else m["raw"]
        assert raw["negRisk"] in (False, None)


def test_order_page_tokens_match_their_conditions_with_the_right_collateral():
    orders = json.loads((PROJECT_ROOT / "fixtures" / "real" / "orders_page_xcnstrategy.json").read_text())[0]["orders"]
    kinds = {"standard": 0, "negrisk": 0}
    for o in orders:
        tid, cid = int(o["token_id"]), o["condition_id"]
        std, neg = tokens.token_ids(cid, 2), tokens.token_ids(cid, 2, neg_risk=True)
        assert (tid in std) != (tid in neg), o["market_slug"]
        kinds["standard" if tid in std else "negrisk"] += 1
    assert kinds == {"standard": 20, "negrisk": 80}


@given(cond=st.binary(min_size=32, max_size=32), outcome=st.integers(0, 7), neg=st.booleans())
def test_token_id_equals_independent_derivation(cond, outcome, neg):
    c = "0x" + cond.hex()
    coll = token_address("wcol" if neg else "usdc_e")
    assert tokens.token_id(c, outcome, neg_risk=neg) == _oracle_token(coll, c, 1 << outcome)
    assert int(tokens.collection_id(c, 1 << outcome), 16) == _oracle_collection_id(c, 1 << outcome)


@given(oracle=st.binary(min_size=20, max_size=20), q=st.binary(min_size=32, max_size=32), n=st.integers(2, 256))
def test_condition_id_is_keccak_of_packed_fields(oracle, q, n):
    exp = Web3.solidity_keccak(["address", "bytes32", "uint256"], [Web3.to_checksum_address(oracle), q, n]).hex()
    assert tokens.condition_id("0x" + oracle.hex(), "0x" + q.hex(), n) == "0x" + exp.removeprefix("0x")


def test_neg_risk_condition_uses_the_adapter_as_oracle():
    q = "0x" + "42" * 32
    assert tokens.neg_risk_condition_id(q) == tokens.condition_id(contracts()["neg_risk_adapter"].address, q, 2)


@given(st.integers(0, 255))
def test_outcome_index_set_round_trip(i):
    assert tokens.outcome_index(tokens.index_set(i)) == i
    assert tokens.index_set(i) == 2**i


@pytest.mark.parametrize("bad", [0, 3, 6, -1])
def test_multi_outcome_index_sets_are_rejected(bad):
    with pytest.raises(ValueError, match="not a single outcome"):
        tokens.outcome_index(bad)


def test_bad_hex_inputs_name_the_field():
    with pytest.raises(ValueError, match="condition id"):
        tokens.collection_id("0x1234", 1)
    with pytest.raises(ValueError, match="oracle"):
        tokens.condition_id("0xzz", "0x" + "00" * 32, 2)
