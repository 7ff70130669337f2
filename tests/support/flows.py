"""Hand-built contract scenarios, one per Polymarket flow, with each wallet's P&L written by hand.

Why: the expected numbers come from reading the story, not from any code of the harness, so a test that compares
them with balances read from the contracts checks the contracts (and later the warehouse) against arithmetic a
reader can redo. Each function plays its flow on an installed ``Polymarket`` with fresh wallets and conditions and
returns a ``Flow``; the lead's tests can push the same node logs through the warehouse.
Amounts are micro-units: ``U = 1_000_000`` is one USDC or one share.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from eth_hash.auto import keccak

from harness.chain.contracts import Polymarket

U = 1_000_000


def addr(*parts) -> str:
    return "0x" + keccak(repr(parts).encode()).hex()[:40]


def b32(*parts) -> str:
    return "0x" + keccak(repr(parts).encode()).hex()


@dataclass
class Flow:
    """What a scenario did: wallets by role, the tokens they may hold, and the hand-written expectations."""

    name: str
    wallets: dict[str, str]  # role -> address
    tokens: dict[str, int]  # label -> position id
    token_value: dict[int, int]  # position id -> micro-USDC per share-unit x U (payout or mark, 0..U)
    expected_pnl: dict[str, int]  # role -> cash-flow P&L in micro-USDC, by hand
    expected_cash: dict[str, int] = field(default_factory=dict)  # role -> collateral balance at the end, by hand
    expected_shares: dict[tuple[str, str], int] = field(default_factory=dict)  # (role, token label) -> balance
    conditions: list[str] = field(default_factory=list)
    first_block: int = 0
    last_block: int = 0


def state_pnl(pm: Polymarket, flow: Flow) -> dict[str, int]:
    """Cash-flow P&L per role from contract state only: collateral now - funded + sum shares x value."""
    roles = list(flow.wallets)
    ws = [flow.wallets[r] for r in roles]
    usdc, pusd = pm.balance_of("usdc", ws), pm.balance_of("pusd", ws)
    ids = list(flow.token_value)
    held = pm.positions(ws, ids)
    out = {}
    for r, w in zip(roles, ws):
        cash = usdc[w] + pusd[w] - pm.funded[w]["usdc"] - pm.funded[w]["pusd"]
        value = sum(n * flow.token_value[t] for (o, t), n in held.items() if o == w)
        out[r] = cash + value // U
    return out


def ctf_split_merge_redeem(pm: Polymarket, tag: str = "ctf") -> Flow:
    """A splits 10, merges 4, gives 6 NO to B; NO wins; A redeems (YES worth 0), B keeps its NO unredeemed.

    A: 100 -> 90 (split) -> 94 (merge) -> 94 (redeems 6 YES for 0): P&L -6.
    B: 50 funded, receives 6 NO worth 1 each, never redeems: P&L +6.
    """
    a, b, oracle = addr(tag, "A"), addr(tag, "B"), addr(tag, "oracle")
    q = b32(tag, "question")
    first = pm.node.block_number() + 1
    pm.fund(a, usdc=100 * U)
    pm.fund(b, usdc=50 * U)
    pm.approve([a, b])
    cid = pm.prepare_condition(oracle, q)
    yes, no = pm.token_ids(cid)
    pm.split(a, cid, 10 * U)
    pm.merge(a, cid, 4 * U)
    pm.transfer(a, b, no, 6 * U)
    pm.resolve(oracle, q, [0, 1])
    pm.redeem(a, cid)
    return Flow("ctf_split_merge_redeem", {"A": a, "B": b}, {"YES": yes, "NO": no}, {yes: 0, no: U},
                expected_pnl={"A": -6 * U, "B": 6 * U}, expected_cash={"A": 94 * U, "B": 50 * U},
                expected_shares={("A", "YES"): 0, ("A", "NO"): 0, ("B", "NO"): 6 * U, ("B", "YES"): 0},
                conditions=[cid], first_block=first, last_block=pm.node.block_number())


FLOWS = (ctf_split_merge_redeem,)
