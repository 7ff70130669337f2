"""ConditionalTokens and the NegRiskAdapter on the node: preparing and resolving conditions and negRisk markets,
split / merge / redeem by any route (CTF, adapter, V2 collateral adapters), and negRisk conversions."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from eth_abi import encode as abi_encode
from eth_hash.auto import keccak

from harness.chain.contracts.abi import MAX_UINT, Tx, b32, calldata
from harness.chain.contracts.exchange import OPERATOR
from harness.chain.tokens import condition_id

#: Keys of ``via=`` for split / merge / redeem / convert.
VIAS = ("ctf", "neg_risk_adapter", "ctf_adapter_v2", "neg_risk_adapter_v2")


@dataclass
class Market:
    """A negRisk market prepared through the NegRiskAdapter."""

    market_id: str
    question_ids: list[str]
    condition_ids: list[str]

    def __iter__(self):
        """Unpacks as (market_id, question_ids, condition_ids)."""
        return iter((self.market_id, self.question_ids, self.condition_ids))


class CtfCalls:
    """Polymarket's CTF calls (a mixin of Polymarket: uses its addr, _send, standard, neg_risk_question,
    balance_of_batch and token_ids)."""

    def prepare_condition(self, oracle: str, question_id: str, outcomes: int = 2) -> str:
        """CTF prepareCondition; the condition id (remembered with its oracle and question for ``resolve``)."""
        self._send(oracle, self.addr.ctf, calldata("prepareCondition(address,bytes32,uint256)", oracle.lower(),
                                                   b32(question_id), outcomes),
                   f"prepareCondition({oracle}, {question_id})")
        cid = condition_id(oracle.lower(), question_id.lower(), outcomes)
        self.standard[cid] = (oracle.lower(), question_id.lower())
        return cid

    def resolve(self, *args: Any) -> None:
        """Report a condition's payouts: ``resolve(condition_id, payouts)`` (standard: CTF reportPayouts from its
        oracle; negRisk: the question's reportOutcome, payouts [1, 0] = YES, [0, 1] = NO), or
        ``resolve(oracle, question_id, payouts)`` for a condition prepared elsewhere."""
        if len(args) == 3:
            oracle, qid, payouts = args
        elif len(args) == 2:
            cond, payouts = args[0].lower(), list(args[1])
            if cond in self.neg_risk_question:
                market, index = self.neg_risk_question[cond]
                if payouts not in ([1, 0], [0, 1]):
                    raise ValueError(f"resolve {cond}: a negRisk question pays [1, 0] or [0, 1], not {payouts}")
                return self.resolve_question(market, index, payouts == [1, 0])
            if cond not in self.standard:
                raise ValueError(f"resolve {cond}: not prepared through this Polymarket; "
                                 "use resolve(oracle, question_id, payouts)")
            oracle, qid = self.standard[cond]
        else:
            raise TypeError("resolve(condition_id, payouts) or resolve(oracle, question_id, payouts)")
        self._send(oracle, self.addr.ctf, calldata("reportPayouts(bytes32,uint256[])", b32(qid), list(payouts)),
                   f"reportPayouts({qid}, {list(payouts)})")

    def _check_via(self, what: str, condition: str, via: str) -> None:
        """Refuse a route that cannot hold this condition's positions (it would silently use other ids)."""
        neg = condition.lower() in self.neg_risk_question
        std = condition.lower() in self.standard
        if neg and via in ("ctf", "ctf_adapter_v2") or std and via in ("neg_risk_adapter", "neg_risk_adapter_v2"):
            kind = "a negRisk" if neg else "a standard"
            raise ValueError(f"{what} {condition} via={via}: {kind} condition cannot go that way")

    def _split_merge(self, fn: str, wallet: str, condition: str, amount: int, via: str) -> Tx:
        w, a = wallet.lower(), self.addr
        self._check_via(fn, condition, via)
        cid = b32(condition)
        what = f"{fn}({w}, {condition}, {amount}) via {via}"
        sig = f"{fn}(address,bytes32,bytes32,uint256[],uint256)"
        if via == "ctf":
            return self._send(w, a.ctf, calldata(sig, a.usdc, bytes(32), cid, [1, 2], amount), what)
        if via == "neg_risk_adapter":
            return self._send(w, a.neg_risk_adapter, calldata(f"{fn}(bytes32,uint256)", cid, amount), what)
        if via in ("ctf_adapter_v2", "neg_risk_adapter_v2"):
            return self._send(w, getattr(a, via), calldata(sig, a.pusd, bytes(32), cid, [1, 2], amount), what)
        raise ValueError(f"{fn} via={via!r}: expected one of {VIAS}")

    def split(self, wallet: str, condition: str, amount: int, *, via: str = "ctf") -> Tx:
        """Collateral -> one of each outcome, for ``wallet`` (USDC.e, or pUSD through a V2 adapter)."""
        return self._split_merge("splitPosition", wallet, condition, amount, via)

    def merge(self, wallet: str, condition: str, amount: int, *, via: str = "ctf") -> Tx:
        """One of each outcome -> collateral, for ``wallet``."""
        return self._split_merge("mergePositions", wallet, condition, amount, via)

    def redeem(self, wallet: str, condition: str, *, via: str = "ctf", amounts: Sequence[int] | None = None) -> Tx:
        """Redeem ``wallet``'s position in a resolved condition: its whole balance, or ``amounts`` (outcome 0, 1)
        through the NegRiskAdapter (default there: the whole balance, read now)."""
        w, a = wallet.lower(), self.addr
        self._check_via("redeem", condition, via)
        cid = b32(condition)
        what = f"redeem({w}, {condition}) via {via}"
        if via == "ctf":
            return self._send(w, a.ctf, calldata("redeemPositions(address,bytes32,bytes32,uint256[])", a.usdc,
                                                 bytes(32), cid, [1, 2]), what)
        if via == "neg_risk_adapter":
            if amounts is None:
                amounts = self.balance_of_batch([w, w], list(self.token_ids(condition, neg_risk=True)))
            return self._send(w, a.neg_risk_adapter, calldata("redeemPositions(bytes32,uint256[])", cid,
                                                              list(amounts)), what)
        if via in ("ctf_adapter_v2", "neg_risk_adapter_v2"):
            return self._send(w, getattr(a, via), calldata("redeemPositions(address,bytes32,bytes32,uint256[])",
                                                           a.pusd, bytes(32), cid, [1, 2]), what)
        raise ValueError(f"redeem via={via!r}: expected one of {VIAS}")


class NegRiskCalls:
    """Polymarket's NegRiskAdapter calls (a mixin of Polymarket: uses its addr, _send, _salt, neg_risk_oracle and
    neg_risk_question)."""

    def prepare_neg_risk_market(self, n_questions: int, *, oracle: str | None = None, fee_bips: int = 0,
                                metadata: bytes = b"") -> Market:
        """NegRiskAdapter prepareMarket + prepareQuestion x n (the oracle reports outcomes later);
        ``Market(market_id, question_ids, condition_ids)``."""
        if n_questions < 1 or n_questions > 255:
            raise ValueError(f"n_questions={n_questions} must be 1..255")
        o = (oracle or OPERATOR).lower()
        self._salt += 1
        meta = metadata or f"market {self._salt}".encode()
        mid = int.from_bytes(keccak(abi_encode(["address", "uint256", "bytes"], [o, fee_bips, meta])), "big")
        mid &= MAX_UINT ^ 0xFF
        market_id = "0x" + format(mid, "064x")
        a = self.addr
        self._send(o, a.neg_risk_adapter, calldata("prepareMarket(uint256,bytes)", fee_bips, meta),
                   f"prepareMarket({market_id})")
        qids = []
        for i in range(n_questions):
            self._send(o, a.neg_risk_adapter, calldata("prepareQuestion(bytes32,bytes)", b32(market_id),
                                                       f"question {i}".encode()),
                       f"prepareQuestion({market_id}, {i})")
            qids.append("0x" + format(mid + i, "064x"))
        m = Market(market_id, qids, [condition_id(a.neg_risk_adapter, q, 2) for q in qids])
        self.neg_risk_oracle[market_id] = o
        for i, c in enumerate(m.condition_ids):
            self.neg_risk_question[c] = (m, i)
        return m

    def resolve_question(self, market: Market, index: int, outcome: bool) -> None:
        """NegRiskAdapter reportOutcome for one question (YES wins when ``outcome``): CTF reportPayouts."""
        q = market.question_ids[index]
        self._send(self.neg_risk_oracle[market.market_id], self.addr.neg_risk_adapter,
                   calldata("reportOutcome(bytes32,bool)", b32(q), outcome),
                   f"reportOutcome({market.market_id}, question {index}, {outcome})")

    def convert(self, wallet: str, market_id: str, index_set: int, amount: int, *,
                via: str = "neg_risk_adapter") -> Tx:
        """convertPositions: NO of the questions in ``index_set`` -> YES of the others + collateral."""
        w = wallet.lower()
        if via not in ("neg_risk_adapter", "neg_risk_adapter_v2"):
            raise ValueError(f"convert via={via!r}: expected neg_risk_adapter or neg_risk_adapter_v2")
        return self._send(w, getattr(self.addr, via), calldata(
            "convertPositions(bytes32,uint256,uint256)", b32(market_id), index_set, amount),
            f"convert({w}, {market_id}, {index_set:#b}, {amount}) via {via}")
