"""Build consistent decoded-row event streams (as the chain would emit them) for the P&L tests.

Rows are dicts keyed by the sql/schema column names; ``insert`` writes them with client.insert. The builder keeps
ERC1155 balances so redemptions burn what a wallet holds and pay what the CTF would pay.
"""
from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass, field

from harness.config import contracts, token_address
from harness.pnl.rows import ZERO_ADDRESS

EXCHANGE = contracts()["ctf_exchange"].address
NEG_EXCHANGE = contracts()["neg_risk_exchange"].address
ADAPTER = contracts()["neg_risk_adapter"].address
CTF_ADAPTER_V2 = contracts()["ctf_collateral_adapter"].address
NEG_ADAPTER_V2 = contracts()["neg_risk_collateral_adapter"].address
FEE_MODULE = contracts()["fee_module"].address
CTF = contracts()["ctf"].address
FPMM_FACTORY = contracts()["fpmm_factory"].address
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
              buyer_fee_usdc: int = 0, seller_fee_usdc: int = 0, seller_refund: int = 0,
              buyer_share_refund: int = 0) -> str:
        """A match: one OrderFilled per side (each credited to its maker), shares seller -> exchange -> buyer.
        Refunds: the FeeModule gives back part of the seller's collateral fee / the buyer's share fee."""
        tx = self.new_tx()
        bf = self.fill(tx, buyer, "BUY", tok, shares, usdc, fee_shares=buyer_fee_shares, fee_usdc=buyer_fee_usdc,
                       counterparty=seller)
        sf = self.fill(tx, seller, "SELL", tok, shares, usdc, fee_usdc=seller_fee_usdc)
        self.transfer(tx, seller, EXCHANGE, tok, shares)
        self.transfer(tx, EXCHANGE, buyer, tok, shares - buyer_fee_shares)
        if seller_refund:
            self.fee_refund(tx, sf["order_hash"], seller, 0, seller_refund)
        if buyer_share_refund:
            self.transfer(tx, FEE_MODULE, buyer, tok, buyer_share_refund)
            self.fee_refund(tx, bf["order_hash"], buyer, tok, buyer_share_refund)
        return tx

    def fee_refund(self, tx: str, order_hash: str, to: str, tok: int, refund: int) -> dict:
        return self.add("fee_refunds", {**self._base(tx), "module": FEE_MODULE, "order_hash": order_hash,
                                        "to_addr": to, "token_id": tok, "refund": refund, "fee_charged": 0})

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

    # -- the legacy AMM (FixedProductMarketMaker): what its logs and the CTF's are for each call ---------------
    def fpmm(self, m: Market, *, factory: str = FPMM_FACTORY) -> str:
        """FixedProductMarketMakerCreation of an FPMM on ``m`` (collateral USDC.e, fee 2%); its address."""
        self._n += 1
        fp = "0x" + h("fpmm", self._n)[2:42]
        self.add("fpmm_creations", {**self._base(self.new_tx()), "factory": factory, "creator": addr(-2),
                                    "fpmm": fp, "conditional_tokens": CTF, "collateral": USDC,
                                    "condition_ids": [m.condition_id], "fee": 2 * 10**16})
        return fp

    def _fpmm_split(self, tx: str, fp: str, m: Market, amount: int, action: str = "split") -> None:
        self._ctf(tx, action, fp, m, amount)
        base = self._base(tx)
        for i, t in enumerate(m.tokens):
            if action == "split":
                self.transfer(tx, ZERO_ADDRESS, fp, t, amount, sub=i, base=base)
            else:
                self.transfer(tx, fp, ZERO_ADDRESS, t, amount, sub=i, base=base)

    def fpmm_buy(self, wallet: str, fp: str, m: Market, outcome: int, invest: int, fee: int, tokens: int) -> None:
        """buy(): the FPMM splits the investment net of the fee and sends ``tokens`` of ``outcome``."""
        tx = self.new_tx()
        self._fpmm_split(tx, fp, m, invest - fee)
        self.transfer(tx, fp, wallet, m.tokens[outcome], tokens)
        self.add("fpmm_trades", {**self._base(tx), "fpmm": fp, "trader": wallet, "side": "BUY",
                                 "outcome_index": outcome, "usdc": invest, "fee": fee, "shares": tokens})

    def fpmm_sell(self, wallet: str, fp: str, m: Market, outcome: int, returned: int, fee: int, tokens: int) -> None:
        """sell(): ``tokens`` go to the FPMM, which merges the return plus the fee and pays ``returned``."""
        tx = self.new_tx()
        self.transfer(tx, wallet, fp, m.tokens[outcome], tokens)
        self._fpmm_split(tx, fp, m, returned + fee, "merge")
        self.add("fpmm_trades", {**self._base(tx), "fpmm": fp, "trader": wallet, "side": "SELL",
                                 "outcome_index": outcome, "usdc": returned, "fee": fee, "shares": tokens})

    def fpmm_add(self, wallet: str, fp: str, m: Market, funds: int, added: list[int], minted: int) -> None:
        """addFunding(): ``funds`` split, funds - added[i] of each outcome sent back, ``minted`` LP shares."""
        tx = self.new_tx()
        self._fpmm_split(tx, fp, m, funds)
        base = self._base(tx)
        for i, t in enumerate(m.tokens):
            self.transfer(tx, fp, wallet, t, funds - added[i], sub=i, base=base)
        self.add("fpmm_funding", {**self._base(tx), "fpmm": fp, "funder": wallet, "action": "add",
                                  "amounts": added, "collateral_removed": 0, "shares": minted})

    def fpmm_remove(self, wallet: str, fp: str, m: Market, amounts: list[int], fees: int, burnt: int) -> None:
        """removeFunding(): the pool's share of each outcome and the funder's fees (collateral) come back."""
        tx = self.new_tx()
        base = self._base(tx)
        for i, t in enumerate(m.tokens):
            self.transfer(tx, fp, wallet, t, amounts[i], sub=i, base=base)
        self.add("fpmm_funding", {**self._base(tx), "fpmm": fp, "funder": wallet, "action": "remove",
                                  "amounts": amounts, "collateral_removed": fees, "shares": burnt})



def insert(client, tables: dict[str, list[dict]]) -> None:
    """Insert each table's rows (dicts) with explicit column names; order of keys is the row's own."""
    for table, rows in tables.items():
        if not rows:
            continue
        cols = list(rows[0].keys())
        client.insert(table, [[r[c] for c in cols] for r in rows], column_names=cols)
