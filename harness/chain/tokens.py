"""Conditional Tokens id math: condition id, collection id (alt_bn128 point step), position (token) id.

Follows gnosis/conditional-tokens-contracts CTHelpers for a zero parent collection: the only shape Polymarket
uses. All ids are lower-case 0x-hex (bytes32) except position ids, which are uint256 ints as ERC1155 carries them.
"""
from __future__ import annotations

from functools import lru_cache

from eth_hash.auto import keccak

from harness.config import contracts, token_address

#: alt_bn128 base field prime.
P = 21888242871839275222246405745257275088696311157297823662689037894645226208583
_B = 3  # curve y^2 = x^3 + 3
_ODD_FLAG = 1 << 254
ZERO32 = "0x" + "00" * 32


def _b(hex_or_bytes: str | bytes, n: int, what: str) -> bytes:
    if isinstance(hex_or_bytes, bytes):
        raw = hex_or_bytes
    else:
        s = hex_or_bytes[2:] if hex_or_bytes[:2] in ("0x", "0X") else hex_or_bytes
        try:
            raw = bytes.fromhex(s)
        except ValueError:
            raise ValueError(f"{what} {hex_or_bytes!r} is not hex") from None
    if len(raw) != n:
        raise ValueError(f"{what} {hex_or_bytes!r} must be {n} bytes, got {len(raw)}")
    return raw


def condition_id(oracle: str, question_id: str, outcome_slot_count: int) -> str:
    """keccak256(oracle ‖ questionId ‖ uint256 outcomeSlotCount), lower-case 0x-hex."""
    data = _b(oracle, 20, "oracle") + _b(question_id, 32, "question id") + outcome_slot_count.to_bytes(32, "big")
    return "0x" + keccak(data).hex()


def _is_square(v: int) -> bool:
    return v == 0 or pow(v, (P - 1) // 2, P) == 1


@lru_cache(maxsize=65536)
def collection_id(condition: str, index_set: int) -> str:
    """CTHelpers.getCollectionId with parent 0: hash to a curve x, step to a point, flag odd, as bytes32."""
    if index_set <= 0:
        raise ValueError(f"index set must be positive, got {index_set}")
    x = int.from_bytes(keccak(_b(condition, 32, "condition id") + index_set.to_bytes(32, "big")), "big")
    odd = x >> 255
    while True:
        x = (x + 1) % P
        if _is_square((x * x * x + _B) % P):
            break
    if odd:
        x ^= _ODD_FLAG
    return "0x" + x.to_bytes(32, "big").hex()


def position_id(collateral: str, collection: str) -> int:
    """uint256(keccak256(collateral address ‖ collectionId)): the ERC1155 token id."""
    return int.from_bytes(keccak(_b(collateral, 20, "collateral") + _b(collection, 32, "collection id")), "big")


def index_set(outcome_index: int) -> int:
    if outcome_index < 0:
        raise ValueError(f"outcome index must be >= 0, got {outcome_index}")
    return 1 << outcome_index


def outcome_index(index_set_: int) -> int:
    """The outcome of a single-outcome index set (a power of two); anything else is an error."""
    if index_set_ <= 0 or index_set_ & (index_set_ - 1):
        raise ValueError(f"index set {index_set_} is not a single outcome (a power of two)")
    return index_set_.bit_length() - 1


def collateral_for(neg_risk: bool) -> str:
    """wcol for negRisk markets (the adapter wraps USDC.e), USDC.e otherwise."""
    return token_address("wcol" if neg_risk else "usdc_e")


def token_id(condition: str, outcome: int, *, neg_risk: bool = False, collateral: str | None = None) -> int:
    """Position id of one outcome of a condition (parent collection 0)."""
    coll = collateral or collateral_for(neg_risk)
    return position_id(coll, collection_id(condition.lower(), index_set(outcome)))


def token_ids(condition: str, outcome_slot_count: int, *, neg_risk: bool = False) -> list[int]:
    return [token_id(condition, i, neg_risk=neg_risk) for i in range(outcome_slot_count)]


def neg_risk_condition_id(question_id: str) -> str:
    """Conditions of negRisk questions are prepared by the NegRiskAdapter as oracle, with 2 outcomes."""
    return condition_id(contracts()["neg_risk_adapter"].address, question_id, 2)
