"""The simulator's state and the one way it changes: a transaction at a time, each log encoded as the chain would.

Every protocol module (clob, ctf, negrisk, amm) takes a ``WorldState`` and changes it only through ``new_tx``,
``emit``, ``single``/``batch`` (each ERC1155 move through the ledger's book) and the cash ledger, so the logs, the
book and the cash cannot drift apart; ``play`` hands each decided operation to chain-world's player.
"""
from __future__ import annotations

import random
from collections import defaultdict
from fractions import Fraction

from harness.chain.encode import encode_log
from harness.chain.events import BY_KEY
from harness.chain.proxies import polymarket_proxy_address
from harness.config import contracts, token_address
from harness.pnl.fpmm import Pool
from harness.worlds.ledger import Book
from harness.worlds.model import ZERO, Market, WorldParams, seeded_address, seeded_hash


class WorldState:
    """Wallets, markets, the book and cash ledger, the clock, and the logs not yet handed out."""

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
        self.order_salt = 0  # the last salt an order got (each order hash is unique)
        self.usdc, self.wcol = token_address("usdc_e"), token_address("wcol")
        self.oracle = seeded_address("uma-ctf-adapter", self.p.seed)
        # who receives V1 fees: the exchanges' operator (chain-world passes the one its contracts pay)
        self.fee_receiver = fee_receiver or seeded_address("fee-receiver", self.p.seed)
        self.wallets = [seeded_address("wallet", self.p.seed, i) for i in range(self.p.wallets)]
        self.pools: dict[str, Pool] = {}  # FPMM address -> its pool
        # Some wallets are proxy wallets that an EOA signs for (as on polymarket.com): a Safe, whose creation the
        # SafeProxyFactory announces, or a ProxyWalletFactory clone at the owner's CREATE2 address (no event).
        # Picked by hash, not by self.rng, so the rest of the world's draws do not depend on the share.
        self.proxies: dict[str, tuple[str, str]] = {}  # proxy (the trading address) -> (owner EOA, kind)
        for i in range(self.p.wallets):
            h = int(seeded_hash("proxy", self.p.seed, i), 16)
            if h % 1000 < self.p.proxy_share * 1000:
                owner = seeded_address("owner", self.p.seed, i)
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

    def play(self, op: str, **kw) -> None:
        """Hand a decided operation to the player (chain-world), with the block and time the logs carry."""
        if self.player is not None:
            self.player.play(op, self.block, self.time, kw)

    def _time_target(self) -> int:
        """Where the clock should be after ``self._fills`` matched trades: the span shared out by trades done."""
        if not self.p.fills:
            return self.time
        return self.p.start_time + self.p.span_days * 86_400 * min(self._fills, self.p.fills) // self.p.fills

    def new_tx(self) -> str:
        """Start the next transaction (up to 4 per block); its hash."""
        if self._tx_in_block >= self.rng.randint(1, 4):
            # the next block: the one after, or the one the span's clock has reached (the blocks between hold
            # none of the world's transactions); 2 s per block either way, like Polygon
            step = max(1, (self._time_target() - self.time) // 2)
            self.block += step
            self.time += 2 * step
            self._tx_in_block = 0
            self._log_in_block = 0
        self._tx_in_block += 1
        self._tx = seeded_hash("tx", self.p.seed, self.block, self._tx_in_block)
        return self._tx

    def emit(self, key: str, args: dict, address: str) -> None:
        """Encode one log of the current transaction, next log index in the block."""
        self._pending.append(encode_log(BY_KEY[key], args, tx_hash=self._tx, log_index=self._log_in_block,
                                        block_number=self.block, block_time=self.time, address=address,
                                        block_hash=seeded_hash("block", self.p.seed, self.block),
                                        tx_index=self._tx_in_block - 1))
        self._log_in_block += 1
        self.counts[key] += 1

    def single(self, op: str, frm: str, to: str, tok: int, v: int) -> None:
        """Move shares in the book and log the TransferSingle (``op`` = the operator)."""
        self.book.move(frm, to, tok, v)
        self.emit("ctf.TransferSingle", {"operator": op, "from": frm, "to": to, "id": tok, "value": v},
                  self.addr["ctf"])

    def batch(self, op: str, frm: str, to: str, toks: list[int], vals: list[int]) -> None:
        """Move several tokens in the book and log the TransferBatch."""
        for t, v in zip(toks, vals):
            self.book.move(frm, to, t, v)
        self.emit("ctf.TransferBatch", {"operator": op, "from": frm, "to": to, "ids": toks, "values": vals},
                  self.addr["ctf"])

    def size(self) -> int:
        """Shares in micro-units, a multiple of 100 so cents prices give whole micro-USDC."""
        return self.rng.choice((1, 2, 5, 10, 20, 50, 100, 200, 500)) * self.rng.randint(1, 100) * 10_000

    def _flush(self) -> list[dict]:
        out, self._pending = self._pending, []
        return out

    def excluded(self) -> set[str]:
        """The protocol's own addresses (exchanges, adapters, fee modules, burn, FPMMs): never a wallet with P&L."""
        keys = ("ctf_exchange", "neg_risk_exchange", "ctf_exchange_v2", "neg_risk_exchange_v2", "neg_risk_adapter",
                "ctf_collateral_adapter", "neg_risk_collateral_adapter", "fee_module", "neg_risk_fee_module",
                "neg_risk_no_token_burn")
        return {self.addr[k] for k in keys if k in self.addr} | {ZERO} | set(self.pools)
