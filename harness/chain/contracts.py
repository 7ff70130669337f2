"""Polymarket's contracts running for real on a local anvil node: the truth that does not come from reading events.

Why: the simulator, the oracle and the SQL agree with each other by construction. Here the audited
ConditionalTokens bytecode (npm ``@gnosis.pm/conditional-tokens-contracts``) runs at the real CTF address and our
own settlement contracts (``contracts/*.sol``, compiled into ``harness/data/contracts``) run at the real exchange,
adapter and fee-module addresses; they move real balances and emit the real event layouts. Balances are read back
with ``balanceOf`` / ``balanceOfBatch``, never from events.

Amounts are int micro-units (6 decimals), addresses lower-case 0x-hex. Transactions are sent from any address
without keys (anvil auto-impersonation), gas price 0. Outside ``with pm.block(ts):`` every call is mined in its own
block; inside, the calls are queued and mined together in one block at ``ts``. A reverted transaction raises
``ContractError`` naming the call and the revert reason. Usable without pytest::

    with Anvil.start() as node:
        pm = Polymarket.install(node)
        pm.fund(alice, usdc=100_000_000)
        pm.approve([alice])
        cid = pm.prepare_condition(oracle, qid)
        pm.split(alice, cid, 10_000_000)
"""
from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from enum import IntEnum
from functools import lru_cache
from pathlib import Path
from typing import Any

from eth_abi import decode as abi_decode
from eth_abi import encode as abi_encode
from eth_hash.auto import keccak

from harness.chain.node import TX_GAS, Anvil, NodeError
from harness.chain.tokens import condition_id, token_id
from harness.config import DATA_DIR, PROJECT_ROOT, contracts, token_address

CTF_ARTEFACT = Path(".tools/node_modules/@gnosis.pm/conditional-tokens-contracts/build/contracts/"
                    "ConditionalTokens.json")
ARTEFACT_DIR = DATA_DIR / "contracts"
MAX_UINT = (1 << 256) - 1
ZERO = "0x" + "00" * 20
ZERO32 = "0x" + "00" * 32
#: The dev account that sends set-up transactions (init calls); any address works, this one is anvil's own.
DEPLOYER = "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266"
#: The exchanges' operator when no fee module is in the way (Polymarket's operator EOA in real life): a protocol
#: account in contracts.yaml (role operator, address(keccak256("polymarket-pnl-harness operator"))), never a wallet.
OPERATOR = contracts()["exchange_operator"].address
BALANCE_CHUNK = 400  # (owner, id) pairs per balanceOfBatch call
CALLS_PER_REQUEST = 10  # balanceOfBatch calls per HTTP request (~0.5 MB)
TXS_PER_REQUEST = 500  # transactions (or receipts) per HTTP request
BLOCK_TXS = 200  # what approve() puts in one block when the caller did not open one (see approve)


class ContractError(RuntimeError):
    """A contract call reverted or the contracts cannot be installed; the message names the call and why."""


class Side(IntEnum):
    BUY = 0
    SELL = 1


@dataclass
class Order:
    """A CLOB order as the exchanges take it (no signature: the operator is trusted on the test node).

    BUY: maker_amount is collateral offered, taker_amount the shares wanted; SELL: the other way round.
    """

    maker: str
    token_id: int
    side: Side
    maker_amount: int
    taker_amount: int
    fee_rate_bps: int = 0
    salt: int = 0

    def as_tuple(self) -> tuple:
        return (self.salt, self.maker.lower(), self.token_id, self.maker_amount, self.taker_amount,
                self.fee_rate_bps, int(self.side))


ORDER_TYPE = "(uint256,address,uint256,uint256,uint256,uint256,uint8)"


@dataclass
class Tx:
    """One queued transaction: who sends it, to which contract, and a readable name for errors."""

    frm: str
    to: str
    data: str
    what: str
    hash: str | None = None


@dataclass
class Market:
    """A negRisk market prepared through the NegRiskAdapter."""

    market_id: str
    question_ids: list[str]
    condition_ids: list[str]

    def __iter__(self):
        """Unpacks as (market_id, question_ids, condition_ids)."""
        return iter((self.market_id, self.question_ids, self.condition_ids))


# --- ABI helpers --------------------------------------------------------------------------------------------------

def _split_types(inner: str) -> list[str]:
    out, depth, cur = [], 0, ""
    for ch in inner:
        if ch == "," and depth == 0:
            out.append(cur)
            cur = ""
            continue
        depth += ch == "("
        depth -= ch == ")"
        cur += ch
    if cur:
        out.append(cur)
    return out


@lru_cache(maxsize=256)
def _sig(signature: str) -> tuple[bytes, list[str]]:
    name_end = signature.index("(")
    return keccak(signature.encode())[:4], _split_types(signature[name_end + 1:-1])


def calldata(signature: str, *args: Any) -> str:
    """ABI calldata for ``signature`` (e.g. ``"transfer(address,uint256)"``) and its arguments."""
    sel, types = _sig(signature)
    if len(types) != len(args):
        raise ValueError(f"{signature}: {len(args)} arguments given, {len(types)} expected")
    return "0x" + (sel + abi_encode(types, list(args))).hex()


def _b32(h: str) -> bytes:
    s = h[2:] if h[:2] in ("0x", "0X") else h
    b = bytes.fromhex(s)
    if len(b) != 32:
        raise ValueError(f"{h!r} is not 32 bytes")
    return b


def _revert_reason(output: str | None) -> str:
    """Error(string) reason, a custom error selector, or the raw bytes."""
    if not output or output == "0x":
        return "no reason"
    raw = bytes.fromhex(output[2:])
    if raw[:4] == keccak(b"Error(string)")[:4]:
        with suppress(Exception):  # a malformed reason: show the bytes instead
            return abi_decode(["string"], raw[4:])[0]
    return "0x" + raw.hex()


# --- artefacts ----------------------------------------------------------------------------------------------------

def ctf_artefact_path() -> Path:
    return PROJECT_ROOT / CTF_ARTEFACT


def ctf_runtime() -> str:
    """The ConditionalTokens runtime bytecode from the npm package (never committed to this repo)."""
    p = ctf_artefact_path()
    if not p.is_file():
        raise ContractError(f"{p} not found: run `bash scripts/setup.sh` (installs "
                            "@gnosis.pm/conditional-tokens-contracts with npm into .tools/)")
    code = json.loads(p.read_text(encoding="utf-8"))["deployedBytecode"]
    if "__" in code:
        raise ContractError(f"{p}: deployedBytecode has unlinked library placeholders")
    return code


def artefact(name: str) -> dict:
    """abi + runtime bytecode of one of our contracts (harness/data/contracts/<name>.json)."""
    p = ARTEFACT_DIR / f"{name}.json"
    if not p.is_file():
        raise ContractError(f"{p} not found: run `bash scripts/compile-contracts.sh`")
    return json.loads(p.read_text(encoding="utf-8"))


def available() -> str | None:
    """None when the contracts can be installed, else why not (for a test's skip reason)."""
    if not ctf_artefact_path().is_file():
        return (f"ConditionalTokens build not installed ({CTF_ARTEFACT}): run `bash scripts/setup.sh` "
                "(needs npm)")
    return None


# --- the installed system -----------------------------------------------------------------------------------------

@dataclass
class Addresses:
    ctf: str
    usdc: str
    pusd: str
    wcol: str
    ctf_exchange: str
    neg_risk_exchange: str
    ctf_exchange_v2: str
    neg_risk_exchange_v2: str
    neg_risk_adapter: str
    ctf_adapter_v2: str
    neg_risk_adapter_v2: str
    fee_module: str
    neg_risk_fee_module: str
    no_token_burn: str
    fpmm_factory: str = ""

    @classmethod
    def from_config(cls) -> Addresses:
        c = contracts()
        return cls(
            ctf=c["ctf"].address, usdc=token_address("usdc_e"), pusd=token_address("pusd"),
            wcol=token_address("wcol"), ctf_exchange=c["ctf_exchange"].address,
            neg_risk_exchange=c["neg_risk_exchange"].address, ctf_exchange_v2=c["ctf_exchange_v2"].address,
            neg_risk_exchange_v2=c["neg_risk_exchange_v2"].address, neg_risk_adapter=c["neg_risk_adapter"].address,
            ctf_adapter_v2=c["ctf_collateral_adapter"].address,
            neg_risk_adapter_v2=c["neg_risk_collateral_adapter"].address, fee_module=c["fee_module"].address,
            neg_risk_fee_module=c["neg_risk_fee_module"].address, no_token_burn=c["neg_risk_no_token_burn"].address,
            fpmm_factory=c["fpmm_factory"].address)


#: Which of our contracts sits at which address key (the CTF is the npm build).
LAYOUT = {
    "usdc": "Collateral", "pusd": "PUSD", "wcol": "WrappedCollateral", "neg_risk_adapter": "NegRiskAdapter",
    "ctf_exchange": "CtfExchange", "neg_risk_exchange": "CtfExchange", "ctf_exchange_v2": "CtfExchangeV2",
    "neg_risk_exchange_v2": "CtfExchangeV2", "ctf_adapter_v2": "CollateralAdapter",
    "neg_risk_adapter_v2": "CollateralAdapter", "fee_module": "FeeModule", "neg_risk_fee_module": "FeeModule",
    "fpmm_factory": "FixedProductMarketMakerFactory",
}
#: Exchange key -> (its fee module key or None, is V2).
EXCHANGES = {"ctf_exchange": ("fee_module", False), "neg_risk_exchange": ("neg_risk_fee_module", False),
             "ctf_exchange_v2": (None, True), "neg_risk_exchange_v2": (None, True)}

#: Keys of ``via=`` for split / merge / redeem / convert.
VIAS = ("ctf", "neg_risk_adapter", "ctf_adapter_v2", "neg_risk_adapter_v2")


@dataclass
class Polymarket:
    """The contracts installed on one node, and a typed way to drive them."""

    node: Anvil
    addr: Addresses
    funded: dict[str, dict[str, int]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(int)))
    _queue: list[Tx] | None = None
    _salt: int = 0
    _nonces: dict[str, int] = field(default_factory=dict)
    neg_risk_oracle: dict[str, str] = field(default_factory=dict)  # market id -> its oracle
    neg_risk_question: dict[str, tuple[Market, int]] = field(default_factory=dict)  # condition -> (market, index)
    standard: dict[str, tuple[str, str]] = field(default_factory=dict)  # condition -> (oracle, question id)
    fpmm_approved: set[tuple[str, str]] = field(default_factory=set)  # (wallet, FPMM) pairs already approved

    # set-up ---------------------------------------------------------------------------------------------------
    @classmethod
    def install(cls, node: Anvil, *, timestamp: int | None = None) -> Polymarket:
        """Place every contract at its real Polygon address (anvil_setCode) and initialise it, in one block."""
        addr = Addresses.from_config()
        codes = {addr.ctf: ctf_runtime()}
        for key, name in LAYOUT.items():
            codes[getattr(addr, key)] = artefact(name)["deployedBytecode"]
        node.batch([("anvil_setCode", [a, c]) for a, c in codes.items()] +
                   [("anvil_autoImpersonateAccount", [True])])
        pm = cls(node, addr)
        with pm.block(timestamp):
            pm._init_all()
        return pm

    def _init_all(self) -> None:
        """init() calls of contracts that keep addresses in storage (setCode runs no constructor)."""
        a = self.addr
        ops = [OPERATOR, a.fee_module, a.neg_risk_fee_module]
        send = self._send
        send(DEPLOYER, a.pusd, calldata("init(address)", a.usdc), "PUSD.init")
        send(DEPLOYER, a.wcol, calldata("init(address,address)", a.neg_risk_adapter, a.usdc), "wcol.init")
        send(DEPLOYER, a.neg_risk_adapter, calldata(
            "init(address,address,address,address,address[])", a.ctf, a.usdc, a.wcol, a.neg_risk_adapter,
            [a.neg_risk_exchange, a.neg_risk_fee_module]), "NegRiskAdapter.init")
        sig_v1 = "init(address,address,address,address[])"
        send(DEPLOYER, a.ctf_exchange, calldata(sig_v1, a.usdc, a.ctf, a.ctf, ops), "CtfExchange.init")
        send(DEPLOYER, a.neg_risk_exchange, calldata(sig_v1, a.usdc, a.neg_risk_adapter, a.ctf, ops),
             "NegRiskCtfExchange.init")
        send(DEPLOYER, a.ctf_exchange_v2, calldata(sig_v1, a.pusd, a.ctf_adapter_v2, a.ctf, ops),
             "CtfExchangeV2.init")
        send(DEPLOYER, a.neg_risk_exchange_v2, calldata(sig_v1, a.pusd, a.neg_risk_adapter_v2, a.ctf, ops),
             "NegRiskCtfExchangeV2.init")
        sig_ad = "init(address,address,address,address,address)"
        send(DEPLOYER, a.ctf_adapter_v2, calldata(sig_ad, a.ctf, a.pusd, a.usdc, ZERO, a.wcol),
             "CtfCollateralAdapter.init")
        send(DEPLOYER, a.neg_risk_adapter_v2, calldata(sig_ad, a.ctf, a.pusd, a.usdc, a.neg_risk_adapter, a.wcol),
             "NegRiskCtfCollateralAdapter.init")
        sig_fm = "init(address,address,address,address,address[])"
        send(DEPLOYER, a.fee_module, calldata(sig_fm, a.ctf_exchange, a.usdc, a.ctf, a.ctf, [OPERATOR]),
             "FeeModule.init")
        send(DEPLOYER, a.neg_risk_fee_module, calldata(sig_fm, a.neg_risk_exchange, a.usdc, a.neg_risk_adapter,
                                                       a.ctf, [OPERATOR]), "NegRiskFeeModule.init")

    # transactions ---------------------------------------------------------------------------------------------
    @contextmanager
    def block(self, timestamp: int | None = None) -> Iterator[Polymarket]:
        """Queue the calls made inside and mine them together in one block (at ``timestamp`` if given)."""
        if self._queue is not None:
            raise ContractError("pm.block() blocks do not nest")
        self._queue = []
        try:
            yield self
        except BaseException:
            self._queue = None
            raise
        queue, self._queue = self._queue, None
        self._mine(queue, timestamp)

    def _send(self, frm: str, to: str, data: str, what: str) -> Tx:
        tx = Tx(frm.lower(), to.lower(), data, what)
        if self._queue is not None:
            self._queue.append(tx)
        else:
            self._mine([tx], None)
        return tx

    def _mine(self, txs: list[Tx], timestamp: int | None) -> int | None:
        if not txs:
            return None
        new = sorted({t.frm for t in txs} - self._nonces.keys())
        for a, n in zip(new, self.node.batch([("eth_getTransactionCount", [a, "pending"]) for a in new])):
            self._nonces[a] = int(n, 16)
        calls = []
        for t in txs:  # explicit nonces: anvil would give queued txs of one sender the same one
            calls.append(("eth_sendTransaction", [{"from": t.frm, "to": t.to, "data": t.data, "gas": hex(TX_GAS),
                                                   "gasPrice": "0x0", "nonce": hex(self._nonces[t.frm])}]))
            self._nonces[t.frm] += 1
        try:
            hashes = self._batch(calls)
        except NodeError:
            self._nonces.clear()  # some were refused: ask the node again next time
            raise
        for t, h in zip(txs, hashes):
            t.hash = h
        block = self.node.mine(timestamp)
        receipts = self._batch([("eth_getTransactionReceipt", [t.hash]) for t in txs])
        for t, r in zip(txs, receipts):
            if r is None or int(r["blockNumber"], 16) != block:
                raise ContractError(f"{t.what}: tx {t.hash} was not mined in block {block}")
            if int(r["status"], 16) != 1:
                raise ContractError(f"{t.what} reverted (tx {t.hash}, block {block}): {self._why(t.hash)}")
        return block

    def _batch(self, calls: list[tuple[str, list]], per: int = TXS_PER_REQUEST) -> list:
        """node.batch in requests of at most ``per`` calls (anvil refuses bodies of a few MB)."""
        out: list = []
        for i in range(0, len(calls), per):
            out += self.node.batch(calls[i:i + per])
        return out

    def _why(self, tx_hash: str) -> str:
        try:
            trace = self.node.call("debug_traceTransaction", tx_hash, {"tracer": "callTracer"})
        except NodeError as e:
            return f"no trace ({e})"
        return trace.get("revertReason") or _revert_reason(trace.get("output")) or trace.get("error", "?")

    def call(self, to: str, data: str, block: int | str = "latest") -> bytes:
        tag = hex(block) if isinstance(block, int) else block
        return bytes.fromhex(self.node.call("eth_call", {"to": to, "data": data}, tag)[2:])

    def salt(self) -> int:
        self._salt += 1
        return self._salt

    # collateral -----------------------------------------------------------------------------------------------
    def fund(self, wallet: str, *, usdc: int = 0, pusd: int = 0) -> None:
        """Mint test collateral to a wallet and record it in ``funded`` (the truth's starting cash)."""
        w = wallet.lower()
        for key, amount in (("usdc", usdc), ("pusd", pusd)):
            if amount < 0:
                raise ValueError(f"fund {w}: {key}={amount} must not be negative")
            if amount:
                self._send(w, getattr(self.addr, key), calldata("mint(address,uint256)", w, amount),
                           f"fund({w}, {key}={amount})")
                self.funded[w][key] += amount

    def spenders(self) -> list[str]:
        """Every contract that pulls collateral or moves shares on a wallet's behalf."""
        a = self.addr
        return [a.ctf, a.ctf_exchange, a.neg_risk_exchange, a.ctf_exchange_v2, a.neg_risk_exchange_v2,
                a.neg_risk_adapter, a.ctf_adapter_v2, a.neg_risk_adapter_v2]

    def approve(self, wallets: Iterable[str], spenders: Sequence[str] | None = None) -> None:
        """ERC20 approvals (USDC.e, pUSD) and CTF setApprovalForAll to every exchange and adapter (or ``spenders``).

        Outside ``block()`` the approvals are mined in blocks of ~200 transactions: anvil's time per transaction
        grows with the number pending (0.3 ms at 50, 1 ms at 500, 5.5 ms at 2,000 per block).
        """
        a = self.addr
        ws = [w.lower() for w in wallets]
        sp = [x.lower() for x in (spenders or self.spenders())]
        if self._queue is None and ws:
            per = max(1, BLOCK_TXS // (3 * len(sp)))
            for i in range(0, len(ws), per):
                with self.block():
                    self.approve(ws[i:i + per], sp)
            return
        for w in ws:
            for s in sp:
                for tok in (a.usdc, a.pusd):
                    self._send(w, tok, calldata("approve(address,uint256)", s, MAX_UINT), f"approve({w}, {s})")
                if s != a.ctf:
                    self._send(w, a.ctf, calldata("setApprovalForAll(address,bool)", s, True),
                               f"setApprovalForAll({w}, {s})")

    # conditions -----------------------------------------------------------------------------------------------
    def prepare_condition(self, oracle: str, question_id: str, outcomes: int = 2) -> str:
        """CTF prepareCondition; the condition id (remembered with its oracle and question for ``resolve``)."""
        self._send(oracle, self.addr.ctf, calldata("prepareCondition(address,bytes32,uint256)", oracle.lower(),
                                                   _b32(question_id), outcomes),
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
        self._send(oracle, self.addr.ctf, calldata("reportPayouts(bytes32,uint256[])", _b32(qid), list(payouts)),
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
        cid = _b32(condition)
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
        cid = _b32(condition)
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

    # negRisk -----------------------------------------------------------------------------------------------------
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
            self._send(o, a.neg_risk_adapter, calldata("prepareQuestion(bytes32,bytes)", _b32(market_id),
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
                   calldata("reportOutcome(bytes32,bool)", _b32(q), outcome),
                   f"reportOutcome({market.market_id}, question {index}, {outcome})")

    def convert(self, wallet: str, market_id: str, index_set: int, amount: int, *,
                via: str = "neg_risk_adapter") -> Tx:
        """convertPositions: NO of the questions in ``index_set`` -> YES of the others + collateral."""
        w = wallet.lower()
        if via not in ("neg_risk_adapter", "neg_risk_adapter_v2"):
            raise ValueError(f"convert via={via!r}: expected neg_risk_adapter or neg_risk_adapter_v2")
        return self._send(w, getattr(self.addr, via), calldata(
            "convertPositions(bytes32,uint256,uint256)", _b32(market_id), index_set, amount),
            f"convert({w}, {market_id}, {index_set:#b}, {amount}) via {via}")

    # exchanges ---------------------------------------------------------------------------------------------------
    def register(self, condition: str, *, neg_risk: bool = False) -> tuple[int, int]:
        """Register a condition's two position ids on the exchanges of its kind (V1 and V2); the ids."""
        y, n = self.token_ids(condition, neg_risk=neg_risk)
        keys = ("neg_risk_exchange", "neg_risk_exchange_v2") if neg_risk else ("ctf_exchange", "ctf_exchange_v2")
        for k in keys:
            self._send(OPERATOR, getattr(self.addr, k), calldata("registerToken(uint256,uint256,bytes32)", y, n,
                                                                 _b32(condition)),
                       f"registerToken({k}, {condition})")
        return y, n

    def order(self, maker: str, token: int, side: Side | str, maker_amount: int, taker_amount: int,
              fee_rate_bps: int = 0) -> Order:
        """An Order with a fresh salt (so equal orders hash apart)."""
        sd = Side[side] if isinstance(side, str) else Side(side)
        return Order(maker.lower(), token, sd, maker_amount, taker_amount, fee_rate_bps, self.salt())

    def match(self, exchange_key: str, taker_order: Order, maker_orders: Sequence[Order], taker_fill: int,
              maker_fills: Sequence[int], *, fee_module: bool = False, operator_fees: Sequence[int] | None = None,
              fees: Sequence[int] | None = None) -> Tx:
        """matchOrders on an exchange, from the operator (V1 directly or through its FeeModule, V2 directly).

        V1: fees come from each order's fee_rate_bps (exchange formula); with ``fee_module`` the FeeModule is the
        operator and refunds each order the part above ``operator_fees`` (taker first, then makers; default 0 =
        refund all). V2: ``fees`` are the collateral fees per order (taker first), default v2_fee of each order.
        """
        if exchange_key not in EXCHANGES:
            raise ValueError(f"exchange {exchange_key!r}: expected one of {sorted(EXCHANGES)}")
        if len(maker_orders) != len(maker_fills):
            raise ValueError(f"match: {len(maker_orders)} maker orders but {len(maker_fills)} fills")
        fm_key, v2 = EXCHANGES[exchange_key]
        ex = getattr(self.addr, exchange_key)
        t, ms = taker_order.as_tuple(), [o.as_tuple() for o in maker_orders]
        what = f"match({exchange_key}, taker {taker_order.maker} {taker_order.side.name} {taker_fill}, " \
               f"{len(maker_orders)} makers{', fee module' if fee_module else ''})"
        if v2:
            if fee_module:
                raise ValueError("match: the V2 exchanges take fees directly; fee_module is V1 only")
            if fees is None:
                fees = [v2_fee(taker_order, taker_fill)] + [v2_fee(o, f) for o, f in zip(maker_orders, maker_fills)]
            if len(fees) != 1 + len(maker_orders):
                raise ValueError(f"match: {len(fees)} fees for {1 + len(maker_orders)} orders")
            return self._send(OPERATOR, ex, calldata(
                f"matchOrders({ORDER_TYPE},{ORDER_TYPE}[],uint256,uint256[],uint256,uint256[])", t, ms, taker_fill,
                list(maker_fills), fees[0], list(fees[1:])), what)
        if not fee_module:
            return self._send(OPERATOR, ex, calldata(
                f"matchOrders({ORDER_TYPE},{ORDER_TYPE}[],uint256,uint256[])", t, ms, taker_fill,
                list(maker_fills)), what)
        op = list(operator_fees) if operator_fees is not None else [0] * (1 + len(maker_orders))
        if len(op) != 1 + len(maker_orders):
            raise ValueError(f"match: {len(op)} operator fees for {1 + len(maker_orders)} orders")
        receive = taker_fill * taker_order.taker_amount // taker_order.maker_amount if taker_order.maker_amount else 0
        return self._send(OPERATOR, getattr(self.addr, fm_key), calldata(
            f"matchOrders({ORDER_TYPE},{ORDER_TYPE}[],uint256,uint256,uint256[],uint256,uint256[])", t, ms,
            taker_fill, receive, list(maker_fills), op[0], op[1:]), what)

    def transfer(self, frm: str, to: str, token: int, amount: int) -> Tx:
        """A plain ERC1155 transfer between wallets (CTF safeTransferFrom)."""
        f = frm.lower()
        return self._send(f, self.addr.ctf, calldata(
            "safeTransferFrom(address,address,uint256,uint256,bytes)", f, to.lower(), token, amount, b""),
            f"transfer({f} -> {to}, token {token}, {amount})")

    # the legacy AMM (FixedProductMarketMaker double, contracts/FixedProductMarketMaker.sol) ------------------------
    def create_fpmm(self, creator: str, fpmm: str, condition: str, fee: int = 2 * 10**16) -> Tx:
        """Place the FPMM's code at ``fpmm`` (the factory double cannot choose an address) and have the factory,
        called by ``creator``, initialise it and emit FixedProductMarketMakerCreation (collateral USDC.e)."""
        self.node.call("anvil_setCode", fpmm.lower(), artefact("FixedProductMarketMaker")["deployedBytecode"])
        a = self.addr
        return self._send(creator, a.fpmm_factory, calldata(
            "createFixedProductMarketMaker(address,address,address,bytes32[],uint256)", fpmm.lower(), a.ctf, a.usdc,
            [_b32(condition)], fee), f"createFixedProductMarketMaker({fpmm}, {condition})")

    def _fpmm_approve(self, wallet: str, fpmm: str) -> None:
        """The FPMM pulls USDC.e (buy, addFunding) and the wallet's shares (sell): approved once per pair."""
        w, f = wallet.lower(), fpmm.lower()
        if (w, f) in self.fpmm_approved:
            return
        self.fpmm_approved.add((w, f))
        self._send(w, self.addr.usdc, calldata("approve(address,uint256)", f, MAX_UINT), f"approve({w}, {f})")
        self._send(w, self.addr.ctf, calldata("setApprovalForAll(address,bool)", f, True),
                   f"setApprovalForAll({w}, {f})")

    def fpmm_add(self, wallet: str, fpmm: str, funds: int, hint: Sequence[int] = ()) -> Tx:
        self._fpmm_approve(wallet, fpmm)
        return self._send(wallet, fpmm, calldata("addFunding(uint256,uint256[])", funds, list(hint)),
                          f"addFunding({wallet}, {fpmm}, {funds}, {list(hint)})")

    def fpmm_remove(self, wallet: str, fpmm: str, shares: int) -> Tx:
        return self._send(wallet, fpmm, calldata("removeFunding(uint256)", shares),
                          f"removeFunding({wallet}, {fpmm}, {shares})")

    def fpmm_buy(self, wallet: str, fpmm: str, investment: int, outcome: int, min_tokens: int = 0) -> Tx:
        self._fpmm_approve(wallet, fpmm)
        return self._send(wallet, fpmm, calldata("buy(uint256,uint256,uint256)", investment, outcome, min_tokens),
                          f"FPMM buy({wallet}, {fpmm}, {investment}, outcome {outcome})")

    def fpmm_sell(self, wallet: str, fpmm: str, returned: int, outcome: int, max_tokens: int = MAX_UINT) -> Tx:
        self._fpmm_approve(wallet, fpmm)
        return self._send(wallet, fpmm, calldata("sell(uint256,uint256,uint256)", returned, outcome, max_tokens),
                          f"FPMM sell({wallet}, {fpmm}, {returned}, outcome {outcome})")

    # ids ---------------------------------------------------------------------------------------------------------
    def token_ids(self, condition: str, *, neg_risk: bool = False) -> tuple[int, int]:
        """(outcome 0 / YES, outcome 1 / NO) position ids of a condition."""
        return token_id(condition, 0, neg_risk=neg_risk), token_id(condition, 1, neg_risk=neg_risk)

    # reads -------------------------------------------------------------------------------------------------------
    def logs(self, from_block: int, to_block: int | str = "latest") -> list[dict]:
        """Every log the node holds in [from_block, to_block] (eth_getLogs, with blockTimestamp), chain order."""
        tb = hex(to_block) if isinstance(to_block, int) else to_block
        return self.node.call("eth_getLogs", {"fromBlock": hex(from_block), "toBlock": tb})

    def balance_of(self, token: str, owners: Sequence[str], block: int | str = "latest") -> dict[str, int]:
        """ERC20 balanceOf of each owner (token: 'usdc', 'pusd', 'wcol' or an address), one batched request."""
        t = getattr(self.addr, token) if hasattr(self.addr, token) else token.lower()
        tag = hex(block) if isinstance(block, int) else block
        owners = [o.lower() for o in owners]
        res = self.node.batch([("eth_call", [{"to": t, "data": calldata("balanceOf(address)", o)}, tag])
                               for o in owners])
        return {o: int(r, 16) for o, r in zip(owners, res)}

    def collateral(self, owners: Sequence[str], block: int | str = "latest") -> dict[str, int]:
        """USDC.e + pUSD of each owner (both balanceOf calls in one request): the truth's cash."""
        tag = hex(block) if isinstance(block, int) else block
        owners = [o.lower() for o in owners]
        calls = [("eth_call", [{"to": t, "data": calldata("balanceOf(address)", o)}, tag])
                 for o in owners for t in (self.addr.usdc, self.addr.pusd)]
        res = self._batch(calls)
        return {o: int(res[2 * i], 16) + int(res[2 * i + 1], 16) for i, o in enumerate(owners)}

    def balance_of_batch(self, owners: Sequence[str], ids: Sequence[int],
                         block: int | str = "latest") -> list[int]:
        """CTF balanceOfBatch over (owner, id) pairs, chunked, all chunks in one batched request."""
        if len(owners) != len(ids):
            raise ValueError(f"balance_of_batch: {len(owners)} owners but {len(ids)} ids")
        tag = hex(block) if isinstance(block, int) else block
        calls = []
        for i in range(0, len(owners), BALANCE_CHUNK):
            o = [x.lower() for x in owners[i:i + BALANCE_CHUNK]]
            calls.append(("eth_call", [{"to": self.addr.ctf, "data": calldata(
                "balanceOfBatch(address[],uint256[])", o, list(ids[i:i + BALANCE_CHUNK]))}, tag]))
        out: list[int] = []
        for j in range(0, len(calls), CALLS_PER_REQUEST):  # anvil refuses request bodies of a few MB
            for r in self.node.batch(calls[j:j + CALLS_PER_REQUEST]):
                out += list(abi_decode(["uint256[]"], bytes.fromhex(r[2:]))[0])
        return out

    def positions(self, owners: Sequence[str], ids: Sequence[int], block: int | str = "latest"
                  ) -> dict[tuple[str, int], int]:
        """Non-zero balances of every owner x id: {(owner, id): balance}."""
        pairs = [(o.lower(), i) for o in owners for i in ids]
        bals = self.balance_of_batch([p[0] for p in pairs], [p[1] for p in pairs], block)
        return {p: b for p, b in zip(pairs, bals) if b}


@lru_cache(maxsize=1)
def event_abis() -> dict[str, tuple[str, dict]]:
    """topic0 -> (contract name, ABI event entry) for the CTF build and every artefact of ours."""
    out: dict[str, tuple[str, dict]] = {}
    sources = [("ConditionalTokens", json.loads(ctf_artefact_path().read_text(encoding="utf-8"))["abi"])]
    sources += [(p.stem, json.loads(p.read_text(encoding="utf-8"))["abi"]) for p in sorted(ARTEFACT_DIR.glob("*.json"))]
    for name, abi in sources:
        for e in abi:
            if e["type"] == "event":
                sig = f"{e['name']}({','.join(i['type'] for i in e['inputs'])})"
                out.setdefault("0x" + keccak(sig.encode()).hex(), (name, e))
    return out


def v1_fee(bps: int, outcome_tokens: int, maker_amount: int, taker_amount: int, side: Side) -> int:
    """CalculatorHelper.calculateFee (V1 exchange, FeeModule): price at 1e18, fee in the proceeds asset."""
    one = 10 ** 18
    if bps == 0:
        return 0
    if side == Side.BUY:
        price = maker_amount * one // taker_amount if taker_amount else 0
    else:
        price = taker_amount * one // maker_amount if maker_amount else 0
    if price == 0 or price > one:
        return 0
    m = min(price, one - price)
    if side == Side.BUY:
        return bps * m * outcome_tokens // (price * 10_000)
    return bps * m * outcome_tokens // (10_000 * one)


def v2_fee(order: Order, fill: int) -> int:
    """Default V2 collateral fee of a fill (the operator sets V2 fees): bps x min(collateral, shares - collateral),
    the simulator's V2 rule."""
    taking = fill * order.taker_amount // order.maker_amount if order.maker_amount else 0
    usdc, shares = (fill, taking) if order.side == Side.BUY else (taking, fill)
    return order.fee_rate_bps * min(usdc, shares - usdc) // 10_000 if shares > usdc else 0
