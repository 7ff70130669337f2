"""The API's warehouse access: a pool lending each client to one thread at a time, and the reads the routes make,
with the short-lived caches that keep a steady request to one query. A failure of the warehouse (not of the
request) is WarehouseUnavailable, which the app answers with 503 and a one-line, redacted reason."""
from __future__ import annotations

import contextlib
import queue
import re
import threading
import time
from collections.abc import Callable, Iterator

from harness import gates
from harness.chain import proxies
from harness.errors import HarnessError, redact
from harness.warehouse.sql import load

SUMMARY_VIEW = "wallet_pnl_summary_final"
MARKET_VIEW = "realized_pnl_by_market_final"


class WarehouseUnavailable(HarnessError, RuntimeError):
    """A query failed for reasons of the warehouse, not the request: answered with 503."""


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


class Warehouse:
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
