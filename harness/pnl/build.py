"""Rebuild the derived P&L tables and create the final views.

Every rebuild writes ``<table>_new`` for all derived tables first and swaps them in with ``EXCHANGE TABLES``
only when all are complete, so a failure anywhere leaves the live tables as they were and no ``_new`` behind.
The incremental form recomputes only the conditions whose rows can have changed and carries every other row over
without copying it: the recomputed conditions' rows are computed first into small per-run delta tables (so the
re-marking steps read only those), then each build table starts as hard links to the live table's parts, the
recomputed conditions' rows are masked (lightweight DELETE, by a 4-byte condition_key where the table has one) and
the delta inserted; the swap is the same.
One writer at a time per database (harness.warehouse.lease): a rebuild holds the writer lease, names its build tables
``<table>_new_<run id>`` so no two runs ever share one, and drops the build tables crashed runs left behind.
"""
from __future__ import annotations

import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from string import Template

from clickhouse_connect.driver.client import Client

from harness.config import FINAL_VIEWS
from harness.errors import HarnessError, UsageError, check_span
from harness.pnl.rows import collateral_adapters, excluded_addresses
from harness.warehouse import lease, sql

#: Build order matters: wallet_unrealized_pnl_v2 reads the first four ``_new`` tables, wallet_market_pnl (what the
#: final views read, one row per wallet and condition) reads them all.
DERIVED_TABLES = ("outcome_positions_v2", "trade_cashflows_v3", "winning_index", "market_prices",
                  "wallet_unrealized_pnl_v2", "wallet_market_pnl", "wallet_token_avgcost", "wallet_market_pnl_avgcost",
                  "wallet_pnl_flows", "price_history", "wallet_leaderboard")
PRICE_COLUMNS = "(condition_id, outcome_index, price_micros, as_of, source)"
VIEWS = FINAL_VIEWS
#: Average-cost (UI-comparable) P&L per wallet, read from wallet_market_pnl_avgcost.
UI_VIEW = "ui_wallet_pnl_summary"
#: Tables read from raw rows per condition by rebuild_range (wallet_market_pnl's resolved rows are also redone per
#: condition; winning_index and wallet_unrealized_pnl_v2 are rebuilt whole).
_PER_CONDITION = {"outcome_positions_v2": "build/outcome_positions", "trade_cashflows_v3": "build/trade_cashflows"}
#: rebuild_range: tables recomputed from raw rows for the touched conditions, then re-marked from those, per
#: condition. Their recomputed rows go to a small ``<table>_delta_<run>`` first, so the re-marking steps read only
#: the delta (not the wallet-ordered build tables, where a condition filter is a full scan).
_RECOMPUTED = {"outcome_positions_v2": "build/outcome_positions", "trade_cashflows_v3": "build/trade_cashflows",
               "wallet_token_avgcost": "build/wallet_token_avgcost", "wallet_pnl_flows": "build/wallet_pnl_flows"}
_REMARKED = {"wallet_unrealized_pnl_v2": "build/wallet_unrealized", "wallet_market_pnl": "build/wallet_market_pnl",
             "wallet_market_pnl_avgcost": "build/wallet_market_pnl_avgcost"}
#: The per-condition tables: each has a delta table per run and a condition_key column (schema 160-166), by which
#: the incremental rebuild masks the recomputed conditions' rows.
_DELTA = (*_RECOMPUTED, *_REMARKED)
PREVIEW_SUFFIX = "_build"  # views `harness build` makes for a look before deploying (never the final names)
NO_CUTOFF = 2**40  # far beyond any DateTime: "no cutoff" as a bindable UInt64
_SUFFIX = re.compile(r"^[A-Za-z0-9_]{0,40}$")


#: The unpriced-open threshold: a build whose open positions without any price (valued at 0) hold more than this
#: percentage of all open shares fails the backfill gate (shares bound the value: a share is worth at most 1 USDC).
UNPRICED_MAX_PCT = 1.0


class BuildError(HarnessError, RuntimeError):
    """A rebuild step failed; the live tables are unchanged (the message names the step)."""


@dataclass(frozen=True)
class Unmapped:
    """Fills and transfers whose token is not in token_map (so no P&L row can hold them)."""

    fills: int = 0
    transfers: int = 0
    tokens: int = 0
    first_tokens: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.fills or self.transfers)

    def __str__(self) -> str:
        return (f"{self.fills} fills and {self.transfers} transfers use {self.tokens} token ids missing from "
                f"token_map (first: {', '.join(self.first_tokens)})")


@dataclass(frozen=True)
class Unpriced:
    """Open positions whose outcome has no price (no fill, no import): valued at 0."""

    positions: int = 0
    outcomes: int = 0
    shares: int = 0  # micro-units; at most this many micro-USDC of value is missing
    open_shares: int = 0

    @property
    def pct(self) -> float:
        return 100.0 * self.shares / self.open_shares if self.open_shares else 0.0

    @property
    def too_much(self) -> bool:
        return self.pct > UNPRICED_MAX_PCT

    def __str__(self) -> str:
        return (f"{self.positions} open positions in {self.outcomes} outcomes have no price (valued at 0): "
                f"{self.shares / 1e6:,.2f} shares, up to {self.shares / 1e6:,.2f} USDC, {self.pct:.2f}% of open "
                f"shares (gate threshold {UNPRICED_MAX_PCT}%)")


def unmapped_tokens(client: Client, cutoff: int | None = None) -> Unmapped:
    """Fills and transfers up to ``cutoff`` whose token token_map does not know, with the first token ids."""
    c = NO_CUTOFF if cutoff is None else int(cutoff)
    f, t, n, first = client.query(sql.load("checks/unmapped_tokens"), parameters={"cutoff": c}).result_rows[0]
    return Unmapped(int(f), int(t), int(n), tuple(first))


def unpriced_open(client: Client) -> Unpriced:
    """Open positions of the live derived tables that no price marks."""
    p, o, s, total = client.query(sql.load("checks/unpriced_open")).result_rows[0]
    return Unpriced(int(p), int(o), int(s), int(total))


def _check_mapped(client: Client, cutoff: int | None, allow_unmapped: bool) -> Unmapped:
    un = unmapped_tokens(client, cutoff)
    if un and not allow_unmapped:
        raise BuildError(f"{un}: their markets' preparations were never ingested (backfill scans them from the "
                         "contracts' first blocks; ingest-files takes --markets or --token-map). Pass "
                         "--allow-unmapped to build without them; live tables unchanged")
    return un


@dataclass
class BuildReport:
    mode: str  # "full" or "range"
    cutoff: int | None
    rows: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    from_block: int | None = None
    to_block: int | None = None
    conditions: int | None = None  # conditions the range touched (range mode)
    #: range mode: conditions whose rows were recomputed: the touched ones, the re-priced or re-resolved ones, and any
    #: known condition sharing a condition_key with those (``key_clashes`` of them)
    recomputed: int | None = None
    key_clashes: int = 0
    steps: dict[str, float] = field(default_factory=dict)  # seconds per build step
    step_cpu: dict[str, float] = field(default_factory=dict)  # process CPU seconds per build step
    unmapped: Unmapped = field(default_factory=Unmapped)  # only non-empty with allow_unmapped
    unpriced: Unpriced = field(default_factory=Unpriced)

    def __str__(self) -> str:
        """One line for people (sync and ingest-files --rebuild print it): what was rebuilt, how, how many rows."""
        what = (f"{self.mode} rebuild" if self.mode == "full" else f"{self.mode} rebuild of blocks "
                f"{self.from_block}..{self.to_block} ({self.conditions or 0} conditions{self._recomputed()})")
        cut = "no cutoff" if self.cutoff is None else (
            f"cutoff {datetime.fromtimestamp(self.cutoff, UTC):%Y-%m-%d %H:%M:%S} UTC")
        rows = ", ".join(f"{t} {n:,}" for t, n in self.rows.items())
        return (f"{what}, {cut}, in {self.seconds:.1f}s: {sum(self.rows.values()):,} derived rows"
                + (f" ({rows})" if rows else ""))

    def _recomputed(self) -> str:
        if self.recomputed is None or self.recomputed == (self.conditions or 0):
            return ""
        clash = f", {self.key_clashes} of them sharing a condition key" if self.key_clashes else ""
        return f"; {self.recomputed} recomputed with the re-priced and re-resolved ones{clash}"

    def warnings(self) -> list[str]:
        """Lines to show beside the summary: dropped fills / transfers and unpriced open positions."""
        out = [f"unmapped: {self.unmapped} (dropped: --allow-unmapped)"] if self.unmapped else []
        return out + ([f"unpriced: {self.unpriced}"] if self.unpriced.positions else [])


def _render(name: str, **names: str) -> str:
    """SQL text with identifier placeholders filled (only fixed table names or a validated suffix)."""
    return Template(sql.load(name)).substitute(**names)


def _for_run(text: str, run: str) -> str:
    """SQL text whose ``<derived table>_new`` names point at this run's build tables, ``<table>_new_<run>``."""
    names = "|".join(sorted(map(re.escape, DERIVED_TABLES), key=len, reverse=True))
    return re.sub(rf"\b({names})_new\b", lambda m: f"{m.group(1)}_new_{run}", text)


def _to_delta(text: str, run: str) -> str:
    """SQL text whose ``<table>_new`` names of the per-condition tables (_DELTA) point at this run's delta tables."""
    names = "|".join(sorted(map(re.escape, _DELTA), key=len, reverse=True))
    return re.sub(rf"\b({names})_new\b", lambda m: f"{m.group(1)}_delta_{run}", text)


def _drop_new(client: Client, run: str) -> None:
    """SYNC: free the parts now (an Atomic database otherwise keeps a dropped table's data for 8 minutes, which
    doubled the warehouse's disk use in the scale benchmark)."""
    for t in DERIVED_TABLES:
        client.command(f"DROP TABLE IF EXISTS `{t}_new_{run}` SYNC")
    for t in _DELTA:
        client.command(f"DROP TABLE IF EXISTS `{t}_delta_{run}` SYNC")


def _drop_stale(client: Client) -> None:
    """Drop build and delta tables of crashed runs (called under the writer lease, so no live run owns any)."""
    pattern = re.compile(r"^(" + "|".join(map(re.escape, DERIVED_TABLES)) + r")_(new|delta)(_[0-9a-f]+)?$")
    for (name,) in client.query("SELECT name FROM system.tables WHERE database = currentDatabase() "
                                "AND (name LIKE '%\\_new%' OR name LIKE '%\\_delta\\_%')").result_rows:
        if pattern.match(name):
            client.command(f"DROP TABLE IF EXISTS `{name}` SYNC")


def _swap_in(client: Client, run: str, held: lease.Lease) -> None:
    """Exchange every ``_new_<run>`` with its live table; if one exchange fails, undo the ones already done."""
    held.check()
    done = []
    try:
        for t in DERIVED_TABLES:
            client.command(f"EXCHANGE TABLES `{t}` AND `{t}_new_{run}`")
            done.append(t)
    except Exception as exc:
        for t in reversed(done):
            client.command(f"EXCHANGE TABLES `{t}` AND `{t}_new_{run}`")
        _drop_new(client, run)
        raise BuildError(f"swap failed at {DERIVED_TABLES[len(done)]}: {_first_line(exc)}; live tables unchanged") \
            from exc
    _drop_new(client, run)  # they now hold the previous contents


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return (text.splitlines()[0] if text else type(exc).__name__)[:400]


#: A build step: label, SQL text, and its parameters (or a function giving them when the step runs, for values that
#: earlier steps decide, such as the incremental rebuild's dirty conditions; a function returning None skips the step).
Step = tuple[str, str, "dict | Callable[[], dict | None]"]


def _run_steps(client: Client, steps: list[Step], run: str, held: lease.Lease, deltas: bool = False,
               cpu: dict[str, float] | None = None) -> dict[str, float]:
    """Create empty ``_new_<run>`` tables (and with ``deltas`` the ``_delta_<run>`` ones), run ``steps`` (label, sql
    text, params), drop everything on failure. Returns wall seconds per step; ``cpu`` gets process CPU seconds per
    step (chDB runs in this process: the engine's CPU, plus any background merge that ran meanwhile)."""
    _drop_stale(client)
    for t in DERIVED_TABLES:
        client.command(f"CREATE TABLE `{t}_new_{run}` AS `{t}`")
    for t in _DELTA if deltas else ():
        client.command(_render("build/delta_create", table=t, run=run))
    label, timings = "?", {}
    cpu = {} if cpu is None else cpu
    try:
        for label, text, params in steps:
            held.renew()
            t0, c0 = time.perf_counter(), time.process_time()
            values = params() if callable(params) else params
            if values is None:
                continue
            client.command(_for_run(text, run), parameters=values)
            timings[label] = time.perf_counter() - t0
            cpu[label] = time.process_time() - c0
    except BaseException as exc:
        _drop_new(client, run)
        if not isinstance(exc, Exception) or isinstance(exc, lease.LeaseLost):
            raise
        raise BuildError(f"rebuild failed at step {label}: {_first_line(exc)}; live tables unchanged") from exc
    return timings


def _counts(client: Client) -> dict[str, int]:
    return {t: int(client.query(f"SELECT count() FROM `{t}`").result_rows[0][0]) for t in DERIVED_TABLES}


def _price_steps(cutoff: int | None, repriced: list[str] | None = None) -> list[Step]:
    """winning_index whole; market_prices whole, or in an incremental rebuild for the ``repriced`` conditions only
    (the others carried over from the live table)."""
    c = NO_CUTOFF if cutoff is None else int(cutoff)
    steps: list[Step] = [("winning_index", sql.load("build/winning_index"), {"cutoff": c})]
    if repriced is not None:
        steps += _reuse("market_prices", {"conditions": repriced})
    # the price query is shared with the as-of wallet checks (harness.pnl.asof); the build inserts what it selects
    steps.append(("market_prices", f"INSERT INTO market_prices_new {PRICE_COLUMNS} " + sql.load("queries/market_prices"),
                  {"cutoff": c, "all": int(repriced is None), "conditions": repriced or []}))
    if repriced is not None:  # the history's marks follow market_prices: the same conditions recomputed
        steps += _reuse("price_history", {"conditions": repriced})
    steps.append(("price_history", sql.load("build/price_history"),
                  {"cutoff": c, "all": int(repriced is None), "conditions": repriced or []}))
    return steps


def _common_steps(cutoff: int | None) -> list[Step]:
    """A full rebuild's steps after positions and cashflows: prices, then the tables built from the derived ones."""
    return (_price_steps(cutoff) + [(t, sql.load(name), {"all": 1, "conditions": []}) for t, name in _REMARKED.items()]
            + [_leaderboard_step(cutoff)])


def _leaderboard_step(cutoff: int | None) -> Step:
    """The leaderboard ranks every wallet, and its 7d / 30d windows move with the newest block: rebuilt whole from
    the complete build tables, last, in a full and in a range rebuild alike (schema 096)."""
    return ("wallet_leaderboard", sql.load("build/wallet_leaderboard"),
            {"cutoff": NO_CUTOFF if cutoff is None else int(cutoff)})


def _reuse(table: str, params: dict | Callable[[], dict], keyed: bool = False) -> list[Step]:
    """Steps that start ``table``'s build table as the live table's parts minus the rows of params' conditions
    (``keyed``: params give their condition_keys, for the tables that have that column, schema 160-166)."""
    return [(f"{table} (reuse)", _render("build/reuse_parts", table=table), {}),
            (f"{table} (delete)", _render("build/reuse_delete_keyed" if keyed else "build/reuse_delete", table=table),
             params)]


def full_steps(cutoff: int | None) -> list[Step]:
    """Every step of a full rebuild, in order (bench/scale.py replays them into Null tables)."""
    c = NO_CUTOFF if cutoff is None else int(cutoff)
    params = {"cutoff": c, "excluded": excluded_addresses(), "adapters": collateral_adapters(), "all": 1,
              "conditions": []}
    steps = [(t, sql.load(name), params) for t, name in _PER_CONDITION.items()] + _common_steps(cutoff)
    at = next(i for i, st in enumerate(steps) if st[0] == "wallet_market_pnl_avgcost")  # reads the book
    steps.insert(at, ("wallet_token_avgcost", sql.load("build/wallet_token_avgcost"), params))
    steps.insert(at, ("wallet_pnl_flows", sql.load("build/wallet_pnl_flows"), params))  # the history's snapshots
    return steps


def _check_cutoff(cutoff: int | None) -> None:
    if cutoff is not None and (not isinstance(cutoff, int) or isinstance(cutoff, bool) or cutoff < 0):
        raise UsageError(f"cutoff={cutoff!r} must be a unix time (an integer >= 0) or None")


def rebuild(client: Client, *, cutoff: int | None = None, allow_unmapped: bool = False,
            lease_wait: float | None = None) -> BuildReport:
    """Full rebuild of the derived tables from the raw tables, events up to ``cutoff`` (unix block time).

    Refuses (BuildError, live tables unchanged) when fills or transfers use tokens token_map lacks, unless
    ``allow_unmapped``; the report then counts them, and always counts unpriced open positions. Holds the
    writer lease throughout (waits up to ``lease_wait`` seconds for another writer, then LeaseHeld)."""
    _check_cutoff(cutoff)
    t0 = time.perf_counter()
    run = secrets.token_hex(4)
    with lease.writer_lease(client, f"rebuild {run}", wait=lease_wait) as held:
        un = _check_mapped(client, cutoff, allow_unmapped)
        cpu: dict[str, float] = {}
        timings = _run_steps(client, full_steps(cutoff), run, held, cpu=cpu)
        _swap_in(client, run, held)
        return BuildReport("full", cutoff, _counts(client), time.perf_counter() - t0, steps=timings, step_cpu=cpu,
                           unmapped=un, unpriced=unpriced_open(client))


def affected_conditions(client: Client, from_block: int, to_block: int) -> list[str]:
    rows = client.query(sql.load("build/affected_conditions"),
                        parameters={"from_block": int(from_block), "to_block": int(to_block)}).result_rows
    return sorted(r[0] for r in rows)


def key_clashes(client: Client, conditions: list[str]) -> list[str]:
    """Known conditions outside ``conditions`` that share a condition_key with one of them (normally none)."""
    if not conditions:
        return []
    rows = client.query(sql.load("build/condition_key_clashes"), parameters={"conditions": conditions}).result_rows
    return sorted(r[0] for r in rows)


def condition_keys(client: Client, conditions: list[str]) -> list[int]:
    """The condition_key of each condition, computed by the engine (the same hash the tables materialize)."""
    if not conditions:
        return []
    return list(client.query(sql.load("build/condition_keys"), parameters={"conditions": conditions}).result_rows[0][0])


def rebuild_range(client: Client, from_block: int, to_block: int, *, cutoff: int | None = None,
                  allow_unmapped: bool = False, lease_wait: float | None = None) -> BuildReport:
    """Incremental rebuild after ingesting blocks ``from_block..to_block``: recompute the conditions those blocks
    touched (from all their history), prices of those and of conditions whose latest import changed, and the P&L
    rows of every condition touched, re-priced or re-resolved (winning_index is rebuilt whole); every other row is
    carried over from the live tables' parts without copying. Use the cutoff of the last full rebuild."""
    check_span(from_block, to_block, "rebuild_range")
    _check_cutoff(cutoff)
    t0 = time.perf_counter()
    run = secrets.token_hex(4)
    with lease.writer_lease(client, f"range rebuild {run}", wait=lease_wait) as held:
        return _rebuild_range(client, from_block, to_block, cutoff, allow_unmapped, run, held, t0)


def _rebuild_range(client: Client, from_block: int, to_block: int, cutoff: int | None, allow_unmapped: bool,
                   run: str, held: lease.Lease, t0: float) -> BuildReport:
    """The steps: (1) positions, cashflows and the average-cost book of the touched conditions from raw rows into
    the delta tables; (2) winning_index whole, market_prices of the re-priced conditions; (3) the dirty conditions
    (touched, re-priced or re-resolved): the untouched ones' live rows of the tables in (1) copied to the deltas (a
    scan, only when there are any); (4) the three P&L tables of the dirty conditions from the deltas into deltas;
    (5) each build table = the live table's parts (hard links) minus the dirty conditions' rows, plus its delta."""
    pre, t1 = {}, time.perf_counter()
    un = _check_mapped(client, cutoff, allow_unmapped)
    pre["check unmapped"], t1 = time.perf_counter() - t1, time.perf_counter()
    conds = affected_conditions(client, from_block, to_block)
    pre["affected conditions"], t1 = time.perf_counter() - t1, time.perf_counter()
    c = NO_CUTOFF if cutoff is None else int(cutoff)
    params = {"cutoff": c, "excluded": excluded_addresses(), "adapters": collateral_adapters(), "all": 0,
              "conditions": conds}
    steps: list[Step] = [(t, _to_delta(sql.load(name), run), params) for t, name in _RECOMPUTED.items()]
    dirty: dict = {}

    def dirty_conditions() -> list[str]:
        """Touched conditions plus those re-priced or re-resolved (asked once, after market_prices is built), plus
        any condition whose condition_key clashes with theirs (masking by key would drop its rows too)."""
        if "conditions" not in dirty:
            rows = client.query(_for_run(sql.load("build/dirty_conditions"), run),
                                parameters={"conditions": conds}).result_rows
            found = sorted(r[0] for r in rows)
            clashes = key_clashes(client, found)
            dirty["clashes"] = len(clashes)
            dirty["conditions"] = sorted(set(found) | set(clashes))
        return dirty["conditions"]

    def dirty_keys() -> dict:
        if "keys" not in dirty:
            dirty["keys"] = condition_keys(client, dirty_conditions())
        return {"keys": dirty["keys"]}

    def untouched() -> dict | None:
        extra = sorted(set(dirty_conditions()) - set(conds))
        return {"conditions": extra} if extra else None

    imported = [r[0] for r in client.query(sql.load("build/imports_changed"), parameters={"cutoff": c}).result_rows]
    repriced = sorted(set(conds) | set(imported))
    pre["imports changed"] = time.perf_counter() - t1
    steps += _price_steps(cutoff, repriced)
    steps += [(f"{t} (untouched dirty)", _render("build/delta_carry", table=t, run=run), untouched) for t in _RECOMPUTED]
    steps += [(t, _to_delta(sql.load(name), run), lambda: {"all": 0, "conditions": dirty_conditions()})
              for t, name in _REMARKED.items()]
    for t in _DELTA:
        steps += _reuse(t, dirty_keys, keyed=True)
        steps.append((f"{t} (delta)", _render("build/delta_insert", table=t, run=run), {}))
    steps.append(_leaderboard_step(cutoff))
    cpu: dict[str, float] = {}
    timings = {**pre, **_run_steps(client, steps, run, held, deltas=True, cpu=cpu)}
    t1 = time.perf_counter()
    _swap_in(client, run, held)
    timings["swap"], t1 = time.perf_counter() - t1, time.perf_counter()
    unpriced = unpriced_open(client)
    timings["check unpriced"] = time.perf_counter() - t1
    return BuildReport("range", cutoff, _counts(client), time.perf_counter() - t0, from_block, to_block, len(conds),
                       recomputed=len(dirty.get("conditions", conds)), key_clashes=dirty.get("clashes", 0),
                       steps=timings, step_cpu=cpu, unmapped=un, unpriced=unpriced)


def create_views(client: Client, suffix: str = "") -> list[str]:
    """Create (or replace) the three final views, named ``<view><suffix>`` ("_test" for the dry run)."""
    if not _SUFFIX.match(suffix):
        raise ValueError(f"view suffix {suffix!r}: letters, digits and _ only")
    for v in (*VIEWS, UI_VIEW):
        client.command(_render(f"views/{v}", suffix=suffix))
    return [v + suffix for v in (*VIEWS, UI_VIEW)]


@dataclass(frozen=True)
class WalletSummary:
    wallet: str
    realized_pnl: int  # micro-USDC
    unrealized_pnl: int
    total_pnl: int
    markets_resolved: int
    markets_open: int
    realized_pnl_usd: Decimal  # the view's exact Decimal USD (= micro / 10^6), what the app reads
    unrealized_pnl_usd: Decimal
    total_pnl_usd: Decimal


def wallet_summary(client: Client, wallet: str, *, suffix: str = "") -> WalletSummary | None:
    """One wallet's P&L from ``wallet_pnl_summary_final<suffix>``; None when the wallet has no rows."""
    if not _SUFFIX.match(suffix):
        raise ValueError(f"view suffix {suffix!r}: letters, digits and _ only")
    rows = client.query(_render("queries/wallet_summary", suffix=suffix),
                        parameters={"wallet": wallet.lower()}).result_rows
    if not rows:
        return None
    w, r, u, t, mr, mo, ru, uu, tu = rows[0]
    return WalletSummary(w, int(r), int(u), int(t), int(mr), int(mo), ru, uu, tu)


# ---- command line -------------------------------------------------------------------------------------------
