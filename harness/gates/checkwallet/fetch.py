"""check-wallet's log fetching: the topic filters naming a wallet, the windowed getLogs that keeps each log once,
the wallet's own logs and adapter transactions, and its proxies (derived, or read from ProxyCreation logs)."""
from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from harness.chain import proxies
from harness.chain.events import BY_KEY, address_of, by_address
from harness.chain.rpc import RpcClient, iter_windows
from harness.config import contracts
from harness.errors import require
from harness.gates.checkwallet import CheckWalletError
from harness.pnl.rows import collateral_adapters

#: Topic values per eth_getLogs filter position (condition ids, question ids): nodes cap the filter's size.
TOPIC_CHUNK = 100
RECEIPT_BATCH = 50


def wallet_topic(address: str) -> str:
    a = address.lower().removeprefix("0x")
    require(len(a) == 40 and all(c in "0123456789abcdef" for c in a),
            f"address {address!r} is not 0x followed by 40 hex digits")
    return "0x" + "0" * 24 + a


def topic0s(*keys: str) -> list[str]:
    return [BY_KEY[k].topic0 for k in keys]


def _addr(key: str) -> str:
    return address_of(key)


def chunks(items: Sequence, n: int) -> Iterable[list]:
    items = list(items)
    for i in range(0, len(items), n):
        yield items[i:i + n]


def log_key(lg: dict) -> tuple[str, int]:
    li = lg["logIndex"]
    return lg["transactionHash"].lower(), int(li, 16) if isinstance(li, str) else int(li)


def log_block(lg: dict) -> int:
    b = lg["blockNumber"]
    return int(b, 16) if isinstance(b, str) else int(b)


def wallet_filters(wallets: Sequence[str]) -> list[tuple[str, list[str] | None, list]]:
    """(step, addresses, topics) of every topic-filtered query naming one of ``wallets`` in an indexed field.

    Indexed positions (harness/chain/events.py): TransferSingle/Batch (operator, from, to) -> topics 2 and 3;
    CTF PositionSplit / PositionsMerge (stakeholder, parentCollectionId, conditionId) and PayoutRedemption
    (redeemer, ...) -> topic 1; OrderFilled V1 and V2 (orderHash, maker, taker) -> topics 2 and 3; NegRiskAdapter
    PositionSplit / PositionsMerge / PositionsConverted / PayoutRedemption -> topic 1; FeeRefunded (orderHash, to,
    [feeCharged]) -> topic 2; FPMMBuy / FPMMSell / FPMMFundingAdded / FPMMFundingRemoved -> topic 1 (any address)."""
    w = [wallet_topic(a) for a in wallets]
    ctf = [_addr("ctf")]
    exchanges = sorted({_addr(k) for k in ("ctf_exchange", "neg_risk_exchange", "ctf_exchange_v2",
                                          "neg_risk_exchange_v2")})
    transfers = topic0s("ctf.TransferSingle", "ctf.TransferBatch")
    fills = topic0s("exchange.OrderFilled", "exchange_v2.OrderFilled")
    return [
        ("transfers from", ctf, [transfers, None, w]),
        ("transfers to", ctf, [transfers, None, None, w]),
        ("ctf split/merge/redeem", ctf, [topic0s("ctf.PositionSplit", "ctf.PositionsMerge", "ctf.PayoutRedemption"), w]),
        ("fills as maker", exchanges, [fills, None, w]),
        ("fills as taker", exchanges, [fills, None, None, w]),
        ("negRisk adapter", [_addr("neg_risk_adapter")],
         [topic0s("adapter.PositionSplit", "adapter.PositionsMerge", "adapter.PositionsConverted",
              "adapter.PayoutRedemption"), w]),
        ("fee refunds", sorted({_addr("fee_module"), _addr("neg_risk_fee_module")}),
         [topic0s("fee_module.FeeRefunded"), None, w]),
        ("FPMM trades and funding", None,
         [topic0s("fpmm.FPMMBuy", "fpmm.FPMMSell", "fpmm.FPMMFundingAdded", "fpmm.FPMMFundingRemoved"), w]),
    ]


@dataclass
class FetchLog:
    """What was fetched: logs per step (``logs_fetched`` is their sum, duplicates across steps included)."""

    steps: dict[str, int] = field(default_factory=dict)
    receipts: int = 0
    seconds: float = 0.0

    @property
    def logs_fetched(self) -> int:
        return sum(self.steps.values())

    def add(self, step: str, n: int) -> None:
        self.steps[step] = self.steps.get(step, 0) + n


class Fetcher:
    """Topic-filtered getLogs over [lo, hi] through the backfill's window logic; every log kept once."""

    def __init__(self, rpc: RpcClient, lo: int, hi: int, *, window: int = 100_000, max_window: int = 1_000_000
                 ) -> None:
        self.rpc, self.lo, self.hi, self.window, self.max_window = rpc, lo, hi, window, max_window
        self.logs: dict[tuple[str, int], dict] = {}
        self.record = FetchLog()

    def get(self, step: str, addresses: list[str] | None, topics: list, lo: int | None = None,
            hi: int | None = None) -> list[dict]:
        lo = self.lo if lo is None else lo
        hi = self.hi if hi is None else hi
        out: list[dict] = []
        if lo > hi:
            return out
        for _a, _b, logs in iter_windows(self.rpc, lo, hi, addresses=addresses, topics=topics,
                                         window=self.window, max_window=self.max_window):
            out.extend(logs)
        self.record.add(step, len(out))
        return out

    def keep(self, logs: Iterable[dict]) -> None:
        for lg in logs:
            if not lg.get("removed"):
                self.logs.setdefault(log_key(lg), lg)

    def backwards(self, step: str, addresses: list[str] | None, topics: list, lo: int, hi: int,
                  done: Callable[[list[dict], int], bool]) -> None:
        """Windows from ``hi`` down to ``lo``, each fetched with the window logic, until ``done(logs, low)``."""
        size = self.window
        b = hi
        while b >= lo:
            a = max(lo, b - size + 1)
            logs = self.get(step, addresses, topics, a, b)
            if done(logs, a):
                return
            b = a - 1
            size = min(self.max_window, size * 2)

    def receipts(self, txs: Iterable[str]) -> list[dict]:
        """Every log of these transactions (eth_getTransactionReceipt, batched)."""
        out: list[dict] = []
        txs = sorted(set(txs))
        for chunk in chunks(txs, RECEIPT_BATCH):
            for tx, rc in zip(chunk, self.rpc.batch([("eth_getTransactionReceipt", [t]) for t in chunk])):
                if rc is None:
                    raise CheckWalletError(f"eth_getTransactionReceipt {tx}: the node has no receipt")
                out.extend(rc.get("logs") or [])
        self.record.receipts += len(txs)
        self.record.add("adapter transactions (receipts)", len(out))
        return out


def decode(logs: Iterable[dict]):
    from harness.chain.decode import decode_logs

    return decode_logs([{**lg, "blockTimestamp": lg.get("blockTimestamp") or "0x0"} for lg in logs])


def pairs(logs: list[dict], table: str) -> list[tuple[dict, dict]]:
    """(log, decoded row of ``table``) for each log that decodes into that table, matched by (tx hash, log index)."""
    by = {log_key(lg): lg for lg in logs}
    return [(by[(r["tx_hash"].lower(), int(r["log_index"]))], r) for r in decode(logs).as_dicts(table)
            if (r["tx_hash"].lower(), int(r["log_index"])) in by]


def first_block(keys: Iterable[str], hi: int) -> int:
    firsts = [contracts()[k].first_block for k in keys if contracts()[k].first_block]
    return min(firsts) if firsts and min(firsts) <= hi else 0


def safe_links(f: Fetcher, owners: Iterable[str]) -> dict[str, list[tuple[str, str]]]:
    """owner -> (proxy, 'safe') rows of the SafeProxyFactory's ProxyCreation logs naming it, oldest first (no
    field is indexed, so the factory's creations over the range are read; proxies.proxy_links adds the derived
    proxy). The creations of these owners are kept for the scratch database."""
    owners = set(owners)
    lo = max(f.lo, first_block(["safe_proxy_factory"], f.hi))
    logs = f.get("ProxyCreation (owner -> Safe)", [_addr("safe_proxy_factory")],
                 [topic0s("safe_factory.ProxyCreation")], lo, f.hi)
    mine = sorted(((lg, r) for lg, r in pairs(logs, "wallet_proxies") if r["owner"] in owners),
                  key=lambda p: (p[1]["block_number"], p[1]["log_index"]))
    f.keep(lg for lg, _r in mine)
    out: dict[str, list[tuple[str, str]]] = {}
    for _lg, r in mine:
        out.setdefault(r["owner"], []).append((r["proxy"], "safe"))
    return out


def derived_links(owner: str) -> list[proxies.ProxyLink]:
    """The proxies ``owner`` would have without any event read, in the API's order: its SafeProxyFactory Safe
    (PolySafeLib's CREATE2 address), then its ProxyWalletFactory proxy."""
    safe = proxies.ProxyLink(owner, proxies.polymarket_safe_address(owner), "safe",
                             "CREATE2 derivation (SafeProxyFactory)")
    return [safe] + [p for p in proxies.proxy_links(owner, []) if p.proxy != safe.proxy]


def fetch_wallet_logs(f: Fetcher, wallets: Sequence[str]) -> None:
    """The wallets' own logs and the transactions they made through V2 collateral adapters (then fetch_structure
    for the market structure, and later fetch_prices)."""
    for chunk in chunks(sorted(set(wallets)), TOPIC_CHUNK):
        for step, addresses, topics in wallet_filters(chunk):
            f.keep(f.get(step, addresses, topics))
    ws = {w.lower() for w in wallets}
    adapters = set(collateral_adapters())
    dec = decode(f.logs.values())
    txs = {r["tx_hash"] for r in dec.as_dicts("erc1155_transfers")
           if (r["from_addr"] in ws and r["to_addr"] in adapters) or (r["to_addr"] in ws and r["from_addr"] in adapters)}
    if txs:
        known = set(by_address())
        f.keep(lg for lg in f.receipts(txs) if lg.get("address", "").lower() in known)


def active(f: Fetcher) -> set[str]:
    """Addresses the fetched logs name as a trader, holder or stakeholder (who may have P&L rows)."""
    d = decode(f.logs.values())
    out = {r["wallet"] for r in d.as_dicts("trades_raw")}
    out |= {a for r in d.as_dicts("erc1155_transfers") for a in (r["from_addr"], r["to_addr"])}
    out |= {r["stakeholder"] for t in ("ctf_actions", "neg_risk_conversions") for r in d.as_dicts(t)}
    out |= {r["to_addr"] for r in d.as_dicts("fee_refunds")}
    out |= {r["trader"] for r in d.as_dicts("fpmm_trades")} | {r["funder"] for r in d.as_dicts("fpmm_funding")}
    return out
