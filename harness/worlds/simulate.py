"""Seeded market simulator: real ABI-encoded logs in chain order, plus each wallet's exact P&L.

It plays binary and negRisk markets: CLOB matches with the exchange's maker and taker legs (normal, MINT via a
split with stakeholder = exchange/adapter, MERGE), wallet splits and merges (CTF and NegRiskAdapter), wallet-to-
wallet ERC1155 transfers, negRisk conversions, resolutions and redemptions; some markets stay open with a price.
Every ERC1155 movement goes through one balance book that refuses to go negative, and a cash ledger follows the
shared cash-flow P&L definition, so ``truth`` is known to the micro-dollar without reading the logs back.

Its logs decode to the same rows as the same world played on the contracts (harness.worlds.chain_world, checked by
tests/integration/test_chain_world.py), tx hashes and block times aside: the negRisk V1 exchange moves shares
through the NegRiskAdapter (operator = adapter), conversions send the NO tokens to the burn address, a V2 market's
MINT/MERGE and a wallet's own split/merge/redeem/convert there go through the V2 collateral adapter (stakeholder =
adapter), order hashes are keccak256(abi.encode(order)) with salts the simulator picks, and a share of V1 matches
with fee-paying orders go through the fee module (fee receiver = the module, FeeRefunded after OrdersMatched).
Some wallets are proxy wallets of an EOA (``WorldParams.proxy_share``): Safes, whose ProxyCreation(proxy, owner)
the SafeProxyFactory emits before trading starts, and ProxyWalletFactory clones at the owner's CREATE2 address
(no event); ``meta()["proxies"]`` maps each owner to its proxy. Left out, because no table reads them: ERC20 transfers (USDC.e, pUSD, wcol), TokenRegistered, MarketPrepared and
OutcomeReported. V2 emits only the V2 OrderFilled (the registry holds no V2 OrdersMatched/FeeCharged).
"""
from __future__ import annotations

import bisect
import hashlib
import json
import random
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from fractions import Fraction
from pathlib import Path

from eth_abi import encode as abi_encode
from eth_hash.auto import keccak

from harness.worlds import files as world
from harness.chain.encode import encode_log
from harness.chain.events import BY_KEY
from harness.chain.tokens import condition_id, neg_risk_condition_id, token_id
from harness.config import contracts, token_address
from harness.errors import HarnessError
from harness.pnl.fpmm import Pool, PoolError
from harness.pnl.oracle import conversion_cash
from harness.chain.proxies import polymarket_proxy_address

SCALE = 1_000_000
ZERO = "0x" + "00" * 20
ZERO32 = "0x" + "00" * 32
SIMULATOR_VERSION = 1
_E = {k: BY_KEY[k] for k in BY_KEY}


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


def _h(*parts) -> str:
    return "0x" + hashlib.sha256(repr(parts).encode()).hexdigest()


def _addr(*parts) -> str:
    return "0x" + hashlib.sha256(repr(parts).encode()).hexdigest()[:40]


def neg_risk_market_id(oracle: str, fee_bips: int, metadata: bytes) -> str:
    """The NegRiskAdapter's market id: keccak256(abi.encode(oracle, feeBips, metadata)) with the last byte zeroed
    (its questions are market id + index)."""
    mid = int.from_bytes(keccak(abi_encode(["address", "uint256", "bytes"], [oracle, fee_bips, metadata])), "big")
    return "0x" + format(mid & ~0xFF, "064x")


def _market_metadata(k: int) -> bytes:
    return f"market {k}".encode()


def _question_data(i: int) -> bytes:
    return f"question {i}".encode()


def _fee(bps: int, making: int, taking: int, buy: bool) -> int:
    """CTF exchange fee in the proceeds asset: BUY -> shares, SELL -> collateral (CalculatorHelper form)."""
    if bps == 0 or making == 0 or taking == 0:
        return 0
    if buy:  # price = making / taking (collateral per share); outcome tokens = taking
        return bps * min(making, taking - making) * taking // (making * 10_000) if taking > making else 0
    return bps * min(taking, making - taking) // 10_000 if making > taking else 0


class Simulation:
    """Run once: iterate ``logs()``; afterwards ``truth``, ``prices``, ``meta`` and ``reference_wallets``."""

    def __init__(self, params: WorldParams | None = None, *, fee_receiver: str | None = None, **kw):
        self.p = params or WorldParams(**kw)
        self.rng = random.Random(self.p.seed)
        c = contracts()
        self.addr = {k: v.address for k, v in c.items()}
        self.adapter = self.addr["neg_risk_adapter"]
        # the V2 collateral adapters (a V2 market's splits, merges, redemptions and conversions go through them)
        self.v2_adapter = {False: self.addr["ctf_collateral_adapter"], True: self.addr["neg_risk_collateral_adapter"]}
        self.fee_module = {False: self.addr["fee_module"], True: self.addr["neg_risk_fee_module"]}
        self.burn = self.addr["neg_risk_no_token_burn"]  # where convertPositions sends the NO tokens
        self._salt = 0
        self.usdc, self.wcol = token_address("usdc_e"), token_address("wcol")
        self.oracle = _addr("uma-ctf-adapter", self.p.seed)
        # who receives V1 fees: the exchanges' operator (chain-world passes the one its contracts pay)
        self.fee_receiver = fee_receiver or _addr("fee-receiver", self.p.seed)
        self.wallets = [_addr("wallet", self.p.seed, i) for i in range(self.p.wallets)]
        self.pools: dict[str, Pool] = {}  # FPMM address -> its pool
        # Some wallets are proxy wallets that an EOA signs for (as on polymarket.com): a Safe, whose creation the
        # SafeProxyFactory announces, or a ProxyWalletFactory clone at the owner's CREATE2 address (no event).
        # Picked by hash, not by self.rng, so the rest of the world's draws do not depend on the share.
        self.proxies: dict[str, tuple[str, str]] = {}  # proxy (the trading address) -> (owner EOA, kind)
        for i in range(self.p.wallets):
            h = int(_h("proxy", self.p.seed, i), 16)
            if h % 1000 < self.p.proxy_share * 1000:
                owner = _addr("owner", self.p.seed, i)
                kind = "proxy" if (h >> 16) & 1 else "safe"
                if kind == "proxy":
                    self.wallets[i] = polymarket_proxy_address(owner)
                self.proxies[self.wallets[i]] = (owner, kind)
        r = self.rng
        self.informed = {w for w in self.wallets if r.random() < 0.2}
        self.fee_bps = {w: (r.choice((100, 200)) if r.random() < self.p.fee_wallet_share else 0) for w in self.wallets}
        self.book = Book(frozenset(self.excluded() | {self.fee_receiver}))
        self.cash: dict[tuple[str, str], int] = defaultdict(int)
        self.tmap: dict[int, tuple[str, int]] = {}
        self.markets: list[Market] = []
        self.live: list[Market] = []  # not resolved yet
        self.live_neg: list[Market] = []
        self.resolved: list[Market] = []
        self.counts: dict[str, int] = defaultdict(int)
        self.ops: dict[str, int] = defaultdict(int)
        self.fees_usdc = 0
        self.fees_shares = 0
        self.refunds_usdc = 0
        self.refunds_shares = 0
        self.redeem_dust = Fraction(0)
        self.block = self.p.start_block
        self.time = self.p.start_time
        self._tx_in_block = 0
        self._log_in_block = 0
        self._pending: list[dict] = []
        self._done = False
        self._fills = 0  # matched trades done so far (the span's clock follows them)
        self.resolved_time: dict[str, int] = {}  # condition -> block time of its resolution
        self.first_block = self.p.start_block
        self.converters: set[str] = set()
        self.player = None  # set by chain-world: replays every operation as real transactions

    def _play(self, op: str, **kw) -> None:
        """Hand a decided operation to the player (chain-world), with the block and time the logs carry."""
        if self.player is not None:
            self.player.play(op, self.block, self.time, kw)

    # ---- emission ------------------------------------------------------------------------------------------------

    def _time_target(self) -> int:
        """Where the clock should be after ``self._fills`` matched trades: the span shared out by trades done."""
        if not self.p.fills:
            return self.time
        return self.p.start_time + self.p.span_days * 86_400 * min(self._fills, self.p.fills) // self.p.fills

    def _new_tx(self) -> str:
        if self._tx_in_block >= self.rng.randint(1, 4):
            # the next block: the one after, or the one the span's clock has reached (the blocks between hold
            # none of the world's transactions); 2 s per block either way, like Polygon
            step = max(1, (self._time_target() - self.time) // 2)
            self.block += step
            self.time += 2 * step
            self._tx_in_block = 0
            self._log_in_block = 0
        self._tx_in_block += 1
        self._tx = _h("tx", self.p.seed, self.block, self._tx_in_block)
        return self._tx

    def _emit(self, key: str, args: dict, address: str) -> None:
        self._pending.append(encode_log(_E[key], args, tx_hash=self._tx, log_index=self._log_in_block,
                                        block_number=self.block, block_time=self.time, address=address,
                                        block_hash=_h("block", self.p.seed, self.block),
                                        tx_index=self._tx_in_block - 1))
        self._log_in_block += 1
        self.counts[key] += 1

    def _single(self, op: str, frm: str, to: str, tok: int, v: int) -> None:
        self.book.move(frm, to, tok, v)
        self._emit("ctf.TransferSingle", {"operator": op, "from": frm, "to": to, "id": tok, "value": v},
                   self.addr["ctf"])

    def _batch(self, op: str, frm: str, to: str, toks: list[int], vals: list[int]) -> None:
        for t, v in zip(toks, vals):
            self.book.move(frm, to, t, v)
        self._emit("ctf.TransferBatch", {"operator": op, "from": frm, "to": to, "ids": toks, "values": vals},
                   self.addr["ctf"])

    def _ctf_split(self, who: str, m: Market, ci: int, amount: int, merge: bool = False) -> None:
        """ConditionalTokens split/merge by ``who`` (mint from / burn to 0x0, then the CTF event)."""
        toks = list(m.tokens[ci])
        coll = self.wcol if m.neg_risk else self.usdc
        if merge:
            self._batch(who, who, ZERO, toks, [amount, amount])
        else:
            self._batch(who, ZERO, who, toks, [amount, amount])
        self._emit("ctf.PositionsMerge" if merge else "ctf.PositionSplit",
                   {"stakeholder": who, "collateralToken": coll, "parentCollectionId": ZERO32,
                    "conditionId": m.conditions[ci], "partition": [1, 2], "amount": amount}, self.addr["ctf"])

    def _adapter_split(self, who: str, m: Market, ci: int, amount: int, merge: bool = False) -> None:
        """NegRiskAdapter split/merge for ``who``: its internal CTF legs (stakeholder = adapter) + its event."""
        toks = list(m.tokens[ci])
        if merge:
            self._batch(self.adapter, who, self.adapter, toks, [amount, amount])
            self._ctf_split(self.adapter, m, ci, amount, merge=True)
        else:
            self._ctf_split(self.adapter, m, ci, amount)
            self._batch(self.adapter, self.adapter, who, toks, [amount, amount])
        self._emit("adapter.PositionsMerge" if merge else "adapter.PositionSplit",
                   {"stakeholder": who, "conditionId": m.conditions[ci], "amount": amount}, self.adapter)

    def _split_any(self, who: str, m: Market, ci: int, amount: int, merge: bool = False) -> None:
        """A split/merge by ``who`` in market ``m``: CTF (standard) or NegRiskAdapter (negRisk); in a V2 market
        through the V2 collateral adapter, which is then the stakeholder and passes the shares on to ``who``."""
        v1 = self._adapter_split if m.neg_risk else self._ctf_split
        if not m.v2:
            v1(who, m, ci, amount, merge)
            return
        a, toks = self.v2_adapter[m.neg_risk], list(m.tokens[ci])
        if merge:
            self._batch(a, who, a, toks, [amount, amount])
            v1(a, m, ci, amount, True)
        else:
            v1(a, m, ci, amount)
            self._batch(a, a, who, toks, [amount, amount])

    # ---- world setup -----------------------------------------------------------------------------------------

    def _prepare_markets(self) -> None:
        r, p = self.rng, self.p
        for k in range(p.markets):
            neg = r.random() < p.neg_risk_share
            if neg:
                nq = r.randint(3, 5)
                mid = neg_risk_market_id(self.oracle, 0, _market_metadata(k))
                qids = [mid[:-2] + format(i, "02x") for i in range(nq)]
                conds = [neg_risk_condition_id(q) for q in qids]
            else:
                qids = [_h("question", p.seed, k)]
                conds = [condition_id(self.oracle, qids[0], 2)]
                mid = ZERO32
            m = Market(k, conds, qids, [(token_id(c, 0, neg_risk=neg), token_id(c, 1, neg_risk=neg)) for c in conds],
                       neg, mid, [r.randint(5, 95) for _ in conds])
            for c, (t0, t1) in zip(conds, m.tokens):
                self.tmap[t0], self.tmap[t1] = (c, 0), (c, 1)
            m.v2 = r.random() < p.v2_share
            if r.random() >= p.open_share:
                m.winner = r.randrange(len(conds)) if neg else r.randrange(2)
            self.markets.append(m)
            self.live.append(m)
            if neg:
                self.live_neg.append(m)
        for k in range(p.markets, p.markets + p.fpmm_markets):  # the legacy AMM's binary markets, after the rest
            qids = [_h("question", p.seed, k)]
            conds = [condition_id(self.oracle, qids[0], 2)]
            m = Market(k, conds, qids, [(token_id(conds[0], 0), token_id(conds[0], 1))], False, ZERO32,
                       [r.randint(10, 90)], fpmm=_addr("fpmm", p.seed, k))
            self.tmap[m.tokens[0][0]], self.tmap[m.tokens[0][1]] = (conds[0], 0), (conds[0], 1)
            if r.random() >= p.open_share:
                m.winner = r.randrange(2)
            self.pools[m.fpmm] = Pool()
            self.book.never = self.book.never | {m.fpmm}
            self.markets.append(m)
            self.live.append(m)
        for m in self.markets:  # resolution point, in matched trades done
            if m.winner is not None:
                m.resolve_at = int(p.fills * r.uniform(0.3, 0.95))
                if m.neg_risk and r.random() < 0.5:  # some losing questions resolve first, question by question
                    losers = [i for i in range(len(m.conditions)) if i != m.winner]
                    m.early = sorted(r.sample(losers, r.randint(1, len(losers) - 1)))
                    m.early_at = int(m.resolve_at * r.uniform(0.4, 0.9))
        for m in self.markets:
            self._new_tx()
            self._play("prepare", m=m)
            for i, (c, q) in enumerate(zip(m.conditions, m.question_ids)):
                self._emit("ctf.ConditionPreparation", {"conditionId": c, "oracle": self.adapter if m.neg_risk
                                                        else self.oracle, "questionId": q, "outcomeSlotCount": 2},
                           self.addr["ctf"])
                if m.neg_risk:
                    self._emit("adapter.QuestionPrepared", {"marketId": m.market_id, "questionId": q, "index": i,
                                                            "data": "0x" + _question_data(i).hex()}, self.adapter)
        for m in self.markets:
            if m.fpmm is not None:
                self._fpmm_create(m)

    # ---- operations --------------------------------------------------------------------------------------------

    def _size(self) -> int:
        """Shares in micro-units, a multiple of 100 so cents prices give whole micro-USDC."""
        return self.rng.choice((1, 2, 5, 10, 20, 50, 100, 200, 500)) * self.rng.randint(1, 100) * 10_000

    def _credit_fill(self, wallet: str, cid: str, buy: bool, usdc: int, fee_usdc: int) -> None:
        self.cash[(wallet, cid)] += (-usdc if buy else usdc) - fee_usdc

    def _op_match(self) -> bool:
        r = self.rng
        if not self.live:
            return False
        m = r.choice(self.live)
        ci = r.randrange(len(m.conditions))
        ex = self.addr[m.exchange_key]
        # drift the price; informed wallets lean to the eventual winner
        m.price[ci] = min(99, max(1, m.price[ci] + r.randint(-3, 3)))
        taker = r.choice(self.wallets)
        win_outcome = None
        if m.winner is not None:
            win_outcome = (0 if m.winner == ci else 1) if m.neg_risk else m.winner
        o = (win_outcome if taker in self.informed and win_outcome is not None and r.random() < 0.7
             else r.randrange(2))
        tok, comp = m.tokens[ci][o], m.tokens[ci][1 - o]
        p = m.price[ci] if o == 0 else 100 - m.price[ci]  # price of `tok` in cents
        taker_buy = r.random() < 0.55 or self.book.get(taker, tok) == 0
        nmakers = r.randint(1, 3)
        others = frozenset({taker})
        makers: list[tuple[str, int]] = []  # (maker, shares)
        if taker_buy:
            kind = "mint" if r.random() < 0.35 else "normal"
            for _ in range(nmakers):
                if kind == "normal":
                    mk = self.book.random_holder(r, tok, others)
                    if mk is None:
                        if makers:
                            break
                        kind = "mint"
                        continue
                    n = min(self._size(), self.book.get(mk, tok) // 100 * 100)
                else:
                    mk = r.choice(self.wallets)
                    n = self._size()
                if mk in others or n <= 0:
                    continue
                others |= {mk}
                makers.append((mk, n))
        else:
            have = self.book.get(taker, tok) // 100 * 100
            kind = "merge" if r.random() < 0.35 else "normal"
            budget = have
            for _ in range(nmakers):
                if budget <= 0:
                    break
                if kind == "merge":
                    mk = self.book.random_holder(r, comp, others)
                    if mk is None:
                        if makers:
                            break
                        kind = "normal"
                        continue
                    n = min(self._size(), self.book.get(mk, comp) // 100 * 100, budget)
                else:
                    mk = r.choice(self.wallets)
                    n = min(self._size(), budget)
                if mk in others or n <= 0:
                    continue
                others |= {mk}
                budget -= n
                makers.append((mk, n))
        if not makers:
            return False
        # a share of V1 matches with a fee-paying order go through the fee module, which refunds part of each fee
        quarters = None
        if not m.v2 and any(self.fee_bps[w] for w in [taker] + [x for x, _ in makers]) and r.random() < 0.5:
            quarters = r.randrange(4)
        self._new_tx()
        self._match(m, ci, ex, taker, taker_buy, kind, tok, comp, p, makers, quarters)
        self.ops[f"match_{kind}"] += 1
        if quarters is not None:
            self.ops["fee_module_routed"] += 1
        return True

    def _order_hash(self, o: tuple) -> str:
        """keccak256(abi.encode(order)) of (salt, maker, tokenId, makerAmount, takerAmount, feeRateBps, side): the
        exchanges' hashOrder (all static words, so abi.encode is the 7 words end to end)."""
        maker, tok, side, making, taking, bps, salt = o
        words = (salt, int(maker, 16), tok, making, taking, bps, side)
        return "0x" + keccak(b"".join(w.to_bytes(32, "big") for w in words)).hex()

    def _match(self, m: Market, ci: int, ex: str, taker: str, taker_buy: bool, kind: str, tok: int, comp: int,
               p: int, makers: list[tuple[str, int]], quarters: int | None = None) -> None:
        """One matchOrders tx, in the exchange's order: the taker's asset in; per maker order its asset in, the
        MINT/MERGE, its proceeds, fee and OrderFilled (taker = the taker's wallet); the taker order's proceeds, fee
        and OrderFilled (taker = the exchange); on V1 OrdersMatched; through the fee module (``quarters`` = the
        operator's fee in quarters of the exchange fee) its refunds, taker first."""
        n_total = sum(n for _mk, n in makers)
        t_usdc = n_total * p // 100  # collateral side of the taker order
        # orders as (maker, token, side, makerAmount, takerAmount, feeRateBps, salt); each fills completely
        orders = [(taker, tok, 0 if taker_buy else 1, t_usdc if taker_buy else n_total,
                   n_total if taker_buy else t_usdc, self.fee_bps[taker])]
        legs = []  # per maker: (buy, token, shares, collateral)
        for mk, n in makers:
            if kind == "normal":
                mk_buy, mtok, usdc = not taker_buy, tok, n * p // 100
            else:  # complementary: maker trades the other outcome at the complementary price
                mk_buy, mtok, usdc = taker_buy, comp, n * (100 - p) // 100
            legs.append((mk_buy, mtok, n, usdc))
            orders.append((mk, mtok, 0 if mk_buy else 1, usdc if mk_buy else n, n if mk_buy else usdc,
                           self.fee_bps[mk]))
        salted = []
        for o in orders:
            self._salt += 1
            salted.append(o + (self._salt,))
        hashes = [self._order_hash(o) for o in salted]
        fm = self.fee_module[m.neg_risk] if quarters is not None else None
        op_fees = None
        if fm is not None:  # the operator's intended fee per order: a part of the exchange's (taker first)
            op_fees = [_fee(o[5], o[3], o[4], o[2] == 0) * quarters // 4 for o in orders]
        self._play("match", m=m, orders=salted, fee_module=fm is not None, operator_fees=op_fees)
        receiver = fm or self.fee_receiver
        mover = self.adapter if m.neg_risk and not m.v2 else ex  # the negRisk V1 exchange moves shares via the adapter
        if not taker_buy:  # taker's shares go to the exchange first
            self._single(mover, taker, ex, tok, n_total)
        fees = []
        for (mk, _n), (mk_buy, mtok, n, usdc), h in zip(makers, legs, hashes[1:]):
            if not mk_buy:
                self._single(mover, mk, ex, mtok, n)
            if kind != "normal":
                self._split_any(ex, m, ci, n, merge=kind == "merge")
            fees.append(self._fill(m, ex, mover, receiver, h, mk, taker, mk_buy, mtok, n, usdc)[2])
        making, taking, fee = self._fill(m, ex, mover, receiver, hashes[0], taker, ex, taker_buy, tok, n_total, t_usdc)
        fees.insert(0, fee)
        if not m.v2:
            ma, ta = (0, tok) if taker_buy else (tok, 0)
            self._emit("exchange.OrdersMatched", {"takerOrderHash": hashes[0], "takerOrderMaker": taker,
                                                  "makerAssetId": ma, "takerAssetId": ta,
                                                  "makerAmountFilled": making, "takerAmountFilled": taking}, ex)
        if fm is None:
            return
        for o, h, fee, op in zip(orders, hashes, fees, op_fees):
            if fee <= op:
                continue
            who, otok, buy = o[0], o[1], o[2] == 0
            refund = fee - op
            if buy:
                self._single(self.adapter if m.neg_risk else fm, fm, who, otok, refund)
                self.refunds_shares += refund
            else:
                self.cash[(who, self.tmap[otok][0])] += refund
                self.refunds_usdc += refund
            self._emit("fee_module.FeeRefunded", {"orderHash": h, "to": who, "id": otok if buy else 0,
                                                  "refund": refund, "feeCharged": op}, fm)

    def _fill(self, m: Market, ex: str, mover: str, receiver: str, order_hash: str, who: str, counterparty: str,
              buy: bool, tok: int, n: int, usdc: int) -> tuple[int, int, int]:
        """Pay ``who`` its order's proceeds less the fee, emit its OrderFilled, credit its cash."""
        bps = self.fee_bps[who]
        making, taking = (usdc, n) if buy else (n, usdc)
        if m.v2:  # V2: the fee is always collateral; a BUY receives every share
            fee = bps * min(usdc, n - usdc) // 10_000 if n > usdc else 0
            if buy:
                self._single(mover, ex, who, tok, n)
            self.fees_usdc += fee
            self._emit("exchange_v2.OrderFilled", {
                "orderHash": order_hash, "maker": who, "taker": counterparty, "side": 0 if buy else 1, "tokenId": tok,
                "makerAmountFilled": making, "takerAmountFilled": taking, "fee": fee, "builder": ZERO32,
                "metadata": ZERO32}, ex)
            self._credit_fill(who, self.tmap[tok][0], buy, usdc, fee)
            return making, taking, fee
        fee = _fee(bps, making, taking, buy)  # V1: from the proceeds asset
        if buy:
            self._single(mover, ex, who, tok, n - fee)
            if fee:
                self._single(mover, ex, receiver, tok, fee)
                self.fees_shares += fee
        else:
            self.fees_usdc += fee
        if fee:
            self._emit("exchange.FeeCharged", {"receiver": receiver, "tokenId": tok if buy else 0, "amount": fee}, ex)
        self._emit("exchange.OrderFilled", {
            "orderHash": order_hash, "maker": who, "taker": counterparty, "makerAssetId": 0 if buy else tok,
            "takerAssetId": tok if buy else 0, "makerAmountFilled": making, "takerAmountFilled": taking, "fee": fee},
            ex)
        self._credit_fill(who, self.tmap[tok][0], buy, usdc, 0 if buy else fee)
        return making, taking, fee

    def _op_split(self) -> bool:
        r = self.rng
        if not self.live:
            return False
        m = r.choice(self.live)
        ci = r.randrange(len(m.conditions))
        w = r.choice(self.wallets)
        amount = self._size()
        self._new_tx()
        self._play("split", w=w, m=m, ci=ci, amount=amount)
        self._split_any(w, m, ci, amount)
        self.cash[(w, m.conditions[ci])] -= amount
        self.ops["split_adapter" if m.neg_risk else "split"] += 1
        return True

    def _op_merge(self) -> bool:
        r = self.rng
        if not self.live:
            return False
        m = r.choice(self.live)
        ci = r.randrange(len(m.conditions))
        t0, t1 = m.tokens[ci]
        w = self.book.random_holder(r, t0)
        if w is None:
            return False
        amount = min(self.book.get(w, t0), self.book.get(w, t1))
        if amount <= 0:
            return False
        amount = r.choice((amount, max(1, amount // 2)))
        self._new_tx()
        self._play("merge", w=w, m=m, ci=ci, amount=amount)
        self._split_any(w, m, ci, amount, merge=True)
        self.cash[(w, m.conditions[ci])] += amount
        self.ops["merge_adapter" if m.neg_risk else "merge"] += 1
        return True

    def _op_transfer(self) -> bool:
        r = self.rng
        m = r.choice(self.markets)
        ci = r.randrange(len(m.conditions))
        tok = m.tokens[ci][r.randrange(2)]
        w = self.book.random_holder(r, tok)
        if w is None:
            return False
        to = r.choice(self.wallets)
        if to == w:
            return False
        v = max(1, self.book.get(w, tok) * r.choice((1, 2, 3, 4)) // 4)
        self._new_tx()
        self._play("transfer", frm=w, to=to, tok=tok, v=v)
        self._single(w, w, to, tok, v)
        self.ops["transfer"] += 1
        return True

    def _op_convert(self) -> bool:
        r = self.rng
        live = self.live_neg
        if not live:
            return False
        m = r.choice(live)
        q = len(m.conditions)
        w = self.book.random_holder(r, m.tokens[r.randrange(q)][1])
        if w is None:
            return False
        held = [i for i in range(q) if self.book.get(w, m.tokens[i][1]) > 0]
        s = sorted(r.sample(held, r.randint(1, len(held))))
        amount = min(self.book.get(w, m.tokens[i][1]) for i in s)
        amount = r.choice((amount, max(1, amount // 2)))
        rest = [j for j in range(q) if j not in s]
        self._new_tx()
        self._play("convert", w=w, m=m, index_set=sum(1 << i for i in s), amount=amount)
        iset = sum(1 << i for i in s)
        nos, yes = [m.tokens[i][1] for i in s], [m.tokens[j][0] for j in rest]
        who = w
        if m.v2:  # the V2 adapter takes the NOs, converts as the stakeholder, and hands the YES and pUSD on
            who = self.v2_adapter[True]
            self._batch(who, w, who, nos, [amount] * len(s))
        for j in rest:  # the adapter mints the YES it hands out; the spare NOs go to the burn address
            self._ctf_split(self.adapter, m, j, amount)
        self._batch(self.adapter, who, self.burn, nos, [amount] * len(s))
        self._batch(self.adapter, self.adapter, self.burn, [m.tokens[j][1] for j in rest], [amount] * len(rest))
        if rest:
            self._batch(self.adapter, self.adapter, who, yes, [amount] * len(rest))
        self._emit("adapter.PositionsConverted", {"stakeholder": who, "marketId": m.market_id, "indexSet": iset,
                                                  "amount": amount}, self.adapter)
        if m.v2 and rest:
            self._batch(who, who, w, yes, [amount] * len(rest))
        for qi, share in conversion_cash(iset, amount):  # the collateral goes to the questions it came from
            self.cash[(w, m.conditions[qi])] += share
        self.converters.add(w)
        self.ops["convert"] += 1
        return True

    # ---- the legacy AMM (FixedProductMarketMaker; pool arithmetic in harness.pnl.fpmm) ---------------------------------

    def _fpmm_create(self, m: Market) -> None:
        """The factory creates the market's FPMM (fee 2%), and a wallet funds it at the market's price."""
        r = self.rng
        self._new_tx()
        creator = _addr("fpmm-creator", self.p.seed)
        self._play("fpmm_create", m=m, creator=creator, fee=self.pools[m.fpmm].fee)
        self._emit("fpmm_factory.FixedProductMarketMakerCreation",
                   {"creator": creator, "fixedProductMarketMaker": m.fpmm,
                    "conditionalTokens": self.addr["ctf"], "collateralToken": self.usdc,
                    "conditionIds": [m.conditions[0]], "fee": self.pools[m.fpmm].fee}, self.addr["fpmm_factory"])
        self._fpmm_fund(m, r.choice(self.wallets), r.randint(50, 500) * SCALE, [100 - m.price[0], m.price[0]])

    def _fpmm_fund(self, m: Market, w: str, funds: int, hint: list[int] | None = None) -> None:
        """addFunding: the FPMM splits the funds, sends back what the pool's balance ratio leaves over."""
        fp, toks = m.fpmm, list(m.tokens[0])
        a = self.pools[fp].add_funding(w, funds, hint)
        self._new_tx()
        self._play("fpmm_add", w=w, m=m, funds=funds, hint=hint)
        self._ctf_split(fp, m, 0, funds)
        self._batch(fp, fp, w, toks, a.send_back)
        self._emit("fpmm.FPMMFundingAdded", {"funder": w, "amountsAdded": a.amounts_added, "sharesMinted": a.minted},
                   fp)
        self.cash[(w, m.conditions[0])] -= funds
        self.ops["fpmm_add"] += 1

    def _op_fpmm(self) -> bool:
        """One FPMM call: buy (most), sell, add funding or remove it (also after resolution)."""
        r = self.rng
        live = [m for m in self.live if m.fpmm is not None]
        kind = r.choices(("buy", "sell", "add", "remove"), (5, 3, 1, 1))[0]
        if kind == "remove":
            ms = [m for m in self.markets if m.fpmm is not None and self.pools[m.fpmm].supply > 0]
            if not ms:
                return False
            m = r.choice(ms)
            pool = self.pools[m.fpmm]
            lps = sorted(a for a, n in pool.shares.items() if n > 0)
            w = r.choice(lps)
            burnt = max(1, pool.shares[w] // r.choice((1, 2, 4)))
            try:
                rm = pool.remove_funding(w, burnt)
            except PoolError:  # the contract reverts it (a fee rounding shortfall): no chain could log it
                return False
            self._new_tx()
            self._play("fpmm_remove", w=w, m=m, shares=burnt)
            self._batch(m.fpmm, m.fpmm, w, list(m.tokens[0]), rm.amounts)
            self._emit("fpmm.FPMMFundingRemoved", {"funder": w, "amountsRemoved": rm.amounts,
                                                   "collateralRemovedFromFeePool": rm.fees, "sharesBurnt": burnt},
                       m.fpmm)
            self.cash[(w, m.conditions[0])] += rm.fees
            self.ops["fpmm_remove"] += 1
            return True
        if not live:
            return False
        m = r.choice(live)
        fp, cid = m.fpmm, m.conditions[0]
        pool = self.pools[fp]
        if kind == "add":
            self._fpmm_fund(m, r.choice(self.wallets), r.randint(10, 300) * SCALE)
            return True
        if kind == "buy":
            w = r.choice(self.wallets)
            o = m.winner if w in self.informed and m.winner is not None and r.random() < 0.7 else r.randrange(2)
            try:
                b = pool.buy(r.randint(1, 100) * 100_000, o)
            except PoolError:
                return False
            self._new_tx()
            self._play("fpmm_buy", w=w, m=m, outcome=o, investment=b.investment, tokens=b.tokens)
            self._ctf_split(fp, m, 0, b.investment - b.fee)
            self._single(fp, fp, w, m.tokens[0][o], b.tokens)
            self._emit("fpmm.FPMMBuy", {"buyer": w, "investmentAmount": b.investment, "feeAmount": b.fee,
                                        "outcomeIndex": o, "outcomeTokensBought": b.tokens}, fp)
            self.cash[(w, cid)] -= b.investment
            self.ops["fpmm_buy"] += 1
            return True
        o = r.randrange(2)
        tok = m.tokens[0][o]
        w = self.book.random_holder(r, tok, frozenset({self.fee_receiver}))
        if w is None:
            return False
        have = self.book.get(w, tok)
        num, den = pool.price(o)
        if den == 0:  # every LP has left: nothing to sell into
            return False
        returned = have * num // den * r.randint(10, 80) // 100 // 10_000 * 10_000
        if returned <= 0:
            return False
        try:
            if pool.calc_sell(returned, o) > have:
                return False
            sl = pool.sell(returned, o)
        except PoolError:
            return False
        self._new_tx()
        self._play("fpmm_sell", w=w, m=m, outcome=o, returned=sl.returned, tokens=sl.tokens)
        self._single(fp, w, fp, tok, sl.tokens)
        self._ctf_split(fp, m, 0, sl.returned + sl.fee, merge=True)
        self._emit("fpmm.FPMMSell", {"seller": w, "returnAmount": sl.returned, "feeAmount": sl.fee,
                                     "outcomeIndex": o, "outcomeTokensSold": sl.tokens}, fp)
        self.cash[(w, cid)] += sl.returned
        self.ops["fpmm_sell"] += 1
        return True

    def _resolve(self, m: Market, questions: list[int] | None = None) -> None:
        """Resolve ``questions`` of the market (default: every one not resolved yet) in one tx. A market stops
        trading at its first resolution; it is fully resolved when every question is."""
        r = self.rng
        self._new_tx()
        todo = [i for i in range(len(m.conditions)) if (questions is None or i in questions)
                and m.conditions[i] not in m.payouts]
        for i in todo:
            c, q = m.conditions[i], m.question_ids[i]
            if m.neg_risk:
                nums = [1, 0] if i == m.winner else [0, 1]
            else:
                nums = [1, 1] if r.random() < 0.05 else ([1, 0] if m.winner == 0 else [0, 1])
            m.payouts[c] = nums
            self.resolved_time[c] = self.time
            self._emit("ctf.ConditionResolution", {"conditionId": c, "oracle": self.adapter if m.neg_risk
                                                   else self.oracle, "questionId": q, "outcomeSlotCount": 2,
                                                   "payoutNumerators": nums}, self.addr["ctf"])
        self._play("resolve", m=m, questions=todo)  # the payouts are decided above
        m.resolved = len(m.payouts) == len(m.conditions)
        if m in self.live:  # first resolution: no more trading, redemptions from now on
            self.live.remove(m)
            if m.neg_risk:
                self.live_neg.remove(m)
            bisect.insort(self.resolved, m, key=lambda x: x.key)  # market order, like a filter over markets
        self.ops["resolve"] += 1

    def _op_redeem(self) -> bool:
        r = self.rng
        if not self.resolved:
            return False
        m = r.choice(self.resolved)
        ci = r.choice([i for i, c in enumerate(m.conditions) if c in m.payouts])  # resolved questions only
        cid = m.conditions[ci]
        toks = m.tokens[ci]
        w = self.book.random_holder(r, toks[r.randrange(2)], frozenset({self.fee_receiver}))
        if w is None:
            return False
        nums = m.payouts[cid]
        den = sum(nums)
        bals = [self.book.get(w, t) for t in toks]
        self._new_tx()
        self._play("redeem", w=w, m=m, ci=ci, amounts=bals)
        who = w
        if m.v2:  # the V2 adapter takes both balances and redeems them as its own
            who = self.v2_adapter[m.neg_risk]
            self._batch(who, w, who, list(toks), bals)
        if m.neg_risk:
            self._batch(self.adapter, who, self.adapter, list(toks), bals)
            payout = self._ctf_redeem(self.adapter, m, ci)
            self._emit("adapter.PayoutRedemption", {"redeemer": who, "conditionId": cid, "amounts": bals,
                                                    "payout": payout}, self.adapter)
        else:
            payout = self._ctf_redeem(who, m, ci)
        self.redeem_dust += Fraction(sum(b * n for b, n in zip(bals, nums)), den) - payout
        self.cash[(w, cid)] += payout
        self.ops["redeem_adapter" if m.neg_risk else "redeem"] += 1
        return True

    def _ctf_redeem(self, who: str, m: Market, ci: int) -> int:
        """ConditionalTokens redeemPositions by ``who``: burns its whole balance of each outcome, pays per outcome
        floor(balance x numerator / denominator); the payout."""
        cid, toks = m.conditions[ci], m.tokens[ci]
        nums = m.payouts[cid]
        den = sum(nums)
        payout = 0
        for t, n in zip(toks, nums):
            b = self.book.get(who, t)
            if b:
                self._single(who, who, ZERO, t, b)
                payout += b * n // den
        self._emit("ctf.PayoutRedemption", {"redeemer": who, "collateralToken": self.wcol if m.neg_risk else self.usdc,
                                            "parentCollectionId": ZERO32, "conditionId": cid, "indexSets": [1, 2],
                                            "payout": payout}, self.addr["ctf"])
        return payout

    # ---- the run ------------------------------------------------------------------------------------------------

    def logs(self) -> Iterator[dict]:
        """The world's logs in chain order (a generator: memory stays bounded by the world, not the log count)."""
        if self._done:
            raise SimulationError("a Simulation runs once; make a new one")
        self._prepare_markets()
        yield from self._flush()
        for proxy, (owner, kind) in self.proxies.items():
            if kind == "safe":
                self._new_tx()
                self._play("create_proxy", owner=owner, proxy=proxy)
                self._emit("safe_factory.ProxyCreation", {"proxy": proxy, "owner": owner},
                           self.addr["safe_proxy_factory"])
        yield from self._flush()
        r = self.rng
        pending = sorted([(m.resolve_at, m.key, m, None) for m in self.markets if m.resolve_at is not None]
                         + [(m.early_at, m.key, m, m.early) for m in self.markets if m.early],
                         key=lambda e: e[:2])
        ops = (self._op_split, self._op_merge, self._op_transfer, self._op_convert, self._op_redeem)
        weights = (6, 4, 5, 4, 11)
        fills = 0
        while True:
            while pending and pending[0][0] <= fills:
                self._resolve(pending[0][2], pending.pop(0)[3])
                yield from self._flush()
            if fills >= self.p.fills or not self.live:
                break
            if self.pools and r.random() < 0.2:  # the legacy AMM, only in a world that has it
                self._op_fpmm()
            elif r.random() < 0.7:
                fills += self._op_match()
                self._fills = fills
            else:
                r.choices(ops, weights)[0]()
            yield from self._flush()
        self._fills = self.p.fills  # what is left (resolutions, late redemptions) happens at the span's end
        while pending:
            self._resolve(pending[0][2], pending.pop(0)[3])
            yield from self._flush()
        self.fills_done = fills
        for _ in range(max(1, self.p.fills // 10)):  # a tail of late redemptions
            self._op_redeem()
            yield from self._flush()
        self.last_block = self.block
        self._done = True

    def _flush(self) -> list[dict]:
        out, self._pending = self._pending, []
        return out

    # ---- ground truth ------------------------------------------------------------------------------------------

    def excluded(self) -> set[str]:
        keys = ("ctf_exchange", "neg_risk_exchange", "ctf_exchange_v2", "neg_risk_exchange_v2", "neg_risk_adapter",
                "ctf_collateral_adapter", "neg_risk_collateral_adapter", "fee_module", "neg_risk_fee_module",
                "neg_risk_no_token_burn")
        return {self.addr[k] for k in keys if k in self.addr} | {ZERO} | set(self.pools)

    def prices(self) -> list[tuple[str, int, int]]:
        """(condition_id, outcome_index, price_micros) for every open condition."""
        out = []
        for m in self.markets:
            for c, p in zip(m.conditions, m.price):
                if c not in m.payouts:  # a negRisk market may be resolved question by question
                    out += [(c, 0, p * 10_000), (c, 1, (100 - p) * 10_000)]
        return out

    def truth(self) -> dict[str, WalletTruth]:
        """Per wallet, the cash-flow P&L of the shared definition, from the simulator's own ledger and book."""
        if not self._done:
            raise SimulationError("run logs() to the end first")
        ex = self.excluded()
        payouts = {c: nums for m in self.markets for c, nums in m.payouts.items()}
        px = {(c, o): v for c, o, v in self.prices()}
        gross: dict[tuple[str, str], int] = defaultdict(int)
        pairs: set[tuple[str, str]] = set()
        for tok, holders in self.book.bal.items():  # every address a transfer ever touched, even at 0 now
            c, o = self.tmap[tok]
            mark = payouts[c][o] if c in payouts else px.get((c, o), 0)
            for w, n in holders.items():
                if w not in ex:
                    pairs.add((w, c))
                    gross[(w, c)] += n * mark
        pairs |= {k for k in self.cash if k[0] not in ex}
        out: dict[str, WalletTruth] = defaultdict(WalletTruth)
        self.value_dust = Fraction(0)  # what the one floor per (wallet, condition) drops, summed
        for w, c in sorted(pairs):
            t = out[w]
            den = sum(payouts[c]) if c in payouts else SCALE
            value = gross[(w, c)] // den
            self.value_dust += Fraction(gross[(w, c)], den) - value
            if c in payouts:
                t.realized += self.cash.get((w, c), 0) + value
                t.markets_resolved += 1
            else:
                t.unrealized += self.cash.get((w, c), 0) + value
                t.markets_open += 1
        for t in out.values():
            t.total = t.realized + t.unrealized
        return dict(sorted(out.items()))

    def meta(self) -> dict:
        params = asdict(self.p)
        if not params["fpmm_markets"]:  # a world without the legacy AMM keeps its world.json as it was
            del params["fpmm_markets"]
        return {
            "simulator_version": SIMULATOR_VERSION, "params": params,
            "block_range": [self.first_block, getattr(self, "last_block", self.block)],
            "time_range": [self.p.start_time, self.time],
            "logs": sum(self.counts.values()), "logs_by_event": dict(sorted(self.counts.items())),
            "ops": dict(sorted(self.ops.items())),
            "markets": {"binary": sum(not m.neg_risk for m in self.markets),
                        "neg_risk": sum(m.neg_risk for m in self.markets),
                        "conditions": sum(len(m.conditions) for m in self.markets),
                        "resolved": sum(m.resolved for m in self.markets),
                        "open": sum(not m.resolved for m in self.markets)},
            "fees_usdc": self.fees_usdc, "fees_shares": self.fees_shares,
            "fee_refunds_usdc": self.refunds_usdc, "fee_refunds_shares": self.refunds_shares,
            "fee_receiver": self.fee_receiver, "oracle": self.oracle,
            "proxies": {o: {"proxy": p, "kind": k} for p, (o, k) in sorted(self.proxies.items(), key=lambda x: x[1])},
        }

    def gamma_markets(self) -> list[dict]:
        """The world's markets file: one Gamma-shaped record per condition (harness.worlds.names), with the
        world's own ids and token ids; ``endDate`` is the resolution's block time, or 7-27 days after the world's
        end for a market still open."""
        from harness.worlds.names import binary_question, gamma_record, neg_risk_questions, slugify

        if not self._done:
            raise SimulationError("run logs() to the end first")
        out, slugs = [], set()
        for m in self.markets:
            late = self.time + (7 + m.key % 21) * 86_400
            ends = [self.resolved_time.get(c, late) for c in m.conditions]
            qs = (neg_risk_questions(self.p.seed, m.key, len(m.conditions)) if m.neg_risk
                  else [binary_question(self.p.seed, m.key, ends[0])])
            for i, c in enumerate(m.conditions):
                slug = base = slugify(qs[i])
                while slug in slugs:
                    slug = f"{base}-{len(out)}"
                slugs.add(slug)
                out.append(gamma_record(gamma_id=500_000 + len(out), question=qs[i], slug=slug, condition_id=c,
                                        question_id=m.question_ids[i], tokens=m.tokens[i], neg_risk=m.neg_risk,
                                        market_id=m.market_id, end=ends[i], closed=c in m.payouts))
        return out

    def reference_wallets(self, truth: dict[str, WalletTruth], n: int = 8) -> list[dict]:
        """~n varied wallets: biggest winner and loser, largest open book, a converter, a fee payer, ..."""
        ws = [w for w in truth if w != self.fee_receiver]
        if not ws:
            return []
        picks: list[tuple[str, str, str]] = []

        def add(label: str, pool: list[str], key, metric: str = "total") -> None:
            """The best of ``pool`` by ``key`` not picked yet (so every role gets its own wallet)."""
            taken = {p[1] for p in picks}
            free = [w for w in pool if w not in taken]
            if free and len(picks) < n:
                picks.append((label, max(free, key=lambda w: (key(w), w)), metric))

        add("top_winner", ws, lambda w: truth[w].total)
        add("top_loser", ws, lambda w: -truth[w].total)
        add("open_book", ws, lambda w: abs(truth[w].unrealized), "unrealized")
        add("realized", ws, lambda w: abs(truth[w].realized), "realized")
        add("converter", sorted(self.converters & set(ws)), lambda w: truth[w].markets_resolved)
        add("fee_payer", [w for w in ws if self.fee_bps.get(w)],
            lambda w: truth[w].markets_resolved + truth[w].markets_open)
        add("flat", ws, lambda w: -abs(truth[w].total))
        rest = [w for w in ws if w not in {p[1] for p in picks}]
        pick = random.Random(self.p.seed)
        while len(picks) < n and rest:
            w = rest.pop(pick.randrange(len(rest)))
            add(f"random_{len(picks)}", [w], lambda _w: 0)
        as_of = datetime.fromtimestamp(self.time, UTC).strftime("%Y-%m-%d")
        out = []
        for label, w, metric in picks:
            t = truth[w]
            v = {"total": t.total, "realized": t.realized, "unrealized": t.unrealized}[metric]
            out.append({"name": f"sim_{label}", "address": w, "target_usd": micros_to_usd(v), "tolerance_pct": 0,
                        "expected_bias_pct": 0, "metric": metric,
                        "source": f"simulator ledger, seed {self.p.seed}", "as_of": as_of, "level": "must"})
        return out


def micros_to_usd(v: int) -> str:
    """Exact decimal string of a micro-USDC amount (no float on the way)."""
    sign = "-" if v < 0 else ""
    a = abs(v)
    return f"{sign}{a // SCALE}.{a % SCALE:06d}"


def iter_world(params: WorldParams | None = None, **kw) -> Iterator[dict]:
    """The logs of a world, in chain order, in-process (no files): ``for log in iter_world(seed=7): ...``."""
    return Simulation(params, **kw).logs()


# ---- files ------------------------------------------------------------------------------------------------------

WORLD_FILES = (world.LOGS_FILE, world.PRICES_FILE, world.TRUTH_FILE, world.WALLETS_FILE, world.META_FILE,
               world.MARKETS_FILE)


def write_world(out: str | Path, params: WorldParams | None = None, **kw) -> dict:
    """Write a world directory (files in WORLD_FILES), byte-identical for the same parameters."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    sim = Simulation(params, **kw)
    world.write_logs(out / world.LOGS_FILE, sim.logs())
    truth = sim.truth()
    world.write_prices(out / world.PRICES_FILE, sim.prices())
    world.write_markets(out / world.MARKETS_FILE, sim.gamma_markets())
    meta = sim.meta()
    meta["wallets_with_pnl"] = len(truth)
    meta["sum_total_pnl"] = sum(t.total for t in truth.values())
    (out / "truth.json").write_text(json.dumps({
        "definition": "cash-flow P&L (shared definition), micro-USDC ints", "seed": sim.p.seed,
        "fee_receiver": sim.fee_receiver, "fees_usdc": sim.fees_usdc,
        "wallets": {w: asdict(t) for w, t in truth.items()}}, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    refs = sim.reference_wallets(truth)
    lines = [f"# Reference wallets of the simulated world (seed {sim.p.seed}); targets are the simulator's exact",
             ("# ledger (tolerance 0 = exact to the micro-dollar). Regenerate: python -m harness simulate "
             f"--seed {sim.p.seed} --wallets {sim.p.wallets} --markets {sim.p.markets} --fills {sim.p.fills}"
              + (f" --fpmm-markets {sim.p.fpmm_markets}" if sim.p.fpmm_markets else "")),
             "wallets:"]
    for w in refs:
        lines.append(f"  - name: {w['name']}")
        for k in ("address", "target_usd", "tolerance_pct", "expected_bias_pct", "metric", "source", "as_of",
                  "level"):
            v = w[k]
            lines.append(f"    {k}: " + (json.dumps(v) if isinstance(v, str) else str(v)))
    (out / "wallets.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    world.write_meta(out, meta)
    return meta


def read_world_logs(world_dir: str | Path) -> Iterator[dict]:
    """Stream the logs of a written world back (one JSON object per line)."""
    return world.read_logs(world_dir)


def world_hashes(world: str | Path) -> dict[str, str]:
    return {f: hashlib.sha256((Path(world) / f).read_bytes()).hexdigest() for f in WORLD_FILES}
