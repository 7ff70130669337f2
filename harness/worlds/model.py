"""The simulator's vocabulary: world parameters, a market as the simulator tracks it, and its made-up ids.

Kept apart from the simulator's state and protocols so that the ledger, the protocol modules and chain-world share
one definition without importing each other.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from harness.errors import HarnessError

SCALE = 1_000_000
ZERO = "0x" + "00" * 20
ZERO32 = "0x" + "00" * 32


class SimulationError(HarnessError, RuntimeError):
    """The simulator broke one of its own invariants (a bug, never bad input)."""


@dataclass(frozen=True)
class WorldParams:
    seed: int = 7
    wallets: int = 300
    markets: int = 40  # binary markets + negRisk events (each event holds 3-5 question conditions)
    fills: int = 3000  # matched trades (one matchOrders tx each)
    neg_risk_share: float = 0.3
    v2_share: float = 0.15  # markets traded on the V2 exchanges (side/tokenId fills, fees in collateral)
    open_share: float = 0.25  # markets never resolved, marked to a price at the end
    fee_wallet_share: float = 0.2  # wallets whose orders carry a fee
    proxy_share: float = 0.1  # wallets that are proxies of an EOA (half Safes with a ProxyCreation, half CREATE2)
    start_block: int = 60_000_000
    start_time: int = 1_727_740_800  # 2024-10-01 00:00:00 UTC
    fpmm_markets: int = 0  # legacy AMM markets (one FPMM each: funding, buys, sells); 0 leaves a world as before
    # the trading is spread over at least this many days (2 s blocks, empty blocks skipped): a history with days
    # and weeks to show; a world with more blocks than the span holds takes longer, block after block
    span_days: int = 35

    def __post_init__(self):
        if self.wallets < 4 or self.markets < 1 or self.fills < 0 or self.fpmm_markets < 0 or self.span_days < 0:
            raise ValueError(f"need wallets >= 4, markets >= 1, fills >= 0, span_days >= 0: {self}")


@dataclass
class Market:
    key: int
    conditions: list[str]  # binary: one; negRisk: one per question
    question_ids: list[str]
    tokens: list[tuple[int, int]]  # per condition: (outcome 0 / YES, outcome 1 / NO)
    neg_risk: bool
    market_id: str = ZERO32
    price: list[int] = field(default_factory=list)  # per condition, YES price in cents (1..99)
    winner: int | None = None  # condition index that resolves YES (binary: outcome index that wins)
    resolve_at: int | None = None
    early: list[int] = field(default_factory=list)  # negRisk: losing questions resolved before the rest
    early_at: int | None = None
    resolved: bool = False
    payouts: dict[str, list[int]] = field(default_factory=dict)
    v2: bool = False
    fpmm: str | None = None  # the legacy AMM market's FixedProductMarketMaker

    @property
    def exchange_key(self) -> str:
        return ("neg_risk_exchange" if self.neg_risk else "ctf_exchange") + ("_v2" if self.v2 else "")


def seeded_hash(*parts) -> str:
    """A 32-byte hex id made from ``parts`` (tx and block hashes, question ids): the same world, the same ids."""
    return "0x" + hashlib.sha256(repr(parts).encode()).hexdigest()


def seeded_address(*parts) -> str:
    """A 20-byte address made from ``parts`` (wallets, oracle, FPMMs)."""
    return "0x" + hashlib.sha256(repr(parts).encode()).hexdigest()[:40]
