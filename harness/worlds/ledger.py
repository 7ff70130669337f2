"""The simulator's ledger: one ERC1155 balance book, the cash flows, and the exact P&L read from them.

Every share the simulator moves goes through ``Book``, which refuses to go negative; the cash per (wallet,
condition) follows the shared cash-flow P&L definition, so a world's truth is known to the micro-dollar without
reading its logs.
"""
from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass
from fractions import Fraction

from harness.worlds.model import SCALE, ZERO, Market, SimulationError


@dataclass
class WalletTruth:
    realized: int = 0
    unrealized: int = 0
    total: int = 0
    markets_resolved: int = 0
    markets_open: int = 0


class Book:
    """ERC1155 balances per (token, address), with a random-holder index; never negative."""

    def __init__(self, never: frozenset[str] = frozenset()):
        self.never = never
        self.bal: dict[int, dict[str, int]] = defaultdict(dict)
        self._holders: dict[int, list[str]] = defaultdict(list)
        self._listed: dict[int, set[str]] = defaultdict(set)

    def get(self, addr: str, tok: int) -> int:
        return self.bal[tok].get(addr, 0)

    def move(self, frm: str, to: str, tok: int, v: int) -> None:
        if v < 0:
            raise SimulationError(f"negative transfer {v}")
        if frm != ZERO:
            have = self.bal[tok].get(frm, 0)
            if have < v:
                raise SimulationError(f"{frm} would go negative on token {tok}: has {have}, moves {v}")
            self.bal[tok][frm] = have - v
        if to != ZERO:
            self.bal[tok][to] = self.bal[tok].get(to, 0) + v
            if to not in self._listed[tok]:
                self._listed[tok].add(to)
                self._holders[tok].append(to)

    def random_holder(self, rng: random.Random, tok: int, exclude: frozenset[str] = frozenset()) -> str | None:
        lst, listed, bal = self._holders[tok], self._listed[tok], self.bal[tok]
        for _ in range(8):
            if not lst:
                return None
            i = rng.randrange(len(lst))
            a = lst[i]
            if bal.get(a, 0) <= 0:  # stale entry: drop it
                lst[i] = lst[-1]
                lst.pop()
                listed.discard(a)
                continue
            if a not in exclude and a not in self.never:
                return a
        return None


def open_prices(markets: list[Market]) -> list[tuple[str, int, int]]:
    """(condition_id, outcome_index, price_micros) for every open condition."""
    out = []
    for m in markets:
        for c, p in zip(m.conditions, m.price):
            if c not in m.payouts:  # a negRisk market may be resolved question by question
                out += [(c, 0, p * 10_000), (c, 1, (100 - p) * 10_000)]
    return out


def cash_flow_truth(markets: list[Market], book: Book, cash: dict[tuple[str, str], int],
                    tmap: dict[int, tuple[str, int]],
                    excluded: set[str]) -> tuple[dict[str, WalletTruth], Fraction]:
    """Per wallet, the cash-flow P&L of the shared definition, from the ledger's cash and book; and what the one
    floor per (wallet, condition) drops, summed (the value dust)."""
    payouts = {c: nums for m in markets for c, nums in m.payouts.items()}
    px = {(c, o): v for c, o, v in open_prices(markets)}
    gross: dict[tuple[str, str], int] = defaultdict(int)
    pairs: set[tuple[str, str]] = set()
    for tok, holders in book.bal.items():  # every address a transfer ever touched, even at 0 now
        c, o = tmap[tok]
        mark = payouts[c][o] if c in payouts else px.get((c, o), 0)
        for w, n in holders.items():
            if w not in excluded:
                pairs.add((w, c))
                gross[(w, c)] += n * mark
    pairs |= {k for k in cash if k[0] not in excluded}
    out: dict[str, WalletTruth] = defaultdict(WalletTruth)
    value_dust = Fraction(0)
    for w, c in sorted(pairs):
        t = out[w]
        den = sum(payouts[c]) if c in payouts else SCALE
        value = gross[(w, c)] // den
        value_dust += Fraction(gross[(w, c)], den) - value
        if c in payouts:
            t.realized += cash.get((w, c), 0) + value
            t.markets_resolved += 1
        else:
            t.unrealized += cash.get((w, c), 0) + value
            t.markets_open += 1
    for t in out.values():
        t.total = t.realized + t.unrealized
    return dict(sorted(out.items())), value_dust


def micros_to_decimal(v: int) -> str:
    """Exact decimal string of a micro-USDC amount (no float on the way)."""
    sign = "-" if v < 0 else ""
    a = abs(v)
    return f"{sign}{a // SCALE}.{a % SCALE:06d}"
