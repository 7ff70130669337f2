"""check-wallet: one wallet's P&L from its own logs, before (or without) any backfill.

Why it is enough: every event that moves a wallet's P&L names it in an indexed topic (OrderFilled maker / taker,
TransferSingle / TransferBatch from / to, CTF and NegRiskAdapter stakeholder or redeemer, FeeRefunded to, the
FPMMs' trader / funder), so topic-filtered ``eth_getLogs`` over the range returns the wallet's history and nothing
else. To that are added: the whole transactions in which it traded through a V2 collateral adapter (the adapter,
not the wallet, is the CTF stakeholder there), the FPMMs' creations, the preparations of every condition touched
(for token ids never seen in a split or redemption, the ConditionPreparation logs are scanned backwards from the
wallet's first use of them until all are mapped), the negRisk questions of every market touched, the resolutions,
and, per open market, the fills newer than the wallet's own last one (scanned backwards from the end of the range
until the market's latest fill is found), which price its open tokens.

The figures then come from the warehouse's own code: the logs go through the normal sink (decode, insert,
checkpoint) into a scratch database, the normal full build runs there, and the same tables and views the
warehouse serves are read, so no P&L rule is written twice. Fetching uses the backfill's RPC client and window
logic (harness.chain.rpc.iter_windows): retries, failover, and windows halved when a node refuses them.
"""
from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

from clickhouse_connect.driver.client import Client

from harness.chain import proxies
from harness.warehouse import sql
from harness.serve.models import micros_to_decimal
from harness.chain.events import BY_KEY, address_of, by_address
from harness.chain.rpc import RpcClient, iter_windows
from harness.config import contracts
from harness.errors import HarnessError, UsageError, check_span, require

log = logging.getLogger(__name__)

#: Default per-market tolerance when the wallet is not in wallets.yaml: the reference wallets' ui_total one.
DEFAULT_TOLERANCE_PCT = Decimal(5)
#: Below this absolute difference (micro-USDC, one cent) a market always agrees: the API rounds to cents.
CENT = 10_000
#: Topic values per eth_getLogs filter position (condition ids, question ids): nodes cap the filter's size.
TOPIC_CHUNK = 100
RECEIPT_BATCH = 50
SOURCE = "check-wallet"


class CheckWalletError(HarnessError, RuntimeError):
    """A check-wallet input (positions file, data API answer) is unusable; the message names it."""


def _topic(address: str) -> str:
    a = address.lower().removeprefix("0x")
    require(len(a) == 40 and all(c in "0123456789abcdef" for c in a),
            f"address {address!r} is not 0x followed by 40 hex digits")
    return "0x" + "0" * 24 + a


def _t0(*keys: str) -> list[str]:
    return [BY_KEY[k].topic0 for k in keys]


def _addr(key: str) -> str:
    return address_of(key)


def _chunks(items: Sequence, n: int) -> Iterable[list]:
    items = list(items)
    for i in range(0, len(items), n):
        yield items[i:i + n]


def _key(lg: dict) -> tuple[str, int]:
    li = lg["logIndex"]
    return lg["transactionHash"].lower(), int(li, 16) if isinstance(li, str) else int(li)


def _block(lg: dict) -> int:
    b = lg["blockNumber"]
    return int(b, 16) if isinstance(b, str) else int(b)


def wallet_filters(wallets: Sequence[str]) -> list[tuple[str, list[str] | None, list]]:
    """(step, addresses, topics) of every topic-filtered query naming one of ``wallets`` in an indexed field.

    Indexed positions (harness/chain/events.py): TransferSingle/Batch (operator, from, to) -> topics 2 and 3;
    CTF PositionSplit / PositionsMerge (stakeholder, parentCollectionId, conditionId) and PayoutRedemption
    (redeemer, ...) -> topic 1; OrderFilled V1 and V2 (orderHash, maker, taker) -> topics 2 and 3; NegRiskAdapter
    PositionSplit / PositionsMerge / PositionsConverted / PayoutRedemption -> topic 1; FeeRefunded (orderHash, to,
    [feeCharged]) -> topic 2; FPMMBuy / FPMMSell / FPMMFundingAdded / FPMMFundingRemoved -> topic 1 (any address)."""
    w = [_topic(a) for a in wallets]
    ctf = [_addr("ctf")]
    exchanges = sorted({_addr(k) for k in ("ctf_exchange", "neg_risk_exchange", "ctf_exchange_v2",
                                          "neg_risk_exchange_v2")})
    transfers = _t0("ctf.TransferSingle", "ctf.TransferBatch")
    fills = _t0("exchange.OrderFilled", "exchange_v2.OrderFilled")
    return [
        ("transfers from", ctf, [transfers, None, w]),
        ("transfers to", ctf, [transfers, None, None, w]),
        ("ctf split/merge/redeem", ctf, [_t0("ctf.PositionSplit", "ctf.PositionsMerge", "ctf.PayoutRedemption"), w]),
        ("fills as maker", exchanges, [fills, None, w]),
        ("fills as taker", exchanges, [fills, None, None, w]),
        ("negRisk adapter", [_addr("neg_risk_adapter")],
         [_t0("adapter.PositionSplit", "adapter.PositionsMerge", "adapter.PositionsConverted",
              "adapter.PayoutRedemption"), w]),
        ("fee refunds", sorted({_addr("fee_module"), _addr("neg_risk_fee_module")}),
         [_t0("fee_module.FeeRefunded"), None, w]),
        ("FPMM trades and funding", None,
         [_t0("fpmm.FPMMBuy", "fpmm.FPMMSell", "fpmm.FPMMFundingAdded", "fpmm.FPMMFundingRemoved"), w]),
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
                self.logs.setdefault(_key(lg), lg)

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
        for chunk in _chunks(txs, RECEIPT_BATCH):
            for tx, rc in zip(chunk, self.rpc.batch([("eth_getTransactionReceipt", [t]) for t in chunk])):
                if rc is None:
                    raise CheckWalletError(f"eth_getTransactionReceipt {tx}: the node has no receipt")
                out.extend(rc.get("logs") or [])
        self.record.receipts += len(txs)
        self.record.add("adapter transactions (receipts)", len(out))
        return out


def _decode(logs: Iterable[dict]):
    from harness.chain.decode import decode_logs

    return decode_logs([{**lg, "blockTimestamp": lg.get("blockTimestamp") or "0x0"} for lg in logs])


def _pairs(logs: list[dict], table: str) -> list[tuple[dict, dict]]:
    """(log, decoded row of ``table``) for each log that decodes into that table, matched by (tx hash, log index)."""
    by = {_key(lg): lg for lg in logs}
    return [(by[(r["tx_hash"].lower(), int(r["log_index"]))], r) for r in _decode(logs).as_dicts(table)
            if (r["tx_hash"].lower(), int(r["log_index"])) in by]


def _first_block(keys: Iterable[str], hi: int) -> int:
    firsts = [contracts()[k].first_block for k in keys if contracts()[k].first_block]
    return min(firsts) if firsts and min(firsts) <= hi else 0


def safe_links(f: Fetcher, owners: Iterable[str]) -> dict[str, list[tuple[str, str]]]:
    """owner -> (proxy, 'safe') rows of the SafeProxyFactory's ProxyCreation logs naming it, oldest first (no
    field is indexed, so the factory's creations over the range are read; proxies.proxy_links adds the derived
    proxy). The creations of these owners are kept for the scratch database."""
    owners = set(owners)
    lo = max(f.lo, _first_block(["safe_proxy_factory"], f.hi))
    logs = f.get("ProxyCreation (owner -> Safe)", [_addr("safe_proxy_factory")],
                 [_t0("safe_factory.ProxyCreation")], lo, f.hi)
    mine = sorted(((lg, r) for lg, r in _pairs(logs, "wallet_proxies") if r["owner"] in owners),
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
    from harness.pnl.oracle import collateral_adapters

    for chunk in _chunks(sorted(set(wallets)), TOPIC_CHUNK):
        for step, addresses, topics in wallet_filters(chunk):
            f.keep(f.get(step, addresses, topics))
    ws = {w.lower() for w in wallets}
    adapters = set(collateral_adapters())
    dec = _decode(f.logs.values())
    txs = {r["tx_hash"] for r in dec.as_dicts("erc1155_transfers")
           if (r["from_addr"] in ws and r["to_addr"] in adapters) or (r["to_addr"] in ws and r["from_addr"] in adapters)}
    if txs:
        known = set(by_address())
        f.keep(lg for lg in f.receipts(txs) if lg.get("address", "").lower() in known)


def active(f: Fetcher) -> set[str]:
    """Addresses the fetched logs name as a trader, holder or stakeholder (who may have P&L rows)."""
    d = _decode(f.logs.values())
    out = {r["wallet"] for r in d.as_dicts("trades_raw")}
    out |= {a for r in d.as_dicts("erc1155_transfers") for a in (r["from_addr"], r["to_addr"])}
    out |= {r["stakeholder"] for t in ("ctf_actions", "neg_risk_conversions") for r in d.as_dicts(t)}
    out |= {r["to_addr"] for r in d.as_dicts("fee_refunds")}
    out |= {r["trader"] for r in d.as_dicts("fpmm_trades")} | {r["funder"] for r in d.as_dicts("fpmm_funding")}
    return out


def fetch_structure(f: Fetcher, dec) -> None:
    """Preparations (token_map), negRisk questions and resolutions of everything ``dec`` touches."""
    ctf = [_addr("ctf")]
    adapter = [_addr("neg_risk_adapter")]
    prep_lo = _first_block(["ctf"], f.hi)
    conds = {r["condition_id"] for r in dec.as_dicts("ctf_actions")}
    markets = {r["market_id"] for r in dec.as_dicts("neg_risk_conversions")}
    fpmms = {r["fpmm"] for t in ("fpmm_trades", "fpmm_funding") for r in dec.as_dicts(t)}
    if fpmms:
        logs = f.get("FPMM creations", [_addr("fpmm_factory")],
                     [_t0("fpmm_factory.FixedProductMarketMakerCreation")], _first_block(["fpmm_factory"], f.hi), f.hi)
        made = [(lg, r) for lg, r in _pairs(logs, "fpmm_creations") if r["fpmm"] in fpmms]
        f.keep(lg for lg, _r in made)
        conds |= {c.lower() for _lg, r in made for c in r["condition_ids"]}
    tokens = {int(r["token_id"]) for t in ("trades_raw", "erc1155_transfers") for r in dec.as_dicts(t)}
    tokens |= {int(r["token_id"]) for r in dec.as_dicts("fee_refunds") if int(r["token_id"])}
    preps: dict[str, dict] = {}  # condition -> its ConditionPreparation log
    token_cond: dict[int, str] = {}

    def take(logs: list[dict]) -> None:
        by_cid = {}
        for lg, r in _pairs(logs, "condition_preparations"):
            by_cid.setdefault(r["condition_id"], lg)
        for r in _decode(logs).as_dicts("token_map"):
            if r["condition_id"] in by_cid:
                token_cond[int(r["token_id"])] = r["condition_id"]
                preps.setdefault(r["condition_id"], by_cid[r["condition_id"]])

    def by_condition(cids: Iterable[str]) -> None:
        for chunk in _chunks(sorted(set(cids) - set(preps)), TOPIC_CHUNK):
            take(f.get("preparations of conditions touched", ctf, [_t0("ctf.ConditionPreparation"), chunk],
                       prep_lo, f.hi))

    by_condition(conds)
    unmapped = tokens - set(token_cond)
    if unmapped:  # fills and transfers name tokens, not conditions: scan back from the newest first use
        first_use: dict[int, int] = {}
        for t in ("trades_raw", "erc1155_transfers"):
            for r in dec.as_dicts(t):
                tok = int(r["token_id"])
                if tok in unmapped:
                    first_use[tok] = min(first_use.get(tok, f.hi), int(r["block_number"]))

        def found(logs: list[dict], _low: int) -> bool:
            take(logs)
            return not (unmapped - set(token_cond))

        f.backwards("preparations of tokens used", ctf, [_t0("ctf.ConditionPreparation")], prep_lo,
                    max(first_use.values()), found)
    # negRisk: the questions of every market touched (conversions need them all), and their conditions
    neg = [_decode([lg]).as_dicts("condition_preparations")[0] for lg in preps.values()]
    qids = sorted({r["question_id"] for r in neg if r["oracle"] == adapter[0]})
    qp = _t0("adapter.QuestionPrepared")
    q_lo = _first_block(["neg_risk_adapter"], f.hi)
    for chunk in _chunks(qids, TOPIC_CHUNK):
        qs = f.get("negRisk questions of conditions", adapter, [qp, None, chunk], q_lo, f.hi)
        markets |= {r["market_id"] for r in _decode(qs).as_dicts("neg_risk_questions")}
    for chunk in _chunks(sorted(markets), TOPIC_CHUNK):
        qs = f.get("negRisk questions of markets", adapter, [qp, chunk], q_lo, f.hi)
        f.keep(qs)
        by_condition(r["condition_id"] for r in _decode(qs).as_dicts("neg_risk_questions"))
    f.keep(preps.values())
    for chunk in _chunks(sorted(preps), TOPIC_CHUNK):
        f.keep(f.get("resolutions", ctf, [_t0("ctf.ConditionResolution"), chunk], prep_lo, f.hi))
    missing = tokens - set(token_cond)
    if missing:
        log.warning("check-wallet: %d token ids have no ConditionPreparation in blocks %d..%d (first: %s)",
                    len(missing), prep_lo, f.hi, sorted(missing)[:3])


def ingest(client: Client, f: Fetcher, logs: Iterable[dict]) -> None:
    """Through the normal sink: one batch [lo, hi], block times asked for logs that lack them."""
    from harness.ingest.result import IngestStats
    from harness.ingest.sink import LogBatch, write_batches

    logs = sorted(logs, key=lambda lg: (_block(lg), _key(lg)[1]))
    need = {_block(lg) for lg in logs if lg.get("blockTimestamp") is None}
    times = f.rpc.block_times(need) if need else None
    write_batches(client, [LogBatch(f.lo, f.hi, logs, times)], source=SOURCE, run_id=SOURCE,
                  stats=IngestStats(source=SOURCE), contracts=[SOURCE])


def needs_price(client: Client, wallets: Sequence[str]) -> dict[str, int]:
    """Open conditions in which a wallet holds shares or tracked average-cost shares and no imported price covers
    every outcome -> the block of the newest fill already ingested for them (0 when none)."""
    rows = client.query(sql.load("checkwallet/needs_price"), parameters={"wallets": list(wallets)}).result_rows
    return {c: int(b or 0) for c, b in rows}


def fetch_prices(client: Client, f: Fetcher, need: dict[str, int], *, max_blocks: int | None = None,
                 notes: list[str] | None = None) -> list[dict]:
    """The fills that price the open conditions in ``need``: every fill of their tokens from the end of the range
    back to the newest one (a binary condition: either outcome's; others: each outcome's), or back to the newest
    fill already held. Fills carry no token topic, so this reads every fill of those blocks: ``max_blocks`` bounds
    the scan (a condition not settled within it keeps the newest fill held, and ``notes`` says so). Returns the
    fills to add."""
    if not need:
        return []
    tmap = {int(t): (c, int(o)) for t, c, o in client.query(
        sql.load("checkwallet/token_map"), parameters={"conditions": sorted(need)}).result_rows}
    outcomes: dict[str, set[int]] = {}
    for c, o in tmap.values():
        outcomes.setdefault(c, set()).add(o)
    todo = {c: (set(os_) if len(os_) != 2 else {-1}) for c, os_ in outcomes.items()}
    kept: list[dict] = []
    exchanges = sorted({_addr(k) for k in ("ctf_exchange", "neg_risk_exchange", "ctf_exchange_v2",
                                          "neg_risk_exchange_v2")})

    def done(logs: list[dict], low: int) -> bool:
        for lg, r in _pairs(logs, "trades_raw"):
            hit = tmap.get(int(r["token_id"]))
            if hit is None or not int(r["shares"]):
                continue
            c, o = hit
            kept.append(lg)
            todo.get(c, set()).discard(-1 if len(outcomes[c]) == 2 else o)
        for c in list(todo):
            if not todo[c] or (need.get(c) and low <= need[c]):
                del todo[c]
        return not todo

    lo = _first_block(["ctf_exchange"], f.hi)
    if max_blocks is not None:
        lo = max(lo, f.hi - max_blocks + 1)
    f.backwards("last fills of open markets", exchanges, [_t0("exchange.OrderFilled", "exchange_v2.OrderFilled")],
                lo, f.hi, done)
    if todo and notes is not None:
        notes.append(f"{len(todo)} open markets have no fill in the last {max_blocks} blocks scanned "
                     f"({lo}..{f.hi}): priced by the newest fill held, or unpriced (first: {min(todo)})")
    return kept


# ---- figures ----------------------------------------------------------------------------------------------------


@dataclass
class Outcome:
    outcome_index: int
    token_id: int
    shares: int  # net shares held (micro-units)
    tracked: int  # shares the average-cost book tracks
    avg_price: int  # micro-USDC per share
    realized: int  # average-cost realized on this token, micro-USDC
    mark: int | None  # payout share (resolved) or market price, micro-USDC per share; None = unpriced


@dataclass
class Market:
    condition_id: str
    resolved: bool
    cashflow: int
    value: int
    cf_pnl: int
    ac_realized: int
    ac_unrealized: int
    ac_pnl: int
    outcomes: list[Outcome] = field(default_factory=list)
    reasons: tuple[str, ...] = ()
    polymarket: list[PositionCheck] = field(default_factory=list)
    in_cash_flow: bool = False  # the build wrote a wallet_market_pnl row (else the cash-flow figures are 0)
    in_average_cost: bool = False  # the build wrote a wallet_market_pnl_avgcost row

    @property
    def cost(self) -> int:
        """Average-cost basis of the tracked shares (the API's initialValue), micro-USDC."""
        return sum(o.tracked * o.avg_price // 10**6 for o in self.outcomes)


@dataclass
class WalletFigures:
    wallet: str  # the address asked about
    proxy: str | None  # the address whose P&L answers (itself, or its proxy), None when nothing was found
    link: proxies.ProxyLink | None
    realized: int = 0
    unrealized: int = 0
    total: int = 0
    ui_realized: int = 0
    ui_unrealized: int = 0
    ui_total: int = 0
    markets: list[Market] = field(default_factory=list)
    fetch: FetchLog = field(default_factory=FetchLog)
    from_block: int = 0
    to_block: int = 0
    chain_logs: int | None = None  # every log of the known contracts over the range, when counted
    notes: list[str] = field(default_factory=list)  # the scratch build's warnings (unmapped tokens, unpriced)


def read_figures(client: Client, wallet: str, *, explain: bool = True, suffix: str = ""
                 ) -> tuple[dict, list[Market]]:
    """Both methods' totals and the per-market rows of ``wallet`` from a built database (the scratch one, or a
    warehouse: its summary view ``wallet_pnl_summary_final<suffix>``)."""
    from harness.pnl.asof import wallet_tables
    from harness.pnl.build import NO_CUTOFF, _render, wallet_summary

    s = wallet_summary(client, wallet, suffix=suffix)  # checks the suffix
    ui = client.query(_render("checkwallet/ui_summary", suffix=suffix), parameters={"wallet": wallet}).result_rows
    tot = {"realized": s.realized_pnl if s else 0, "unrealized": s.unrealized_pnl if s else 0,
           "total": s.total_pnl if s else 0}
    tot.update(dict(zip(("ui_realized", "ui_unrealized", "ui_total"), (int(v) for v in ui[0]) if ui else (0, 0, 0))))
    markets: dict[str, Market] = {}
    for c, r, cash, value, pnl in client.query(sql.load("checkwallet/markets_cashflow"),
                                               parameters={"wallet": wallet}).result_rows:
        markets[c] = Market(c, bool(r), int(cash), int(value), int(pnl), 0, 0, 0, in_cash_flow=True)
    for c, r, re_, un, pnl in client.query(sql.load("checkwallet/markets_avgcost"),
                                           parameters={"wallet": wallet}).result_rows:
        m = markets.setdefault(c, Market(c, bool(r), 0, 0, 0, 0, 0, 0))
        m.ac_realized, m.ac_unrealized, m.ac_pnl, m.in_average_cost = int(re_), int(un), int(pnl), True
    rows = client.query(sql.load("checkwallet/outcomes"),
                        parameters={"wallet": wallet, "conditions": sorted(markets)}).result_rows
    for c, o, tok, n, amt, avg, rz, mark in rows:
        markets[c].outcomes.append(Outcome(int(o), int(tok), int(n or 0), int(amt or 0), int(avg or 0), int(rz or 0),
                                           None if mark is None else int(mark)))
    if explain and markets:
        from harness.pnl.oracle import explain as explain_pnl

        tables = wallet_tables(client, [wallet], NO_CUTOFF)
        for d in explain_pnl(tables):
            if d.wallet == wallet and d.condition_id in markets:
                markets[d.condition_id].reasons = d.reasons
    return tot, sorted(markets.values(), key=lambda m: (m.resolved, -abs(m.cf_pnl), m.condition_id))


def check_wallet(client: Client, rpc: RpcClient | str, address: str, *, proxy: str | None = None,
                 **kw) -> WalletFigures:
    """Fetch ``address``'s logs (and its proxies'), compute both methods on ``client`` (an EMPTY scratch database
    with the schema applied: it is written to) with the normal sink and build, and read them back.

    Which address answers is the API's rule (harness.chain.proxies.first_with_rows): the address itself when it has P&L
    rows, else its Safe (the ProxyCreation logs are read when the address has no activity of its own, unless
    ``safe_scan`` is off), else its ProxyWalletFactory proxy;
    ``proxy`` names one directly. Range: ``from_block`` (default the known contracts' first block, as backfill) to
    ``to_block`` (default the head)."""
    return check_wallets(client, rpc, [address], proxies_given={address.lower(): proxy} if proxy else None, **kw)[0]


def check_wallets(client: Client, rpc: RpcClient | str, addresses: Sequence[str], *, from_block: int | None = None,
                  to_block: int | None = None, proxies_given: dict[str, str] | None = None, safe_scan: bool = True,
                  prices: Path | None = None, window: int = 100_000, count_chain: bool = False,
                  explain: bool = True, price_scan_blocks: int | None = None) -> list[WalletFigures]:
    """check_wallet for several addresses at once (the validate stage's wallets without warehouse rows): one
    fetch of all their logs, one scratch build. Each wallet's figures read only its own rows and the market data,
    so they equal a check of that wallet alone; ``fetch`` (logs fetched) is the batch's. ``price_scan_blocks``
    bounds the backward scan for the last fills of open markets (fetch_prices; None: exact)."""
    from harness.pnl.build import create_views, rebuild
    from harness.ingest.prices import ingest_prices

    given = {k.lower(): v.lower() for k, v in (proxies_given or {}).items()}
    addrs = list(dict.fromkeys(a.lower() for a in addresses))
    for a in addrs + list(given.values()):
        _topic(a)
    rpc = rpc if isinstance(rpc, RpcClient) else RpcClient(rpc)
    head = rpc.block_number()
    hi = head if to_block is None else int(to_block)
    lo = int(from_block) if from_block is not None else _first_block(
        [k for k, c in contracts().items() if c.first_block], hi)  # as backfill: the known contracts' first block
    check_span(lo, hi)
    if hi > head:
        raise UsageError(f"--to-block {hi} is beyond the chain head {head}")
    t0 = time.monotonic()
    f = Fetcher(rpc, lo, hi, window=window)
    links: dict[str, list[proxies.ProxyLink]] = {
        a: [proxies.ProxyLink(a, given[a], "given", "--proxy")] if a in given else derived_links(a) for a in addrs}
    candidates = list(dict.fromkeys(addrs + [p.proxy for a in addrs for p in links[a]]))
    fetch_wallet_logs(f, candidates)
    # neither the address nor its derived proxies active: its ProxyCreation logs may name a Safe made otherwise
    busy = active(f)
    scan = [a for a in addrs if a not in given and not ({a} | {p.proxy for p in links[a]}) & busy] \
        if safe_scan else []
    safes = safe_links(f, scan) if scan else {}
    for a, rows in safes.items():
        links[a] = proxies.proxy_links(a, rows)
    more = [p.proxy for a in safes for p in links[a] if p.proxy not in candidates]
    if more:
        fetch_wallet_logs(f, more)
        candidates += more
    fetch_structure(f, _decode(f.logs.values()))
    ingest(client, f, f.logs.values())
    if prices is not None:
        ingest_prices(client, Path(prices), source="check-wallet", as_of=0)
    report = rebuild(client, allow_unmapped=True)
    scan_notes: list[str] = []
    extra = fetch_prices(client, f, needs_price(client, candidates), max_blocks=price_scan_blocks, notes=scan_notes)
    if extra:
        ingest(client, f, extra)
        report = rebuild(client, allow_unmapped=True)
    create_views(client)
    with_rows = {r[0] for r in client.query(sql.load("checkwallet/with_rows"),
                                            parameters={"wallets": candidates}).result_rows}
    f.record.seconds = time.monotonic() - t0
    chain_logs = None
    if count_chain:
        chain_logs = sum(len(x) for _a, _b, x in iter_windows(
            rpc, lo, hi, addresses=sorted(by_address()), window=window, max_window=1_000_000))
    out = []
    for a in addrs:
        link = None
        if a in with_rows:
            answer = a
        else:
            link = proxies.first_with_rows(links[a], lambda ps: with_rows & set(ps))
            answer = link.proxy if link else None
        fig = WalletFigures(a, answer, link, fetch=f.record, from_block=lo, to_block=hi, chain_logs=chain_logs,
                            notes=scan_notes + report.warnings())
        if answer is not None:
            tot, fig.markets = read_figures(client, answer, explain=explain)
            for k, v in tot.items():
                setattr(fig, k, v)
        out.append(fig)
    return out


# ---- Polymarket's /positions --------------------------------------------------------------------------------------

_POSITION_FIELDS = ("proxyWallet", "asset", "conditionId", "size", "avgPrice", "initialValue", "currentValue",
                    "cashPnl", "realizedPnl", "curPrice")


@dataclass(frozen=True)
class Position:
    """One row of the data API's ``/positions`` (money in micro-USDC, shares in micro-units, prices in
    micro-USDC per share, rounded half-even from the API's decimal numbers)."""

    proxy_wallet: str
    asset: int
    condition_id: str
    size: int
    avg_price: int
    initial_value: int
    current_value: int
    cash_pnl: int
    realized_pnl: int
    cur_price: int
    title: str = ""
    outcome: str = ""
    redeemable: bool = False

    @property
    def pnl(self) -> int:
        return self.cash_pnl + self.realized_pnl


def _micro(v, where: str) -> int:
    try:
        d = Decimal(str(v))
    except (InvalidOperation, ValueError):
        raise CheckWalletError(f"{where}: {v!r} is not a number") from None
    if not d.is_finite():
        raise CheckWalletError(f"{where}: {v!r} is not a finite number")
    return int((d * 10**6).to_integral_value())


def parse_positions(data, source: str) -> list[Position]:
    """The data API's ``/positions`` answer (a JSON array of objects); a bad row names ``source`` and its index."""
    if not isinstance(data, list):
        raise CheckWalletError(f"{source}: expected a JSON array of positions, got {type(data).__name__}")
    out = []
    for i, r in enumerate(data):
        where = f"{source}: position #{i}"
        if not isinstance(r, dict):
            raise CheckWalletError(f"{where}: not an object")
        missing = [k for k in _POSITION_FIELDS if k not in r]
        if missing:
            raise CheckWalletError(f"{where}: missing {', '.join(missing)}")
        try:
            asset = int(str(r["asset"]))
        except ValueError:
            raise CheckWalletError(f"{where}: asset {r['asset']!r} is not a token id") from None
        cid = str(r["conditionId"]).lower()
        if not (cid.startswith("0x") and len(cid) == 66):
            raise CheckWalletError(f"{where}: conditionId {r['conditionId']!r} is not 0x + 64 hex digits")
        out.append(Position(str(r["proxyWallet"]).lower(), asset, cid,
                            *(_micro(r[k], f"{where}: {k}") for k in _POSITION_FIELDS[3:]),
                            title=str(r.get("title") or ""), outcome=str(r.get("outcome") or ""),
                            redeemable=bool(r.get("redeemable"))))
    return out


def load_positions(path: str | Path) -> list[Position]:
    p = Path(path)
    try:
        data = json.loads(p.read_text())
    except OSError as exc:
        raise CheckWalletError(f"{p}: cannot read ({exc.strerror or exc})") from None
    except json.JSONDecodeError as exc:
        raise CheckWalletError(f"{p}: not JSON ({exc.msg} at line {exc.lineno})") from None
    return parse_positions(data, str(p))


def fetch_positions(base_url: str, user: str, *, page: int = 500, timeout: float = 30.0) -> list[Position]:
    """GET {base_url}/positions?user=...&sizeThreshold=0, page by page (limit / offset), as the data API serves.
    Each page has a total deadline (2 x ``timeout``): a server trickling its answer cannot hold the check."""
    import requests

    from harness.deadline import DeadlineExceeded, within
    from harness.errors import redact, redact_url

    out: list[Position] = []
    offset = 0
    while True:
        try:
            def get(offset=offset):
                resp = requests.get(f"{base_url.rstrip('/')}/positions", timeout=timeout,
                                    params={"user": user, "sizeThreshold": 0, "limit": page, "offset": offset})
                resp.raise_for_status()
                return resp.json()

            data = within(2 * timeout, get, "data API /positions")
        except (requests.RequestException, ValueError, DeadlineExceeded) as exc:
            raise CheckWalletError(f"data API {redact_url(base_url)}: {type(exc).__name__}: "
                                   f"{redact(str(exc))[:300]}") from None
        rows = parse_positions(data, f"{redact_url(base_url)}/positions offset {offset}")
        out += rows
        if len(rows) < page:
            return out
        offset += page


@dataclass
class PositionCheck:
    """Polymarket's position beside ours: size, average price and P&L (realized + unrealized, average cost)."""

    position: Position
    size: int | None  # ours, None when we hold no such token
    avg_price: int | None
    pnl: int | None
    ok: bool
    problems: tuple[str, ...] = ()


def _within(ours: int, theirs: int, tolerance_pct: Decimal) -> bool:
    d = abs(ours - theirs)
    return d <= CENT or Decimal(d) * 100 <= tolerance_pct * abs(Decimal(theirs))


def compare_positions(fig: WalletFigures, positions: list[Position], tolerance_pct: Decimal) -> list[PositionCheck]:
    """Each of Polymarket's positions against our average-cost book of its token (size against the shares held).
    Our position P&L: the token's realized + tracked shares x (mark - average price)."""
    by_token = {o.token_id: (m, o) for m in fig.markets for o in m.outcomes}
    out = []
    for p in positions:
        hit = by_token.get(p.asset)
        if hit is None:
            chk = PositionCheck(p, None, None, None, False, ("no such position in the wallet's logs",))
        else:
            m, o = hit
            mark = o.mark if o.mark is not None else 0
            pnl = o.realized + o.tracked * (mark - o.avg_price) // 10**6
            problems = tuple(f"{name}: ours {micros_to_decimal(a)} vs Polymarket {micros_to_decimal(b)}"
                             for name, a, b in (("size", o.shares, p.size), ("avgPrice", o.avg_price, p.avg_price),
                                                ("pnl", pnl, p.pnl))
                             if not _within(a, b, tolerance_pct))
            chk = PositionCheck(p, o.shares, o.avg_price, pnl, not problems, problems)
            m.polymarket.append(chk)
        out.append(chk)
    return out


# ---- output -------------------------------------------------------------------------------------------------------


def _usd(micros: int | None) -> str:
    return "" if micros is None else micros_to_decimal(int(micros))


def to_json(fig: WalletFigures, checks: list[PositionCheck] | None = None) -> dict:
    """The machine-readable result: money as decimal strings with 6 places, as in the API."""
    def market(m: Market) -> dict:
        return {
            "condition_id": m.condition_id, "status": "resolved" if m.resolved else "open",
            "shares": {str(o.outcome_index): _usd(o.shares) for o in m.outcomes if o.shares},
            "outcomes": [{"outcome_index": o.outcome_index, "token_id": str(o.token_id), "shares": _usd(o.shares),
                          "tracked_shares": _usd(o.tracked), "avg_price": _usd(o.avg_price),
                          "realized": _usd(o.realized), "mark": _usd(o.mark)} for o in m.outcomes],
            "cost": _usd(m.cost),
            "cash_flow": {"cashflow": _usd(m.cashflow), "value": _usd(m.value), "pnl": _usd(m.cf_pnl)},
            "average_cost": {"realized": _usd(m.ac_realized), "unrealized": _usd(m.ac_unrealized),
                             "pnl": _usd(m.ac_pnl)},
            "explain": list(m.reasons),
            "polymarket": [_check_json(c) for c in m.polymarket],
        }

    out = {
        "wallet": fig.wallet, "proxy": fig.proxy,
        "resolved_from": None if fig.link is None else {"owner": fig.link.owner, "proxy": fig.link.proxy,
                                                        "kind": fig.link.kind, "source": fig.link.source},
        "cash_flow": {"realized": _usd(fig.realized), "unrealized": _usd(fig.unrealized), "total": _usd(fig.total)},
        "average_cost": {"realized": _usd(fig.ui_realized), "unrealized": _usd(fig.ui_unrealized),
                         "total": _usd(fig.ui_total)},
        "markets": [market(m) for m in fig.markets],
        "logs_fetched": fig.fetch.logs_fetched,
        "fetch_steps": fig.fetch.steps, "receipts": fig.fetch.receipts, "seconds": round(fig.fetch.seconds, 3),
        "blocks": [fig.from_block, fig.to_block], "notes": fig.notes,
    }
    if fig.chain_logs is not None:
        out["chain_logs"] = fig.chain_logs
    if checks is not None:
        out["positions"] = [_check_json(c) for c in checks]
        out["within_tolerance"] = all(c.ok for c in checks)
    return out


def _check_json(c: PositionCheck) -> dict:
    p = c.position
    return {"asset": str(p.asset), "condition_id": p.condition_id, "title": p.title, "outcome": p.outcome,
            "polymarket": {"size": _usd(p.size), "avgPrice": _usd(p.avg_price), "pnl": _usd(p.pnl),
                           "cashPnl": _usd(p.cash_pnl), "realizedPnl": _usd(p.realized_pnl),
                           "curPrice": _usd(p.cur_price)},
            "ours": {"size": _usd(c.size), "avgPrice": _usd(c.avg_price), "pnl": _usd(c.pnl)},
            "ok": c.ok, "problems": list(c.problems)}


def render_table(fig: WalletFigures, checks: list[PositionCheck] | None = None) -> str:
    """The per-market table: shares, average price, cost, value and both P&Ls (Polymarket's beside, with the
    oracle's explanation of a market whose figures differ)."""
    who = fig.wallet if fig.proxy in (None, fig.wallet) else f"{fig.wallet} -> proxy {fig.proxy} ({fig.link.kind})"
    lines = [f"wallet {who}: blocks {fig.from_block}..{fig.to_block}"]
    if fig.proxy is None:
        lines.append("no P&L rows: neither the address nor a proxy of it has a position in these blocks")
    head = f"{'market':<14} {'status':<8} {'shares':>16} {'avg price':>10} {'cost':>16} {'value':>16} " \
           f"{'P&L cash-flow':>16} {'P&L avg-cost':>16}"
    if checks is not None:
        head += f" {'Polymarket P&L':>16}  ok"
    lines.append(head)
    for m in fig.markets:
        held = [o for o in m.outcomes if o.shares or o.tracked]
        shares = "/".join(f"{o.outcome_index}:{Decimal(o.shares) / 10**6:,.2f}" for o in held) or "0"
        avg = "/".join(f"{Decimal(o.avg_price) / 10**6:.6f}" for o in held if o.tracked) or "-"
        row = (f"{m.condition_id[:12] + '..':<14} {'resolved' if m.resolved else 'open':<8} {shares:>16} {avg:>10} "
               f"{_usd(m.cost):>16} {_usd(m.value):>16} {_usd(m.cf_pnl):>16} {_usd(m.ac_pnl):>16}")
        if checks is not None:
            pm = sum(c.position.pnl for c in m.polymarket) if m.polymarket else None
            row += f" {_usd(pm) if pm is not None else '-':>16}  " + (
                "-" if not m.polymarket else "yes" if all(c.ok for c in m.polymarket) else "NO")
        lines.append(row)
        if checks is not None and any(not c.ok for c in m.polymarket):
            for c in m.polymarket:
                lines += [f"    {c.position.outcome or c.position.asset}: {p}" for p in c.problems]
            lines += [f"    why (cash-flow vs average-cost): {r}" for r in m.reasons or ("no method difference",)]
    if checks is not None:
        for c in checks:
            if c.size is None:
                lines.append(f"Polymarket position not found here: {c.position.condition_id[:12]}.. asset "
                             f"{str(c.position.asset)[:16]}.. {c.position.title!r} P&L {_usd(c.position.pnl)}")
    lines.append(f"cash-flow:    realized {_usd(fig.realized)}  unrealized {_usd(fig.unrealized)}  "
                 f"total {_usd(fig.total)}")
    lines.append(f"average-cost: realized {_usd(fig.ui_realized)}  unrealized {_usd(fig.ui_unrealized)}  "
                 f"total {_usd(fig.ui_total)}")
    chain = f" (the chain holds {fig.chain_logs:,} logs of the known contracts over the range)" \
        if fig.chain_logs is not None else ""
    lines.append(f"logs fetched: {fig.fetch.logs_fetched:,}{chain}, {fig.fetch.receipts} receipts, "
                 f"{fig.fetch.seconds:.1f} s")
    lines += [f"note: {n}" for n in fig.notes]
    if checks is not None:
        bad = sum(not c.ok for c in checks)
        lines.append(f"Polymarket positions: {len(checks)} compared, {bad} outside tolerance")
    return "\n".join(lines)


# ---- the validate stage: reference wallets the warehouse has no rows for ---------------------------------------


@contextmanager
def scratch_database(settings=None) -> Iterator[Client]:
    """An empty database with the schema, dropped afterwards: beside an embedded warehouse, a new database in its
    directory (chDB opens one directory per process); otherwise an embedded one in a temporary directory."""
    import secrets
    import shutil
    import tempfile
    from dataclasses import replace

    from harness.warehouse.schema import apply_schema
    from harness.warehouse import WarehouseSettings, connect, drop_database

    tmp = None
    if settings is not None and settings.backend == "embedded":
        s = replace(settings, database=f"check_wallet_{secrets.token_hex(4)}")
    else:
        tmp = Path(tempfile.mkdtemp(prefix="check-wallet-"))
        s = WarehouseSettings(backend="embedded", path=tmp, database="check_wallet")
    client = connect(s)
    try:
        apply_schema(client)
        yield client
    finally:
        try:
            drop_database(client, s.database)
        finally:
            if tmp is not None:
                shutil.rmtree(tmp, ignore_errors=True)


@dataclass
class ReferenceCheck:
    """One wallets.yaml wallet judged on its metric, and which path computed it: ``warehouse`` (its rows) or
    ``check-wallet`` (its own logs on a scratch database); per-position checks when it names a positions file."""

    check: object  # harness.gates.wallets.WalletCheck
    path: str
    figures: WalletFigures | None = None
    positions: list[PositionCheck] | None = None

    @property
    def positions_ok(self) -> bool:
        return self.positions is None or all(c.ok for c in self.positions)

    def detail(self) -> dict:
        out = {"path": self.path}
        if self.figures is not None:
            out.update(proxy=self.figures.proxy, logs_fetched=self.figures.fetch.logs_fetched,
                       blocks=[self.figures.from_block, self.figures.to_block], markets=len(self.figures.markets))
        if self.positions is not None:
            out["positions"] = [_check_json(c) for c in self.positions]
        return out


def metric_value(fig: WalletFigures, metric: str) -> int | None:
    """A wallets.yaml metric (total, realized, unrealized, ui_total, ui_realized) of the figures; None when no
    address had rows."""
    if fig.proxy is None:
        return None
    return int(getattr(fig, metric))


def check_reference_wallet(settings, rpc: RpcClient | str, wallet, **kw) -> ReferenceCheck:
    """check-wallet for one wallets.yaml wallet (up to the last block at or before its ``as_of``), judged on its
    metric, and compared per position when it names a ``positions`` file."""
    from harness.gates.wallets import judge

    rpc = rpc if isinstance(rpc, RpcClient) else RpcClient(rpc)
    to_block = None
    if wallet.as_of_ts is not None:
        to_block = min(rpc.block_number(), rpc.last_block_at_or_before(wallet.as_of_ts))
    with scratch_database(settings) as scratch:
        fig = check_wallet(scratch, rpc, wallet.address, to_block=to_block, **kw)
    positions = (compare_positions(fig, load_positions(wallet.positions), wallet.tolerance_pct)
                 if wallet.positions else None)
    return ReferenceCheck(judge(wallet, metric_value(fig, wallet.metric)), "check-wallet", fig, positions)


def warehouse_positions(client: Client, wallet, *, suffix: str = "") -> list[PositionCheck] | None:
    """A wallet with rows in the warehouse, compared per position with its ``positions`` file (None without)."""
    if not wallet.positions:
        return None
    fig = WalletFigures(wallet.address, wallet.address, None)
    _tot, fig.markets = read_figures(client, wallet.address, suffix=suffix)
    return compare_positions(fig, load_positions(wallet.positions), wallet.tolerance_pct)
