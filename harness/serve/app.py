"""Read-only P&L HTTP API and dashboard over the final views.

The API serves what the warehouse says and never recomputes P&L: the views own the formula. Money leaves as exact
decimal strings made from integer micro-USDC, so no client ever sees a float. ``create_app`` takes a client
factory and a view suffix, so the dry run can point the same code at the ``_test`` views before a deploy.
"""
from __future__ import annotations

import contextlib
import queue
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Literal

from fastapi import FastAPI, Query
from fastapi import Path as PathParam
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field

from harness import gates
from harness.chain import proxies
from harness.errors import HarnessError, redact
from harness.warehouse.sql import load

STATIC_DIR = Path(__file__).resolve().parent / "static"
ADDRESS_PATTERN = r"^0[xX][0-9a-fA-F]{40}$"
MONEY_PATTERN = r"^-?[0-9]+\.[0-9]{6}$"
MICROS = 1_000_000
SUMMARY_VIEW = "wallet_pnl_summary_final"
MARKET_VIEW = "realized_pnl_by_market_final"
_SUFFIX = re.compile(r"^[A-Za-z0-9_]{0,32}$")


class WarehouseUnavailable(HarnessError, RuntimeError):
    """A query failed for reasons of the warehouse, not the request: answered with 503."""


# ---------------------------------------------------------------- money


def micros_to_decimal(value: int) -> str:
    """Exact decimal string of a micro-unit integer: -1 -> "-0.000001", 123456789 -> "123.456789"."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"money must be an int of micro-units, got {type(value).__name__} {value!r}")
    whole, frac = divmod(abs(value), MICROS)
    return f"{'-' if value < 0 else ''}{whole}.{frac:06d}"


def normalise_address(address: str) -> str:
    """Lower-case 0x address; ValueError naming the input when it is not 0x + 40 hex."""
    if not re.fullmatch(ADDRESS_PATTERN, address or ""):
        raise ValueError(f"address {address!r} is not 0x followed by 40 hex digits")
    return "0x" + address[2:].lower()


# ---------------------------------------------------------------- warehouse access


class ClientPool:
    """Lends each client to one thread at a time.

    clickhouse-connect clients are not documented as thread-safe (the chDB one locks each query on its handle),
    and FastAPI runs handlers in a thread pool. Size 1 serialises every query on one client; several clients on the
    same chDB path may run queries side by side, which bench/bench_api.py measured as a modest gain on 2 shared
    cores. ``factory`` is called lazily, once per slot; a factory that returns one shared client is also safe.
    """

    def __init__(self, factory: Callable[[], object], size: int = 1, timeout: float = 30.0) -> None:
        if size < 1:
            raise ValueError(f"pool size must be at least 1, got {size}")
        self._factory, self._size, self._timeout = factory, size, timeout
        self._idle: queue.LifoQueue = queue.LifoQueue()
        self._made = 0
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def client(self) -> Iterator[object]:
        try:
            c = self._idle.get_nowait()
        except queue.Empty:
            c = self._make_or_wait()
        try:
            yield c
        finally:
            self._idle.put(c)

    def _make_or_wait(self) -> object:
        with self._lock:
            make = self._made < self._size
            if make:
                self._made += 1
        if not make:
            try:
                return self._idle.get(timeout=self._timeout)
            except queue.Empty:
                raise WarehouseUnavailable(f"no warehouse client free after {self._timeout:.0f} s") from None
        try:
            return self._factory()
        except Exception as exc:
            with self._lock:
                self._made -= 1
            raise WarehouseUnavailable(f"cannot open warehouse: {_one_line(exc)}") from exc


_SQL_START = re.compile(r"(?i)\b(in scope|in query|while executing|select|insert|with|from|where)\b\s")
_CODE_NAME = re.compile(r"\(([A-Z][A-Z0-9_]{3,})\)")


def _one_line(exc: BaseException) -> str:
    """The error's first line for a client: redacted, cut before any SQL text, with ClickHouse's code name."""
    text = redact(str(exc).strip())
    line = text.splitlines()[0] if text else type(exc).__name__
    code = _CODE_NAME.search(text)
    cut = _SQL_START.search(line)
    if cut:
        line = line[:cut.start()].rstrip(" :,;") + " …"
    if code and code.group(1) not in line:
        line += f" ({code.group(1)})"
    return line[:300]


class _Warehouse:
    """Queries through the pool; the watermark is cached briefly because it scans every raw table."""

    def __init__(self, pool: ClientPool, suffix: str, watermark_ttl: float) -> None:
        self.pool = pool
        self.summary_view = SUMMARY_VIEW + suffix
        self.market_view = MARKET_VIEW + suffix
        self._ttl = watermark_ttl
        self._wm: tuple[float, gates.Watermark] | None = None
        self._views_ok = 0.0
        self._times: dict[str, int] = {}  # condition -> resolution time; emptied whenever the watermark is re-read
        self._ui_table = True  # wallet_market_pnl_avgcost exists (checked when the combined read fails)
        self._names: dict[str, tuple | None] = {}  # condition -> names or None (none loaded); emptied with _times
        self._lookups: object = None  # what the two caches were read from (api/lookup_version)

    def rows(self, name: str, **parameters) -> list[tuple]:
        try:
            with self.pool.client() as c:
                return c.query(load(name), parameters=parameters).result_rows
        except WarehouseUnavailable:
            raise
        except Exception as exc:
            raise WarehouseUnavailable(f"query {name} failed: {_one_line(exc)}") from exc

    def ping(self) -> bool:
        """Does the warehouse answer at all (as opposed to answering with an error about missing tables)?"""
        try:
            with self.pool.client() as c:
                return c.query("SELECT 1").result_rows == [(1,)]
        except Exception:  # noqa: BLE001
            return False

    def require_views(self) -> None:
        """The API serves deployed P&L: it answers only while the views it stands for exist (checked at most once
        per watermark TTL), and then reads the rows those views read."""
        if self._views_ok and time.monotonic() - self._views_ok < self._ttl:
            return
        want = [self.summary_view, self.market_view]
        have = {r[0] for r in self.rows("api/views_present", views=want)}
        missing = [v for v in want if v not in have]
        if missing:
            raise WarehouseUnavailable(f"view {missing[0]} does not exist (not deployed yet?)")
        self._views_ok = time.monotonic()

    def resolved_times(self, conditions: list[str]) -> dict[str, int]:
        """Resolution times, cached: a resolved condition's first resolution does not move between rebuilds
        (the cache is emptied when a watermark read sees the watermark or winning_index change, so a rebuild shows
        within one TTL)."""
        cache = self._times  # one dict throughout, even if another thread drops the cache meanwhile
        missing = [c for c in conditions if c not in cache]
        if missing:
            cache.update(self.rows("api/resolved_times", conditions=missing))
        return {c: cache.get(c, 0) for c in conditions}

    def names(self, conditions: list[str]) -> dict[str, tuple[str, str, list[str]]]:
        """condition -> (question, slug, outcome names) from the market_names lookup (ingest-markets), cached like
        resolution times so a steady request makes no names query. Names are optional: a warehouse without the
        table (schema before 091) serves none."""
        cache = self._names  # one dict throughout, even if another thread drops the cache meanwhile
        missing = [c for c in conditions if c not in cache]
        if missing:
            try:
                found = {cid: (q, s, list(o)) for cid, q, s, o in self.rows("api/market_names", conditions=missing)}
            except WarehouseUnavailable:
                found = {}
            cache.update({c: found.get(c) for c in missing})
        return {c: cache[c] for c in conditions if cache.get(c) is not None}

    def pnl_rows(self, wallet: str) -> list[tuple]:
        """wallet_market_pnl rows (ui = 0) and the average-cost totals row (ui = 1) in one query; a warehouse
        without the average-cost table (built before it) gets the cash-flow rows alone."""
        if self._ui_table:
            try:
                return self.rows("api/wallet_pnl_rows", wallet=wallet)
            except WarehouseUnavailable:
                if not self.rows("checks/tables_present", names=["wallet_market_pnl_avgcost"]):
                    self._ui_table = False
                else:
                    raise
        return [(*r, 0) for r in self.rows("api/wallet_market_rows", wallet=wallet)]

    def proxy_for(self, owner: str) -> proxies.ProxyLink | None:
        """The proxy wallet whose P&L answers for ``owner`` (an EOA with no rows of its own), or None."""
        try:
            events = self.rows("queries/proxies_of", owner=owner)
        except WarehouseUnavailable:  # a warehouse from before wallet_proxies: derived proxies only
            events = []
        return proxies.first_with_rows(proxies.proxy_links(owner, events), lambda ws: {
            r[0] for r in self.rows("api/wallets_with_pnl", wallets=ws)})

    def watermark(self) -> gates.Watermark:
        cached = self._wm
        if cached and time.monotonic() - cached[0] < self._ttl:
            return cached[1]
        try:
            with self.pool.client() as c:
                wm = gates.watermark(c)
        except WarehouseUnavailable:
            raise
        except Exception as exc:
            raise WarehouseUnavailable(f"watermark query failed: {_one_line(exc)}") from exc
        self._check_lookups(wm)
        self._wm = (time.monotonic(), wm)
        return wm

    def _check_lookups(self, wm: gates.Watermark) -> None:
        """Empty the resolution-time and names caches when the watermark or the tables they were read from
        changed (a rebuild, ingest-markets): not merely because the TTL passed, which made steady requests keep
        missing them, a query more per miss."""
        try:
            version = (wm, self.rows("api/lookup_version"))
        except WarehouseUnavailable:
            version = None  # cannot tell: empty them, as after any change
        first = self._wm is None  # the caches were filled since start-up, from what this reads
        if version is None or (version != self._lookups and not first):
            self._times, self._names = {}, {}
        self._lookups = version


# ---------------------------------------------------------------- response models

Money = Annotated[str, Field(pattern=MONEY_PATTERN, description="exact decimal USDC (6 places)",
                             examples=["-12.345678"])]
Shares = Annotated[str, Field(pattern=MONEY_PATTERN, description="exact decimal shares (6 places)")]
Address = Annotated[str, PathParam(pattern=ADDRESS_PATTERN, description="wallet, 0x + 40 hex, any case",
                                   examples=["0x00000000000000000000000000000000000000aa"])]


class ProxyOut(BaseModel):
    owner: str = Field(description="the address asked for: the EOA that signs for the proxy")
    proxy: str = Field(description="the proxy wallet whose P&L this is (the response's wallet)")
    kind: Literal["safe", "proxy"] = Field(description="safe: Polymarket SafeProxyFactory; proxy: ProxyWalletFactory")
    source: str = Field(description="how the link is known: the ProxyCreation event, or CREATE2 derivation from "
                                    "the owner (the ProxyWalletFactory emits no event)")


RESOLVED_FROM = Field(default=None, description="set when the address asked for is an EOA with no P&L rows of "
                      "its own and the answer is its proxy wallet's; null otherwise")


class WatermarkOut(BaseModel):
    block: int = Field(description="highest block ingested")
    time: int = Field(description="its unix time")
    time_iso: str


class MarketOut(BaseModel):
    condition_id: str
    status: Literal["resolved", "open"]
    cashflow: Money
    value: Money = Field(description="resolved: payout value of the shares; open: shares marked to price")
    pnl: Money
    resolved_time: int | None = Field(description="unix time of resolution; null for open markets")
    question: str | None = Field(default=None, description="the market's question (Gamma metadata, "
                                 "ingest-markets); null when unknown")
    slug: str | None = Field(default=None, description="the market's Gamma slug; null when unknown")
    outcomes: list[str] | None = Field(default=None, description="outcome names by outcome index; null when unknown")


class UiPnlOut(BaseModel):
    method: Literal["average_cost"] = "average_cost"
    label: str = Field(default="Polymarket UI (average cost)",
                       description="what these figures are: Polymarket's pnl-subgraph average-cost P&L")
    realized: Money = Field(description="realized on sells, merges and redemptions at the average cost")
    unrealized: Money = Field(description="tracked shares x (price or payout - average cost)")
    total: Money


class PnlOut(BaseModel):
    wallet: str
    method: Literal["cash_flow"] = Field(default="cash_flow",
                                         description="realized / unrealized / total are cash-flow P&L (the plan's)")
    realized: Money = Field(description="P&L of resolved markets")
    unrealized: Money = Field(description="P&L of open markets marked to the current price")
    total: Money
    ui: UiPnlOut | None = Field(default=None, description="the same wallet by Polymarket UI's average-cost method; "
                                "null when the warehouse has no average-cost rows for it")
    markets_resolved: int
    markets_open: int
    markets_total: int = Field(description="rows in the breakdown before the limit")
    markets: list[MarketOut]
    watermark: WatermarkOut
    resolved_from: ProxyOut | None = RESOLVED_FROM


class TimelinePoint(BaseModel):
    time: int
    kind: Literal["resolved", "open"]
    condition_id: str | None = Field(description="the market resolved at this time; null for the open-markets point")
    question: str | None = Field(default=None, description="that market's question; null when unknown")
    pnl: Money
    cumulative: Money


class TimelineOut(BaseModel):
    wallet: str
    points: list[TimelinePoint] = Field(
        description="realized P&L accumulated in order of resolution, then one point adding the unrealized P&L of "
                    "open markets at the watermark time")
    watermark: WatermarkOut
    resolved_from: ProxyOut | None = RESOLVED_FROM


class HealthOut(BaseModel):
    status: Literal["ok", "stale", "unavailable"]
    warehouse_reachable: bool
    watermark: WatermarkOut | None
    data_age_seconds: int | None
    detail: str


Window = Literal["1d", "7d", "30d", "all"]
Metric = Literal["total", "realized", "ui_total", "volume"]
LEADERBOARD_DOC = """Wallets ranked by P&L, best first, from the build's pre-ranked table (wallet_leaderboard), which is
made from the same rows as the final views.

**window** (the period ends at `as_of`: the newest ingested block's time, or the build's cutoff when earlier):
- `all`: every market; `total` and `realized` equal wallet_pnl_summary_final's total_pnl / realized_pnl and
  `ui_total` equals ui_wallet_pnl_summary's ui_total_pnl.
- `1d` / `7d` / `30d`: the markets **resolved** in the 1 / 7 / 30 days ending at `as_of`. `realized` is their cash-flow P&L
  (a wallet with no market resolved in the period is not listed); `total` adds the unrealized P&L of the wallet's
  markets that are still open (marked to the current price); `ui_total` is the average-cost P&L of the same
  markets (resolved in the period, or open).

It is not the change of P&L over the period: positions are not revalued at the period's start (the warehouse
keeps prices as of the build only).

**metric**: `total` and `realized` are cash-flow P&L (the plan's), `ui_total` Polymarket UI's average-cost
P&L, `volume` the collateral of the wallet's order-book fills as maker (FPMM trades not counted) in the
window by the hour of the fill (`1d` / `7d` / `30d`: hours ending in the last 1 / 7 / 30 days). Ties rank by wallet
address. `GET /leaderboard/rank/{address}` gives one wallet's rank."""


class LeaderRowOut(BaseModel):
    rank: int = Field(description="1 = best")
    wallet: str
    pnl: Money = Field(description="the metric's value (for metric=volume: the volume); same as value")
    value: Money = Field(description="the metric's value: P&L, or volume for metric=volume")


class LeaderboardOut(BaseModel):
    window: Window
    metric: Metric
    as_of: int | None = Field(description="unix time the windows end at; null when nothing is built yet")
    as_of_iso: str | None
    rows: list[LeaderRowOut]


class ErrorOut(BaseModel):
    error: str = Field(description="short machine-readable kind, e.g. wallet_not_found")
    detail: str


class ValidationErrorOut(BaseModel):
    error: Literal["invalid_request"]
    detail: list[dict] = Field(description="FastAPI's validation errors: location, message, input")


ERRORS = {404: {"model": ErrorOut, "description": "wallet unknown to the warehouse"},
          422: {"model": ValidationErrorOut, "description": "malformed address or parameter"},
          503: {"model": ErrorOut, "description": "warehouse unreachable or failing"}}


class _NotFound(Exception):
    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


def _wm_out(wm: gates.Watermark) -> WatermarkOut:
    iso = datetime.fromtimestamp(wm.time, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return WatermarkOut(block=wm.block, time=wm.time, time_iso=iso)


def _names_out(found: tuple[str, str, list[str]] | None) -> dict:
    """question / slug / outcomes of a market row: null when the market has no metadata or Gamma left it empty."""
    if not found:
        return {}
    q, s, o = found
    return {"question": q or None, "slug": s or None, "outcomes": list(o) or None}


def _position_names(found: tuple[str, str, list[str]] | None, outcome_index: int) -> dict:
    if not found:
        return {}
    q, s, o = found
    return {"question": q or None, "slug": s or None,
            "outcome": o[outcome_index] or None if outcome_index < len(o) else None}


def timeline_points(markets: list[tuple]) -> list[tuple[int | None, str, str | None, int, int]]:
    """(time, kind, condition_id, pnl, cumulative) in micro-USDC, from wallet_markets rows; open point time None."""
    resolved = sorted((int(t), cid, int(pnl)) for cid, status, _cf, _v, pnl, t in markets if status == "resolved")
    out, running = [], 0
    for t, cid, pnl in resolved:
        running += pnl
        out.append((t, "resolved", cid, pnl, running))
    open_pnl = sum(int(r[4]) for r in markets if r[1] == "open")
    if any(r[1] == "open" for r in markets):
        out.append((None, "open", None, open_pnl, running + open_pnl))
    return out


# ---------------------------------------------------------------- the app


def create_app(
    client_factory: Callable[[], object], view_suffix: str = "", *, pool_size: int = 1,
    watermark_ttl: float = 5.0, stale_after_seconds: int = 2 * 86400,
) -> FastAPI:
    """The API over ``<view><view_suffix>``; ``client_factory()`` is called lazily, once per pool slot."""
    if not _SUFFIX.match(view_suffix):
        raise ValueError(f"view_suffix {view_suffix!r}: letters, digits and _ only")
    wh = _Warehouse(ClientPool(client_factory, pool_size), view_suffix, watermark_ttl)
    app = FastAPI(title="polymarket-pnl-harness P&L API", version="1", docs_url=None, redoc_url=None,
                  description="Read-only wallet P&L from the final views. Money is exact decimal USDC strings.")
    app.state.warehouse = wh

    @app.exception_handler(WarehouseUnavailable)
    def _unavailable(_request, exc: WarehouseUnavailable) -> JSONResponse:
        return JSONResponse(status_code=503, content={"error": "warehouse_unavailable", "detail": str(exc)})

    @app.exception_handler(_NotFound)
    def _not_found(_request, exc: _NotFound) -> JSONResponse:
        return JSONResponse(status_code=404, content={"error": "wallet_not_found", "detail": exc.detail})

    @app.exception_handler(RequestValidationError)
    def _invalid(_request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse(status_code=422, content={"error": "invalid_request",
                                                      "detail": jsonable_encoder(exc.errors())})

    def answer_for(wallet: str, fetch: Callable[[str], list]) -> tuple[str, list, ProxyOut | None]:
        """(address whose P&L answers, its rows, proxy link): the wallet's own rows; for an address the warehouse
        does not know, its proxy wallet's (404 when it has none with rows)."""
        rows = fetch(wallet)
        if rows or wh.rows("api/wallets_with_pnl", wallets=[wallet]):
            return wallet, rows, None
        link = wh.proxy_for(wallet)
        if link is None:
            known(wallet)  # raises the 404 (or, if the summary view knows it after all, answers with no rows)
            return wallet, rows, None
        return link.proxy, fetch(link.proxy), ProxyOut(owner=link.owner, proxy=link.proxy, kind=link.kind,
                                                       source=link.source)

    def known(wallet: str) -> tuple:
        rows = wh.rows("api/wallet_summary", summary_view=wh.summary_view, wallet=wallet)
        if not rows:
            raise _NotFound(f"wallet {wallet} not found in {wh.summary_view}")
        return rows[0]

    @app.get("/wallets/{address}/pnl", response_model=PnlOut, responses=ERRORS, tags=["wallets"])
    def wallet_pnl(address: Address,
                   limit: Annotated[int, Query(ge=1, le=10000, description="markets to list")] = 1000) -> PnlOut:
        """Realized, unrealized and total P&L with a per-market breakdown (largest absolute P&L first)."""
        wallet = normalise_address(address)
        # One statement (two primary-key ranges, no view planning or join): the per-market rows of
        # wallet_market_pnl, whose sums are what the summary view reports, and the wallet's average-cost totals.
        # Resolution times and names come from caches filled once per condition.
        wh.require_views()
        wm = wh.watermark()  # first: a change it notices empties the per-condition caches before this request
        wallet, rows, link = answer_for(wallet, wh.pnl_rows)
        ui_rows = [r for r in rows if r[5]]
        rows = [r[:5] for r in rows if not r[5]]
        if not rows:
            raise _NotFound(f"wallet {wallet} not found in {wh.summary_view}")
        realized = sum(int(r[4]) for r in rows if r[1])
        unrealized = sum(int(r[4]) for r in rows if not r[1])
        resolved_ids = [r[0] for r in rows if r[1]]
        times = wh.resolved_times(resolved_ids)
        markets = [(cid, "resolved" if res else "open", cf, v, p, times.get(cid, 0) if res else 0)
                   for cid, res, cf, v, p in rows]
        shown = sorted(markets, key=lambda r: (-abs(int(r[4])), r[0], r[1]))[:limit]
        ui = UiPnlOut(realized=micros_to_decimal(int(ui_rows[0][2])), unrealized=micros_to_decimal(int(ui_rows[0][3])),
                      total=micros_to_decimal(int(ui_rows[0][4]))) if ui_rows else None
        n_resolved = len(resolved_ids)
        names = wh.names([r[0] for r in shown])
        return PnlOut(
            wallet=wallet, realized=micros_to_decimal(realized),
            unrealized=micros_to_decimal(unrealized), total=micros_to_decimal(realized + unrealized), ui=ui,
            markets_resolved=n_resolved, markets_open=len(rows) - n_resolved, markets_total=len(markets),
            markets=[MarketOut(condition_id=cid, status=st, cashflow=micros_to_decimal(int(cf)),
                               value=micros_to_decimal(int(v)), pnl=micros_to_decimal(int(p)),
                               resolved_time=int(t) if st == "resolved" and t else None,
                               **_names_out(names.get(cid)))
                     for cid, st, cf, v, p, t in shown],
            watermark=_wm_out(wm), resolved_from=link,
        )

    @app.get("/wallets/{address}/timeline", response_model=TimelineOut, responses=ERRORS, tags=["wallets"])
    def wallet_timeline(address: Address) -> TimelineOut:
        """Cumulative P&L over time, for the dashboard chart."""
        wallet = normalise_address(address)
        # 404 unless the summary view knows it (then: a wallet with no markets, empty chart) or it owns a proxy
        wallet, markets, link = answer_for(
            wallet, lambda w: wh.rows("api/wallet_markets", market_view=wh.market_view, wallet=w))
        wm = wh.watermark()
        points, last = [], 0
        rows = timeline_points(markets)
        names = wh.names([r[2] for r in rows if r[2]])
        for t, kind, cid, pnl, cum in rows:
            last = max(last, t) if t is not None else max(last, wm.time)
            points.append(TimelinePoint(time=last if t is None else t, kind=kind, condition_id=cid,
                                        question=_names_out(names.get(cid)).get("question"),
                                        pnl=micros_to_decimal(pnl), cumulative=micros_to_decimal(cum)))
        return TimelineOut(wallet=wallet, points=points, watermark=_wm_out(wm), resolved_from=link)

    @app.get("/leaderboard", response_model=LeaderboardOut, responses={422: ERRORS[422], 503: ERRORS[503]},
             tags=["wallets"], description=LEADERBOARD_DOC, summary="Wallets ranked by P&L or volume")
    def leaderboard(window: Annotated[Window, Query(description="all, or the last 1d / 7d / 30d")] = "all",
                    metric: Annotated[Metric, Query(description="total, realized (cash flow), ui_total "
                                                                "(average cost) or volume")] = "total",
                    limit: Annotated[int, Query(ge=1, le=1000, description="rows to return")] = 100) -> LeaderboardOut:
        rows = wh.rows("api/leaderboard", period=window, metric=metric, limit=limit)
        as_of = int(rows[0][2]) if rows else None
        return LeaderboardOut(
            window=window, metric=metric, as_of=as_of,
            as_of_iso=None if as_of is None else datetime.fromtimestamp(as_of, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            rows=[LeaderRowOut(rank=i, wallet=w, pnl=micros_to_decimal(int(p)), value=micros_to_decimal(int(p)))
                  for i, (w, p, _) in enumerate(rows, 1)])

    @app.get("/wallets/{address}/pnl.csv", response_class=Response, tags=["wallets"],
             responses={200: {"content": {"text/csv": {}}, "description": "header row, then one row per market"},
                        404: ERRORS[404], 422: ERRORS[422], 503: ERRORS[503]})
    def wallet_pnl_csv(address: Address) -> Response:
        """One row per market (resolved and open) with exact decimal USD strings: the pnl_usd column sums to the
        wallet's total. An EOA with no rows of its own is answered with its proxy wallet's rows (the wallet
        column names the proxy; the X-Resolved-From header the address asked for)."""
        from harness.serve import export

        wallet = normalise_address(address)
        wallet, rows, link = answer_for(
            wallet, lambda w: wh.rows("api/wallet_markets", market_view=wh.market_view, wallet=w))
        headers = {"Content-Disposition": f'attachment; filename="pnl-{wallet}.csv"'}
        if link is not None:
            headers["X-Resolved-From"] = link.owner
        return Response(export.to_csv(export.market_rows(rows, wallet)), media_type="text/csv; charset=utf-8",
                        headers=headers)

    @app.get("/health", response_model=HealthOut, responses={503: {"model": HealthOut}}, tags=["ops"])
    def health() -> HealthOut | JSONResponse:
        """Is the warehouse reachable, and how old is the newest block in it?"""
        try:
            wm = wh.watermark()
        except WarehouseUnavailable as exc:
            body = HealthOut(status="unavailable", warehouse_reachable=wh.ping(), watermark=None,
                             data_age_seconds=None, detail=str(exc))
            return JSONResponse(status_code=503, content=body.model_dump())
        if wm.block == 0:
            return HealthOut(status="stale", warehouse_reachable=True, watermark=_wm_out(wm),
                             data_age_seconds=None, detail="no blocks ingested")
        age = max(0, int(time.time()) - wm.time)
        stale = age > stale_after_seconds
        return HealthOut(status="stale" if stale else "ok", warehouse_reachable=True, watermark=_wm_out(wm),
                         data_age_seconds=age,
                         detail=f"newest block {wm.block} is {age} s old"
                                + (f" (more than {stale_after_seconds} s)" if stale else ""))

    @app.get("/", include_in_schema=False)
    def dashboard() -> FileResponse:
        return FileResponse(STATIC_DIR / "index.html", media_type="text/html")

    from harness.serve import Routes, include_routes  # positions, history, activity, rank, offline /docs

    include_routes(app, Routes(wh, answer_for))
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    return app


# ---------------------------------------------------------------- serving

@dataclass
class Served:
    """A running background server: ``url`` to call it, ``stop()`` to end it (also a context manager)."""

    url: str
    server: object = field(repr=False)
    thread: threading.Thread = field(repr=False)

    def stop(self, timeout: float = 10.0) -> None:
        self.server.should_exit = True
        self.thread.join(timeout)

    def __str__(self) -> str:
        return self.url

    def __enter__(self) -> Served:  # noqa: PYI034 - a dataclass, not subclassed
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def serve(app_or_factory: FastAPI | Callable[[], object], view_suffix: str = "", *, host: str = "127.0.0.1",
          port: int = 0, timeout: float = 20.0) -> Served:
    """Start uvicorn in a daemon thread on ``host:port`` (0 = any free port); return once it accepts connections.

    Takes an app, or a client factory (then the app is ``create_app(factory, view_suffix)``).
    """
    import uvicorn

    app = app_or_factory if isinstance(app_or_factory, FastAPI) else create_app(app_or_factory, view_suffix)
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    bound = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name=f"api-{bound}", daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            sock.close()
            raise RuntimeError(f"API server on {host}:{bound} did not start within {timeout:.0f} s")
        time.sleep(0.02)
    return Served(f"http://{'[' + host + ']' if ':' in host else host}:{bound}", server, thread)


# ---------------------------------------------------------------- CLI
