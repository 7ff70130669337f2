"""Build consistent decoded-row event streams (as the chain would emit them) for the P&L tests.

Rows are dicts keyed by the sql/schema column names; ``insert`` writes them with client.insert. The builder keeps
ERC1155 balances so redemptions burn what a wallet holds and pay what the CTF would pay.
"""
from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass, field

from harness.config import contracts, token_address
from harness.pnl import ZERO_ADDRESS

EXCHANGE = contracts()["ctf_exchange"].address
NEG_EXCHANGE = contracts()["neg_risk_exchange"].address
ADAPTER = contracts()["neg_risk_adapter"].address
CTF_ADAPTER_V2 = contracts()["ctf_collateral_adapter"].address
NEG_ADAPTER_V2 = contracts()["neg_risk_collateral_adapter"].address
CTF = contracts()["ctf"].address
USDC = token_address("usdc_e")
WCOL = token_address("wcol")
T0 = 1_700_000_000


def h(*parts) -> str:
    return "0x" + hashlib.sha256(repr(parts).encode()).hexdigest()


def addr(i: int) -> str:
    return "0x" + hashlib.sha256(f"wallet{i}".encode()).hexdigest()[:40]


def token(cid: str, outcome: int) -> int:
    return int(h("token", cid, outcome), 16) % (2**255)


@dataclass
class Market:
    condition_id: str
    tokens: list[int]
    neg_risk: bool = False


@dataclass
class NegRiskMarket:
    market_id: str
    questions: list[Market]


@dataclass
class Stream:
    version: int = 1
    block: int = 1000
    time: int = T0
    rows: dict[str, list[dict]] = field(default_factory=lambda: defaultdict(list))
    balances: dict[tuple[str, int], int] = field(default_factory=lambda: defaultdict(int))
    _tx: int = 0
    _log: int = 0
    _n: int = 0

    # -- plumbing --------------------------------------------------------------------------------------------
    def next_block(self, seconds: int = 2) -> None:
        self.block += 1
        self.time += seconds
        self._log = 0

    def new_tx(self) -> str:
        self._tx += 1
        return h("tx", self._tx)

    def _base(self, tx: str) -> dict:
        self._log += 1
        return {"tx_hash": tx, "log_index": self._log, "block_number": self.block, "block_time": self.time,
                "_version": self.version, "_deleted": 0}

    def add(self, table: str, row: dict) -> dict:
        self.rows[table].append(row)
        return row

    def transfer(self, tx: str, frm: str, to: str, tok: int, value: int, *, sub: int = 0, base: dict | None = None):
        b = dict(base) if base is not None else self._base(tx)
        self.balances[(frm, tok)] -= value
        self.balances[(to, tok)] += value
        return self.add("erc1155_transfers", {**b, "sub_index": sub, "operator": frm, "from_addr": frm,
                                              "to_addr": to, "token_id": tok, "value": value})

    # -- markets ---------------------------------------------------------------------------------------------
    def market(self, outcomes: int = 2, *, neg_risk: bool = False, cid: str | None = None) -> Market:
        self._n += 1
        tx = self.new_tx()
        cid = cid or h("condition", self._n)
        oracle = ADAPTER if neg_risk else addr(-1)
        self.add("condition_preparations", {**self._base(tx), "condition_id": cid, "oracle": oracle,
                                            "question_id": h("q", self._n), "outcome_slot_count": outcomes})
        toks = [token(cid, i) for i in range(outcomes)]
        for i, t in enumerate(toks):
            self.add("token_map", {"token_id": t, "condition_id": cid, "outcome_index": i, "index_set": 1 << i,
                                   "collateral": WCOL if neg_risk else USDC, "neg_risk": int(neg_risk),
                                   "_version": self.version})
        return Market(cid, toks, neg_risk)

    def neg_risk_market(self, questions: int) -> NegRiskMarket:
        self._n += 1
        mid = h("negrisk market", self._n)
        qs = []
        for i in range(questions):
            m = self.market(2, neg_risk=True)
            self.add("neg_risk_questions", {**self._base(self.new_tx()), "market_id": mid,
                                            "question_id": h("question", mid, i), "question_index": i,
                                            "condition_id": m.condition_id, "data": ""})
            qs.append(m)
        return NegRiskMarket(mid, qs)

    def price(self, m: Market, outcome: int, micros: int) -> None:
        self.add("imported_prices", {"condition_id": m.condition_id, "outcome_index": outcome, "price_micros": micros,
                                   "as_of": self.time, "source": "test"})

    def resolve(self, m: Market, numerators: list[int]) -> None:
        self.add("condition_resolutions", {**self._base(self.new_tx()), "condition_id": m.condition_id,
                                           "oracle": addr(-1), "question_id": "", "outcome_slot_count": len(m.tokens),
                                           "payout_numerators": numerators})

    # -- actions ---------------------------------------------------------------------------------------------
    def fill(self, tx: str, maker: str, side: str, tok: int, shares: int, usdc: int, *, fee_usdc: int = 0,
             fee_shares: int = 0, counterparty: str = EXCHANGE, exchange: str = EXCHANGE) -> dict:
        return self.add("trades_raw", {**self._base(tx), "exchange": exchange, "order_hash": h("order", tx, maker),
                                       "wallet": maker, "counterparty": counterparty, "side": side, "token_id": tok,
                                       "shares": shares, "usdc": usdc, "fee_shares": fee_shares,
                                       "fee_usdc": fee_usdc})

    def trade(self, buyer: str, seller: str, tok: int, shares: int, usdc: int, *, buyer_fee_shares: int = 0,
              buyer_fee_usdc: int = 0, seller_fee_usdc: int = 0) -> str:
        """A match: one OrderFilled per side (each credited to its maker), shares seller -> exchange -> buyer."""
        tx = self.new_tx()
        self.fill(tx, buyer, "BUY", tok, shares, usdc, fee_shares=buyer_fee_shares, fee_usdc=buyer_fee_usdc,
                  counterparty=seller)
        self.fill(tx, seller, "SELL", tok, shares, usdc, fee_usdc=seller_fee_usdc)
        self.transfer(tx, seller, EXCHANGE, tok, shares)
        self.transfer(tx, EXCHANGE, buyer, tok, shares - buyer_fee_shares)
        return tx

    def _ctf(self, tx: str, action: str, wallet: str, m: Market, amount: int, payout: int = 0,
             index_sets: list[int] | None = None) -> dict:
        return self.add("ctf_actions", {**self._base(tx), "source": "ctf", "action": action, "stakeholder": wallet,
                                        "collateral": WCOL if m.neg_risk else USDC,
                                        "parent_collection_id": "0x" + "0" * 64, "condition_id": m.condition_id,
                                        "index_sets": index_sets or [1 << i for i in range(len(m.tokens))],
                                        "amounts": [], "amount": amount, "payout": payout})

    def split(self, wallet: str, m: Market, amount: int, *, via: str | None = None) -> None:
        """Mint every outcome to ``wallet``; ``via`` a V2 collateral adapter: the adapter is the CTF stakeholder,
        mints to itself and hands the shares on (no event of its own names the wallet)."""
        tx = self.new_tx()
        self._ctf(tx, "split", via or wallet, m, amount)
        base = self._base(tx)
        for i, t in enumerate(m.tokens):
            self.transfer(tx, ZERO_ADDRESS, via or wallet, t, amount, sub=i, base=base)
        if via:
            base = self._base(tx)
            for i, t in enumerate(m.tokens):
                self.transfer(tx, via, wallet, t, amount, sub=i, base=base)

    def merge(self, wallet: str, m: Market, amount: int, *, via: str | None = None) -> None:
        tx = self.new_tx()
        if via:
            base = self._base(tx)
            for i, t in enumerate(m.tokens):
                self.transfer(tx, wallet, via, t, amount, sub=i, base=base)
        self._ctf(tx, "merge", via or wallet, m, amount)
        base = self._base(tx)
        for i, t in enumerate(m.tokens):
            self.transfer(tx, via or wallet, ZERO_ADDRESS, t, amount, sub=i, base=base)

    def redeem(self, wallet: str, m: Market, numerators: list[int], *, via: str | None = None) -> int:
        """Burn the wallet's whole balance of every outcome; payout as the CTF computes it (floor per set).
        ``via`` an adapter: the wallet's shares go to the adapter, which redeems them as the redeemer."""
        tx = self.new_tx()
        den = sum(numerators)
        payout = 0
        for i, t in enumerate(m.tokens):
            bal = self.balances[(wallet, t)]
            if bal > 0:
                payout += bal * numerators[i] // den
                if via:
                    self.transfer(tx, wallet, via, t, bal)
                self.transfer(tx, via or wallet, ZERO_ADDRESS, t, bal)
        self._ctf(tx, "redeem", via or wallet, m, 0, payout)
        return payout

    def convert(self, wallet: str, nm: NegRiskMarket, index_set: int, amount: int, *, via: str | None = None) -> None:
        """PositionsConverted: NO of the questions in index_set go to the adapter; YES of the others come back.
        ``via`` the V2 NegRisk collateral adapter: it takes the wallet's NO, converts as the stakeholder and hands
        the YES on."""
        tx = self.new_tx()
        self.add("neg_risk_conversions", {**self._base(tx), "stakeholder": via or wallet, "market_id": nm.market_id,
                                          "index_set": index_set, "amount": amount})
        for i, q in enumerate(nm.questions):
            if index_set >> i & 1:
                if via:
                    self.transfer(tx, wallet, via, q.tokens[1], amount)
                self.transfer(tx, via or wallet, ADAPTER, q.tokens[1], amount)
            else:
                self.transfer(tx, ADAPTER, via or wallet, q.tokens[0], amount)
                if via:
                    self.transfer(tx, via, wallet, q.tokens[0], amount)

    def send(self, frm: str, to: str, tok: int, value: int) -> None:
        tx = self.new_tx()
        self.transfer(tx, frm, to, tok, value)



def insert(client, tables: dict[str, list[dict]]) -> None:
    """Insert each table's rows (dicts) with explicit column names; order of keys is the row's own."""
    for table, rows in tables.items():
        if not rows:
            continue
        cols = list(rows[0].keys())
        client.insert(table, [[r[c] for c in cols] for r in rows], column_names=cols)
