"""The Polymarket system installed on one anvil node: every contract placed at its real Polygon address and
initialised, transactions queued and mined per block with revert reasons, collateral funding and approvals, and
balances read back from the contracts (never from events). The per-protocol calls are mixed in from ctf,
exchange and fpmm."""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

from eth_abi import decode as abi_decode

from harness.chain.contracts.abi import MAX_UINT, ZERO, Tx, calldata, revert_reason
from harness.chain.contracts.artefacts import ContractError, artefact, ctf_runtime
from harness.chain.contracts.ctf import CtfCalls, Market, NegRiskCalls
from harness.chain.contracts.exchange import OPERATOR, ExchangeCalls
from harness.chain.contracts.fpmm import FpmmCalls
from harness.chain.node import TX_GAS, Anvil, NodeError
from harness.chain.tokens import token_id
from harness.config import contracts, token_address

#: The dev account that sends set-up transactions (init calls); any address works, this one is anvil's own.
DEPLOYER = "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266"
BALANCE_CHUNK = 400  # (owner, id) pairs per balanceOfBatch call
CALLS_PER_REQUEST = 10  # balanceOfBatch calls per HTTP request (~0.5 MB)
TXS_PER_REQUEST = 500  # transactions (or receipts) per HTTP request
BLOCK_TXS = 200  # what approve() puts in one block when the caller did not open one (see approve)


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


@dataclass
class Polymarket(CtfCalls, NegRiskCalls, ExchangeCalls, FpmmCalls):
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
        return trace.get("revertReason") or revert_reason(trace.get("output")) or trace.get("error", "?")

    def call(self, to: str, data: str, block: int | str = "latest") -> bytes:
        tag = hex(block) if isinstance(block, int) else block
        return bytes.fromhex(self.node.call("eth_call", {"to": to, "data": data}, tag)[2:])

    def salt(self) -> int:
        self._salt += 1
        return self._salt

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

    def token_ids(self, condition: str, *, neg_risk: bool = False) -> tuple[int, int]:
        """(outcome 0 / YES, outcome 1 / NO) position ids of a condition."""
        return token_id(condition, 0, neg_risk=neg_risk), token_id(condition, 1, neg_risk=neg_risk)

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
