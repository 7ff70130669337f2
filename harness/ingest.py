"""Ingestion: JSON-RPC (backfill, daily sync) and simulator files, through one decode-and-insert path.

Why it is safe to kill at any point: raw tables are ReplacingMergeTree keyed by (tx hash, log index), so
re-inserting a log changes nothing, and a checkpoint (source, contract, block range) is written only after every
row of its range is inserted. A resumed run fetches the gaps between checkpoints: no hole, no duplicate.
Reorgs: a sync re-fetches the last ``margin`` ingested blocks and retracts (higher ``_version``, ``_deleted`` = 1)
logs that are no longer on the canonical chain, as well as any log the node reports with ``removed: true``.
"""
from __future__ import annotations

import argparse
import csv
import functools
import gzip
import json
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC
from pathlib import Path

from clickhouse_connect.driver.client import Client

from harness.chain.rpc import RpcClient, iter_windows
from harness.cli.options import non_negative_int, positive_float, positive_int
from harness.errors import HarnessError, check_span, redact, require
from harness.lease import renew_held, writer_lease
from harness.sql import load

DEFAULT_CONFIRMATIONS = 64
DEFAULT_MARGIN = 64
PRICE_COLUMNS = ("condition_id", "outcome_index", "price_micros", "as_of", "source")


class IngestError(HarnessError, RuntimeError):
    """Bad input or a failed run, with the file / block range / log it concerns."""


# --- the one insert path ---------------------------------------------------------------------------------------

_last_version = 0


def new_version() -> int:
    """A strictly increasing ingest version (microseconds since epoch): a later ingest replaces an earlier one."""
    global _last_version
    _last_version = max(time.time_ns() // 1000, _last_version + 1)
    return _last_version


@dataclass
class IngestStats:
    source: str
    logs: int = 0
    rows: Counter = field(default_factory=Counter)
    unknown: Counter = field(default_factory=Counter)
    retracted: int = 0
    from_block: int | None = None
    to_block: int | None = None
    ranges: int = 0
    seconds: float = 0.0
    retries: int = 0
    range_errors: int = 0
    prices: int = 0
    notes: list[str] = field(default_factory=list)  # decisions the operator should see (e.g. a hole filled)
    preparations: int = 0  # logs from the preparations scan (RPC) before the range
    tokens: int = 0  # token_map rows from a markets or token map file

    def add(self, other: IngestStats) -> None:
        self.logs += other.logs
        self.rows.update(other.rows)
        self.unknown.update(other.unknown)
        self.retracted += other.retracted

    @property
    def logs_per_second(self) -> float:
        return self.logs / self.seconds if self.seconds > 0 else 0.0

    def __str__(self) -> str:
        span = "nothing to fetch" if self.from_block is None else f"blocks {self.from_block}..{self.to_block}"
        unknown = sum(self.unknown.values())
        parts = [f"{self.source}: {span}", f"{self.logs} logs", f"{sum(self.rows.values())} rows",
                 f"{self.logs_per_second:,.0f} logs/s", f"{self.seconds:.1f}s"]
        if unknown:
            parts.append(f"{unknown} unknown logs ({len(self.unknown)} kinds)")
        if self.retracted:
            parts.append(f"{self.retracted} retracted")
        if self.retries or self.range_errors:
            parts.append(f"{self.retries} retries, {self.range_errors} window halvings")
        if self.prices:
            parts.append(f"{self.prices} prices")
        if self.preparations:
            parts.append(f"{self.preparations} earlier market preparations")
        if self.tokens:
            parts.append(f"{self.tokens} tokens mapped from file")
        return ", ".join(parts + self.notes)


def ingest_logs(client: Client, logs: Iterable[dict], *, source: str, version: int | None = None,
                block_times: dict[int, int] | None = None) -> IngestStats:
    """Decode logs and insert their rows (the only insert path for raw tables). Removed logs become retractions."""
    from harness.chain.decode import COLUMNS, decode_logs

    version = new_version() if version is None else version
    decoded = decode_logs(logs, block_times=block_times, version=version)
    stats = IngestStats(source=source, logs=decoded.count)
    for table, rows in decoded.rows.items():
        if rows:
            client.insert(table, rows, column_names=list(COLUMNS[table]))
            stats.rows[table] += len(rows)
    stats.unknown.update(decoded.unknown)
    return stats


# --- checkpoints, coverage, gaps -------------------------------------------------------------------------------

def ingest_addresses() -> list[str]:
    """Every contract whose events the decoder knows (lower-case), in a stable order."""
    from harness.chain.events import by_address

    return sorted(by_address())


def ingest_topic0s() -> list[str]:
    from harness.chain.events import by_address

    return sorted({t for topics in by_address().values() for t in topics})


def write_checkpoint(client: Client, source: str, from_block: int, to_block: int, *, run_id: str,
                     logs_by_contract: dict[str, int] | None = None, contracts: list[str] | None = None) -> None:
    """Record [from_block, to_block] as ingested for each contract: call only after its rows are inserted."""
    contracts = contracts or ingest_addresses()
    counts = logs_by_contract or {}
    client.insert("ingest_checkpoints",
                  [[source, c, from_block, to_block, counts.get(c, 0), run_id] for c in contracts],
                  column_names=["source", "contract", "from_block", "to_block", "logs", "run_id"])


def merge_ranges(ranges: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """Union of closed block ranges, adjacent ones joined, sorted."""
    out: list[list[int]] = []
    for a, b in sorted(ranges):
        if out and a <= out[-1][1] + 1:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return [(a, b) for a, b in out]


def complement(covered: list[tuple[int, int]], lo: int, hi: int) -> list[tuple[int, int]]:
    """Closed ranges of [lo, hi] not in ``covered`` (which must be merged and sorted)."""
    holes, cur = [], lo
    for a, b in covered:
        if b < cur:
            continue
        if a > hi:
            break
        if a > cur:
            holes.append((cur, min(a - 1, hi)))
        cur = max(cur, b + 1)
        if cur > hi:
            break
    if cur <= hi:
        holes.append((cur, hi))
    return holes


def coverage(client: Client, source: str, *, lo: int = 0, hi: int = 2**63 - 1) -> dict[str, list[tuple[int, int]]]:
    """Merged ingested ranges per contract for a source (what checkpoints prove was inserted)."""
    per: dict[str, list[tuple[int, int]]] = {}
    for contract, a, b in client.query(load("ingest/checkpoint_ranges"),
                                       parameters={"source": source, "lo": lo, "hi": hi}).result_rows:
        per.setdefault(contract, []).append((int(a), int(b)))
    return {c: merge_ranges(r) for c, r in per.items()}


def gaps(client: Client, source: str, from_block: int, to_block: int,
         contracts: list[str] | None = None) -> list[tuple[int, int]]:
    """Block ranges in [from_block, to_block] never ingested for at least one contract, merged and sorted."""
    check_span(from_block, to_block, "gaps")
    cov = coverage(client, source, lo=from_block, hi=to_block)
    holes: list[tuple[int, int]] = []
    for c in contracts or ingest_addresses():
        holes += complement(cov.get(c, []), from_block, to_block)
    return merge_ranges(holes)


# --- runs (what was asked for) ---------------------------------------------------------------------------------

@dataclass
class Run:
    client: Client
    source: str
    command: str
    from_block: int
    to_block: int
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:16])
    started: float = field(default_factory=time.time)

    def record(self, status: str, logs: int = 0, detail: str = "") -> None:
        from datetime import datetime

        self.client.insert(
            "ingest_runs",
            [[self.run_id, self.source, self.command, max(self.from_block, 0), max(self.to_block, 0), status, logs,
              redact(detail)[:2000], datetime.fromtimestamp(self.started, UTC), datetime.now(UTC)]],
            column_names=["run_id", "source", "command", "from_block", "to_block", "status", "logs", "detail",
                          "started_at", "updated_at"])


def mark_abandoned_runs(client: Client) -> int:
    """Mark failed every run still 'running' (call under the writer lease: none of them can be alive). Count."""
    from datetime import datetime

    rows = client.query(load("ingest/abandoned_runs")).result_rows
    if rows:
        client.insert("ingest_runs", [
            [r, s, c, a, b, "failed", n, "abandoned: the run died before finishing (found by a later writer)",
             started, datetime.now(UTC)] for r, s, c, a, b, n, started in rows],
            column_names=["run_id", "source", "command", "from_block", "to_block", "status", "logs", "detail",
                          "started_at", "updated_at"])
    return len(rows)


def _writer(what: str):
    """Run the decorated ingest under the warehouse's writer lease (``lease_wait`` seconds to get it)."""
    def deco(fn):
        @functools.wraps(fn)
        def run(client: Client, *args, lease_wait: float | None = None, **kwargs):
            with writer_lease(client, what, wait=lease_wait):
                mark_abandoned_runs(client)
                return fn(client, *args, **kwargs)
        return run
    return deco


def run_hull(client: Client, source: str) -> tuple[int, int] | None:
    lo, hi, n = client.query(load("ingest/run_range"), parameters={"source": source}).result_rows[0]
    return (int(lo), int(hi)) if n else None


# --- progress --------------------------------------------------------------------------------------------------

class Progress:
    """Blocks done, logs/s and ETA on stderr, redrawn at most twice a second; silent when not a terminal."""

    def __init__(self, label: str, total_blocks: int, stream=None, enabled: bool | None = None) -> None:
        self.label, self.total = label, total_blocks  # 0 = unknown: no percentage, no ETA
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self.start = self.last = time.monotonic()
        self.blocks = self.logs = 0

    def update(self, blocks: int, logs: int) -> None:
        self.blocks += blocks
        self.logs += logs
        now = time.monotonic()
        if not self.enabled or now - self.last < 0.5:
            return
        self.last = now
        el = now - self.start
        rate = self.logs / el if el else 0.0
        if self.total > 0:
            eta = el / self.blocks * max(self.total - self.blocks, 0) if self.blocks else 0.0
            done = f"{self.blocks:,}/{self.total:,} blocks ({100 * self.blocks / self.total:.0f}%)"
            tail = f", ETA {_hms(eta)}"
        else:
            done, tail = f"{self.blocks:,} blocks", ""
        self.stream.write(f"\r{self.label}: {done}, {self.logs:,} logs, {rate:,.0f} logs/s{tail}   ")
        self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self.stream.write("\n")
            self.stream.flush()


def _hms(s: float) -> str:
    s = int(s)
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}"


# --- RPC source ------------------------------------------------------------------------------------------------

def rpc_source_name(rpc: RpcClient) -> str:
    return f"rpc:{rpc.chain_id()}"


def plan_range(rpc: RpcClient, *, from_block: int | None = None, to_block: int | None = None,
               cutoff: int | None = None, no_cutoff: bool = False, since_seconds: int | None = None,
               confirmations: int = DEFAULT_CONFIRMATIONS) -> tuple[int, int]:
    """The block range the plan's options select.

    to: ``to_block``, else the last block at or before ``cutoff``, else (``no_cutoff`` or nothing) the head less
    ``confirmations``. from: ``from_block``, else the first block of the last ``since_seconds`` (measured from the
    head's own timestamp, binary search), else the earliest first block of the known contracts.
    """
    if cutoff is not None and no_cutoff:
        raise IngestError("--cutoff and --no-cutoff are mutually exclusive")
    require(isinstance(confirmations, int) and confirmations >= 0,
            f"confirmations={confirmations} must be 0 or more (blocks to stay behind the head)")
    require(cutoff is None or cutoff >= 0, f"cutoff={cutoff} must be a unix time >= 0")
    require(since_seconds is None or since_seconds >= 0, f"since={since_seconds}s must not be negative")
    check_span(from_block, to_block)
    head = rpc.block_number()
    safe = max(head - confirmations, 0)
    if to_block is not None:
        if to_block > head:
            raise IngestError(f"--to-block {to_block} is beyond the chain head {head}")
        hi = to_block
    elif cutoff is not None:
        hi = rpc.last_block_at_or_before(cutoff, 0, safe)
    else:
        hi = safe
    if from_block is not None:
        lo = from_block
    elif since_seconds is not None:
        lo = rpc.first_block_at_or_after(rpc.block_time(head) - since_seconds, 0, head)
    else:
        from harness.config import contracts

        firsts = [c.first_block for c in contracts().values() if c.first_block]
        lo = min(firsts) if firsts and min(firsts) <= hi else 0
    if lo < 0 or hi < 0:
        raise IngestError(f"block range {lo}..{hi} is negative")
    if from_block is not None and lo > hi:
        raise IngestError(f"--from-block {lo} is after the last block to ingest, {hi} (head {head}, "
                          f"{confirmations} confirmations{', cutoff ' + str(cutoff) if cutoff is not None else ''})")
    return lo, hi


def fetch_into(client: Client, rpc: RpcClient, ranges: list[tuple[int, int]], *, source: str, run_id: str,
               stats: IngestStats, retract: tuple[int, int] | None = None, window: int = 2000,
               max_window: int = 100_000, batch_logs: int = 20_000, batch_blocks: int | None = None,
               progress: Progress | None = None, addresses: list[str] | None = None,
               topic0s: list[str] | None = None) -> None:
    """Fetch each range by adaptive windows, insert in batches, checkpoint each batch after its insert.

    Windows inside ``retract`` (a re-fetched, already ingested span) also retract rows of logs that vanished.
    ``addresses`` / ``topic0s`` narrow the filter (default: every known event); checkpoints name those addresses.
    """
    contracts = addresses
    addresses, topic0s = addresses or ingest_addresses(), topic0s or ingest_topic0s()
    for lo, hi in ranges:
        pending: list[dict] = []
        b_lo = lo
        for w_lo, w_hi, logs in iter_windows(rpc, lo, hi, addresses=addresses, topic0s=topic0s,
                                             window=window, max_window=max_window):
            pending.extend(logs)
            if progress:
                progress.update(w_hi - w_lo + 1, len(logs))
            if len(pending) >= batch_logs or w_hi == hi or (batch_blocks and w_hi - b_lo + 1 >= batch_blocks):
                _flush(client, rpc, pending, b_lo, w_hi, source=source, run_id=run_id, stats=stats,
                       retract=retract, contracts=contracts)
                pending, b_lo = [], w_hi + 1
        stats.ranges += 1


def _flush(client: Client, rpc: RpcClient, logs: list[dict], lo: int, hi: int, *, source: str, run_id: str,
           stats: IngestStats, retract: tuple[int, int] | None, contracts: list[str] | None = None) -> None:
    need = {_block(log) for log in logs if log.get("blockTimestamp") is None}
    times = rpc.block_times(need) if need else None
    version = new_version()
    try:
        stats.add(ingest_logs(client, logs, source=source, version=version, block_times=times))
    except ValueError as exc:  # DecodeError names the tx hash and log index
        raise IngestError(f"{source} blocks {lo}..{hi}: {exc}") from exc
    if retract is not None and lo <= retract[1] and hi >= retract[0]:
        a, b = max(lo, retract[0]), min(hi, retract[1])
        stats.retracted += retract_vanished(client, logs, a, b, version=new_version())
    per: Counter = Counter(log["address"].lower() for log in logs)
    renew_held(client)
    write_checkpoint(client, source, lo, hi, run_id=run_id, logs_by_contract=per, contracts=contracts)
    stats.from_block = lo if stats.from_block is None else min(stats.from_block, lo)
    stats.to_block = hi if stats.to_block is None else max(stats.to_block, hi)


def contiguous_end(client: Client, source: str) -> int | None:
    """Last block of the coverage that runs without a hole (for every contract) from the first covered block."""
    cov = coverage(client, source)
    if not cov:
        return None
    first = min(r[0][0] for r in cov.values() if r)
    last = max(r[-1][1] for r in cov.values() if r)
    holes = gaps(client, source, first, last)
    end = holes[0][0] - 1 if holes else last
    return end if end >= first else None


def uncover_above(client: Client, source: str, hi: int) -> None:
    """Forget checkpointed coverage above block ``hi`` (ranges that straddle it are cut at ``hi``)."""
    straddling = [(c, int(a)) for c, a, b in client.query(
        load("ingest/checkpoint_ranges"), parameters={"source": source, "lo": hi + 1, "hi": 2**63 - 1}).result_rows
        if int(a) <= hi]
    client.command(load("ingest/uncover_above"), parameters={"source": source, "hi": hi})
    for contract, a in straddling:
        write_checkpoint(client, source, a, hi, run_id="trimmed", contracts=[contract])


def retract_vanished(client: Client, canonical_logs: list[dict], lo: int, hi: int, *, version: int) -> int:
    """Retract rows in blocks [lo, hi] whose log is not among ``canonical_logs`` (a complete re-fetch). Count."""
    from harness.chain.decode import COLUMNS, is_removed

    keep = {(log["transactionHash"].lower(), int(log["logIndex"], 16) if isinstance(log["logIndex"], str)
             else int(log["logIndex"])) for log in canonical_logs
            if not is_removed(log) and lo <= _block(log) <= hi}
    gone_total = 0
    for table, cols in COLUMNS.items():
        if "tx_hash" not in cols:
            continue
        have = client.query(load("ingest/window_keys"), parameters={"table": table, "lo": lo, "hi": hi}).result_rows
        gone = [(t, int(i)) for t, i in have if (t, int(i)) not in keep]
        if gone:
            client.command(load("ingest/retract"), parameters={
                "table": table, "version": version, "lo": lo, "hi": hi, "gone": gone})
            gone_total += len(gone)
    return gone_total


#: Market-structure events: token_map and the negRisk questions come from these, so a range whose markets were
#: prepared before it needs them from the contracts' first blocks.
PREPARATION_EVENTS = ("ctf.ConditionPreparation", "adapter.QuestionPrepared")


def preparation_filter() -> tuple[list[str], list[str]]:
    """(addresses, topic0s) of the preparation events, for a topic-filtered eth_getLogs scan."""
    from harness.chain.events import by_address

    addrs, topics = set(), set()
    for addr, by_topic in by_address().items():
        for t0, e in by_topic.items():
            if e.key in PREPARATION_EVENTS:
                addrs.add(addr)
                topics.add(t0)
    return sorted(addrs), sorted(topics)


def preparations_source(source: str) -> str:
    """The scan's own checkpoint source (``rpc:137:preparations``), apart from the full-event coverage."""
    return f"{source}:preparations"


def scan_preparations(client: Client, rpc: RpcClient, to_block: int, *, source: str, window: int = 2000,
                      max_window: int = 100_000, progress: bool | None = None) -> IngestStats:
    """Fetch every ConditionPreparation / QuestionPrepared from the contracts' first blocks to ``to_block`` that
    neither this scan nor a full-event ingest has covered yet (checkpointed under preparations_source)."""
    from harness.config import contracts

    addrs, topics = preparation_filter()
    firsts = [c.first_block for c in contracts().values() if c.address in addrs and c.first_block]
    lo = min(firsts) if firsts and min(firsts) <= to_block else 0
    psource = preparations_source(source)
    main, prep = coverage(client, source, lo=lo, hi=to_block), coverage(client, psource, lo=lo, hi=to_block)
    todo = merge_ranges(h for a in addrs
                        for h in complement(merge_ranges(main.get(a, []) + prep.get(a, [])), lo, to_block))
    if not todo:
        return IngestStats(source=psource)
    return _run(client, rpc, "preparations", psource, lo, to_block, todo, None, window=window,
                max_window=max_window, batch_logs=20_000, batch_blocks=None, progress=progress,
                addresses=addrs, topic0s=topics)


@_writer("backfill")
def backfill(client: Client, rpc_url: str | RpcClient, from_block: int | None = None, to_block: int | None = None,
             *, cutoff: int | None = None, no_cutoff: bool = False, since_seconds: int | None = None,
             confirmations: int = DEFAULT_CONFIRMATIONS, refetch: bool = False, source: str | None = None,
             window: int = 2000, max_window: int = 100_000, batch_logs: int = 20_000,
             batch_blocks: int | None = None, progress: bool | None = None,
             preparations: bool = True) -> IngestStats:
    """Ingest every block of the selected range not yet checkpointed (all of it with ``refetch``), then (with
    ``preparations``) the market preparations before it that nothing has covered yet (scan_preparations)."""
    _check_fetch(window, max_window, batch_logs, batch_blocks)
    rpc = rpc_url if isinstance(rpc_url, RpcClient) else RpcClient(rpc_url)
    source = source or rpc_source_name(rpc)
    lo, hi = plan_range(rpc, from_block=from_block, to_block=to_block, cutoff=cutoff, no_cutoff=no_cutoff,
                        since_seconds=since_seconds, confirmations=confirmations)
    todo = [(lo, hi)] if refetch and lo <= hi else gaps(client, source, lo, hi)
    # A refetch is a complete re-read of the range: logs no longer on the chain (a reorg) are retracted.
    retract = (lo, hi) if refetch and lo <= hi else None
    stats = _run(client, rpc, "backfill", source, lo, hi, todo, retract, window=window, max_window=max_window,
                 batch_logs=batch_logs, batch_blocks=batch_blocks, progress=progress)
    if preparations and lo <= hi:
        stats.preparations = scan_preparations(client, rpc, hi, source=source, window=window,
                                               max_window=max_window, progress=progress).logs
    return stats


@_writer("sync")
def sync(client: Client, rpc_url: str | RpcClient, since_seconds: int = 86_400, *,
         margin: int = DEFAULT_MARGIN, confirmations: int = DEFAULT_CONFIRMATIONS, cutoff: int | None = None,
         source: str | None = None, window: int = 2000, max_window: int = 100_000, batch_logs: int = 20_000,
         progress: bool | None = None, preparations: bool = True) -> IngestStats:
    """The daily run: fill every gap of the last ``since_seconds`` up to head - confirmations, and re-fetch the
    last ``margin`` ingested blocks, retracting logs a reorg removed. When the last contiguous checkpoint is
    older than the window (a missed day), it starts there instead, and says so in the stats."""
    _check_fetch(window, max_window, batch_logs, None)
    require(isinstance(margin, int) and margin >= 0, f"margin={margin} must be 0 or more blocks")
    rpc = rpc_url if isinstance(rpc_url, RpcClient) else RpcClient(rpc_url)
    source = source or rpc_source_name(rpc)
    lo, hi = plan_range(rpc, cutoff=cutoff, since_seconds=since_seconds, confirmations=confirmations)
    notes = []
    tail = contiguous_end(client, source)
    if tail is not None and tail + 1 < lo:  # a missed day (or more): fill from the last contiguous checkpoint
        notes.append(f"last contiguous checkpoint {tail} is older than the window (starts at block {lo}): "
                     f"filled from block {tail + 1}")
        lo = tail + 1
    todo = gaps(client, source, lo, hi) if lo <= hi else []
    retract, above = None, 0
    covered = [b for ranges in coverage(client, source).values() for _, b in ranges]
    if covered:
        top, head = max(covered), rpc.block_number()
        if top > head:  # the chain is now shorter than what was ingested: nothing above the head is canonical
            above = retract_vanished(client, [], head + 1, top, version=new_version())
            uncover_above(client, source, head)
            top = head
        if margin > 0:  # the last ingested blocks (possibly above head - confirmations) are fetched again
            retract = (max(top - margin + 1, 0), top)
            todo = merge_ranges(todo + [retract])
    stats = _run(client, rpc, "sync", source, lo, hi, todo, retract, window=window, max_window=max_window,
                 batch_logs=batch_logs, batch_blocks=None, progress=progress)
    stats.retracted += above
    stats.notes += notes
    if preparations and lo <= hi:
        stats.preparations = scan_preparations(client, rpc, hi, source=source, window=window,
                                               max_window=max_window, progress=progress).logs
    return stats


def _check_fetch(window: int, max_window: int, batch_logs: int, batch_blocks: int | None) -> None:
    """The paging options, checked by name before anything is fetched (a 0 window would loop forever)."""
    for name, v in (("window", window), ("max_window", max_window), ("batch_logs", batch_logs)):
        require(isinstance(v, int) and v >= 1, f"{name}={v} must be at least 1")
    require(batch_blocks is None or batch_blocks >= 1, f"batch_blocks={batch_blocks} must be at least 1")


def _run(client, rpc, command, source, lo, hi, todo, retract, *, window, max_window, batch_logs, batch_blocks,
         progress, addresses=None, topic0s=None) -> IngestStats:
    run = Run(client, source, command, lo, hi)
    run.record("running", detail=f"todo {todo[:20]}")
    stats = IngestStats(source=source)
    prog = Progress(f"{command} {source}", sum(b - a + 1 for a, b in todo),
                    enabled=progress if progress is not None else None)
    t0 = time.monotonic()
    try:
        fetch_into(client, rpc, todo, source=source, run_id=run.run_id, stats=stats, retract=retract,
                   window=window, max_window=max_window, batch_logs=batch_logs, batch_blocks=batch_blocks,
                   progress=prog, addresses=addresses, topic0s=topic0s)
    except BaseException as exc:  # any death the process can see (errors, SIGTERM, Ctrl-C) marks the run failed
        stats.seconds = time.monotonic() - t0
        run.record("failed", stats.logs, f"{type(exc).__name__}: {exc}")
        raise
    finally:
        prog.close()
        stats.retries, stats.range_errors = rpc.stats.retries, rpc.stats.range_errors
    stats.seconds = time.monotonic() - t0
    run.record("done", stats.logs, str(stats))
    return stats


# --- file source (the simulator's world directory) ---------------------------------------------------------------

def _open_logs(path: Path) -> Iterator[tuple[int, dict]]:
    opener = gzip.open if path.name.endswith(".gz") else open
    try:
        with opener(path, "rt", encoding="utf-8") as fh:
            for n, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                try:
                    log = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise IngestError(f"{path}:{n}: not a JSON log ({exc.msg})") from None
                if not isinstance(log, dict) or "blockNumber" not in log:
                    raise IngestError(f"{path}:{n}: not a log object with a blockNumber")
                yield n, log
    except (OSError, EOFError) as exc:
        raise IngestError(f"{path}: cannot read ({exc})") from exc


def _block(log: dict) -> int:
    v = log["blockNumber"]
    try:
        b = int(v, 16) if isinstance(v, str) else (v if v.__class__ is int else None)
    except ValueError:
        b = None
    if b is None or b < 0:
        raise IngestError(f"blockNumber {str(v)[:40]!r} is not a block number (hex string or integer >= 0)")
    return b


def _file_block(path: Path, n: int, log: dict) -> int:
    try:
        return _block(log)
    except IngestError as exc:
        raise IngestError(f"{path}:{n}: {exc}") from None


def world_source(world_dir: Path) -> str:
    return f"file:{Path(world_dir).resolve().name}"


def _meta(world_dir: Path) -> dict:
    path = Path(world_dir) / "world.json"
    if not path.is_file():
        return {}
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise IngestError(f"{path}: not JSON ({exc})") from None


def declared_range(world_dir: Path) -> tuple[int, int] | None:
    """The block range world.json declares, if it does."""
    meta = _meta(world_dir)
    for key in ("block_range", "blocks"):
        v = meta.get(key)
        if isinstance(v, (list, tuple)) and len(v) == 2:
            return int(v[0]), int(v[1])
        if isinstance(v, dict):
            a = v.get("first", v.get("from", v.get("start")))
            b = v.get("last", v.get("to", v.get("end")))
            if a is not None and b is not None:
                return int(a), int(b)
    for a, b in (("first_block", "last_block"), ("from_block", "to_block"), ("start_block", "end_block")):
        if isinstance(meta.get(a), int) and isinstance(meta.get(b), int):
            return int(meta[a]), int(meta[b])
    return None


def world_range(world_dir: Path) -> tuple[int, int]:
    """The world's block range: from world.json when it says, else the first and last log's blocks."""
    declared = declared_range(world_dir)
    if declared is not None:
        return declared
    lo = hi = None
    for n, log in _open_logs(Path(world_dir) / "logs.jsonl.gz"):
        b = _file_block(Path(world_dir) / "logs.jsonl.gz", n, log)
        lo = b if lo is None else min(lo, b)
        hi = b if hi is None else max(hi, b)
    if lo is None:
        raise IngestError(f"{world_dir}: no logs and no block range in world.json")
    return lo, hi


class BlockClock:
    """Block number -> unix time, for logs without ``blockTimestamp`` (many nodes omit it): a blocks file's
    mapping, or an RPC node asked in batches (cached). ``times`` raises IngestError naming a block it lacks."""

    def __init__(self, mapping: dict[int, int] | None = None, rpc: RpcClient | None = None, *, what: str = ""):
        self.mapping, self.rpc, self.what = dict(mapping or {}), rpc, what

    def times(self, numbers: Iterable[int]) -> dict[int, int]:
        want = set(numbers)
        missing = sorted(want - self.mapping.keys())
        if missing and self.rpc is not None:
            self.mapping.update(self.rpc.block_times(missing))
        elif missing:
            raise IngestError(f"{self.what}: no timestamp for block {missing[0]} ({len(missing)} blocks missing)")
        return {n: self.mapping[n] for n in want}


def _num(v) -> int:
    return int(v, 16) if isinstance(v, str) and v.lower().startswith("0x") else int(v)


def read_blocks_file(path: Path) -> BlockClock:
    """A blocks file: CSV with header ``block_number,timestamp`` (decimal, or 0x hex), or JSON lines / a JSON
    array of block objects with ``number`` and ``timestamp`` (eth_getBlockByNumber results); .gz allowed."""
    path = Path(path)
    opener = gzip.open if path.name.endswith(".gz") else open
    out: dict[int, int] = {}
    try:
        with opener(path, "rt", encoding="utf-8") as fh:
            text = fh.read()
    except (OSError, EOFError) as exc:
        raise IngestError(f"{path}: cannot read ({exc})") from exc
    head, i = text.lstrip()[:1], 0
    try:
        if head in ("[", "{"):
            items = json.loads(text) if head == "[" else [json.loads(x) for x in text.splitlines() if x.strip()]
            for i, b in enumerate(items, 1):
                out[_num(b["number"])] = _num(b["timestamp"])
        else:
            reader = csv.DictReader(text.splitlines())
            if not reader.fieldnames or not {"block_number", "timestamp"} <= set(reader.fieldnames):
                raise IngestError(f"{path}: header must have block_number,timestamp, got {reader.fieldnames}")
            for row in reader:
                i = reader.line_num
                out[_num(row["block_number"].strip())] = _num(row["timestamp"].strip())
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        if isinstance(exc, IngestError):
            raise
        raise IngestError(f"{path}: entry {i}: needs a block number and a timestamp ({exc})") from None
    return BlockClock(out, what=str(path))


def _log_time(log: dict) -> int | None:
    ts = log.get("blockTimestamp")
    return None if ts is None else (int(ts, 16) if isinstance(ts, str) else int(ts))


def _block_batches(path: Path, batch_logs: int, min_time: int | None,
                   clock: BlockClock | None = None) -> Iterator[tuple[int, int, list[dict]]]:
    """(first block, last block, logs) chunks that end on block boundaries, in file order. A log without
    blockTimestamp gets its block's time from ``clock``; without one it is an error naming the log."""
    pending: list[dict] = []
    first = last = None
    for n, log in _open_logs(path):
        b = _file_block(path, n, log)
        if last is not None and b < last:
            raise IngestError(f"{path}:{n}: block {b} after block {last}: logs must be in chain order")
        if log.get("blockTimestamp") is None:
            if clock is None:
                raise IngestError(
                    f"{path}:{n}: log tx {log.get('transactionHash')} index {log.get('logIndex')} (block {b}) has "
                    "no blockTimestamp: give its block time with --blocks FILE (block_number,timestamp) or "
                    "--block-time-rpc URL")
            log["blockTimestamp"] = clock.times([b])[b]
        if min_time is not None and _log_time(log) < min_time:
            continue
        if pending and b != last and len(pending) >= batch_logs:
            yield first, last, pending
            pending, first = [], None
        pending.append(log)
        first = b if first is None else first
        last = b
    if pending:
        yield first, last, pending


@_writer("file ingest")
def ingest_world(client: Client, world_dir: Path, *, source: str | None = None, since_seconds: int | None = None,
                 batch_logs: int = 50_000, command: str = "files", clock: BlockClock | None = None,
                 markets: Path | None = None, token_map: Path | None = None) -> IngestStats:
    """Logs from ``logs.jsonl.gz`` (+ ``prices.csv`` into imported_prices), checkpointed per chunk of blocks.

    One pass over the file: the range is world.json's when declared, else the logs' own first and last block.
    ``since_seconds`` keeps only the world's last window (its clock: the end time world.json gives, else the
    last block time), which is what the file-source sync re-ingests.
    """
    world_dir = Path(world_dir)
    logs_path = world_dir / "logs.jsonl.gz"
    if not logs_path.is_file():
        raise IngestError(f"{world_dir}: no logs.jsonl.gz (is this a simulator world directory?)")
    source = source or world_source(world_dir)
    declared = declared_range(world_dir)
    min_time = None if since_seconds is None else _world_end_time(world_dir, clock) - since_seconds
    run = Run(client, source, command, *(declared or (0, 0)))
    run.record("running")
    stats = IngestStats(source=source)
    t0 = time.monotonic()
    last_ts = None
    prog = Progress(f"{command} {source}", (declared[1] - declared[0] + 1) if declared else 0)
    try:
        prev = declared[0] if declared and min_time is None else None
        for first, last, logs in _block_batches(logs_path, batch_logs, min_time, clock):
            prog.update(last - (first if prev is None else prev) + 1, len(logs))
            try:
                stats.add(ingest_logs(client, logs, source=source))
            except ValueError as exc:
                raise IngestError(f"{logs_path}: {exc}") from exc
            start = first if prev is None else prev
            renew_held(client)
            write_checkpoint(client, source, start, last, run_id=run.run_id,
                             logs_by_contract=Counter(log["address"].lower() for log in logs))
            stats.from_block = start if stats.from_block is None else stats.from_block
            stats.to_block, prev = last, last + 1
            ts = logs[-1].get("blockTimestamp")
            last_ts = (int(ts, 16) if isinstance(ts, str) else int(ts)) if ts is not None else last_ts
        # the declared range past the last log (or all of it, for a world without logs) is covered too
        tail = prev if prev is not None else (declared[0] if declared and min_time is None else None)
        if declared and tail is not None and tail <= declared[1]:
            write_checkpoint(client, source, tail, declared[1], run_id=run.run_id)
            stats.from_block = tail if stats.from_block is None else stats.from_block
            stats.to_block = declared[1]
        if not declared:
            run.from_block, run.to_block = stats.from_block or 0, stats.to_block or 0
        prices = world_dir / "prices.csv"
        as_of = _declared_end_time(world_dir) or last_ts
        meta_files = _market_files(world_dir, markets, token_map)
        if (prices.is_file() or meta_files) and as_of is None:
            as_of = _world_end_time(world_dir, clock)
        for kind, path in meta_files:
            from harness.markets import insert_markets, read_gamma_markets
            from harness.markets import read_token_map as _read_token_map

            found = read_gamma_markets(path) if kind == "markets" else _read_token_map(path)
            n_tok, n_px = insert_markets(client, found, version=new_version(), source=f"{source}:{path.name}",
                                         default_as_of=as_of)
            stats.tokens += n_tok
            stats.prices += n_px
        if prices.is_file():
            stats.prices += ingest_prices(client, prices, source=source, as_of=as_of)
    except BaseException as exc:  # any death the process can see marks the run failed
        run.record("failed", stats.logs, f"{type(exc).__name__}: {exc}")
        raise
    finally:
        prog.close()
    stats.seconds = time.monotonic() - t0
    run.record("done", stats.logs, str(stats))
    return stats


#: Market metadata a world directory may carry beside its logs (ingest-files reads them without options).
MARKET_FILES = ("markets.jsonl", "markets.jsonl.gz", "markets.json", "markets.json.gz")
TOKEN_MAP_FILE = "token_map.csv"


def _market_files(world_dir: Path, markets: Path | None, token_map: Path | None) -> list[tuple[str, Path]]:
    """(kind, path) of the markets / token map files to import: the ones given, else the ones in the world dir."""
    out = []
    for kind, given, names in (("markets", markets, MARKET_FILES), ("token_map", token_map, (TOKEN_MAP_FILE,))):
        if given is not None:
            if not Path(given).is_file():
                raise IngestError(f"{given}: no such {kind.replace('_', ' ')} file")
            out.append((kind, Path(given)))
        else:
            out.extend((kind, world_dir / n) for n in names if (world_dir / n).is_file())
    return out


def sync_world(client: Client, world_dir: Path, since_seconds: int = 86_400) -> IngestStats:
    """The file-source sync: re-ingest the world's last ``since_seconds`` (by its own clock); idempotent."""
    return ingest_world(client, world_dir, since_seconds=since_seconds, command="sync")


def _declared_end_time(world_dir: Path) -> int | None:
    meta = _meta(world_dir)
    for key in ("end_time", "last_block_time", "as_of_ts", "now"):
        if isinstance(meta.get(key), int):
            return int(meta[key])
    return None


def _world_end_time(world_dir: Path, clock: BlockClock | None = None) -> int:
    """The world's "now": world.json's end time when given, else the last log's block time."""
    declared = _declared_end_time(world_dir)
    if declared is not None:
        return declared
    end = None
    last = None
    for _, log in _open_logs(Path(world_dir) / "logs.jsonl.gz"):
        t, last = _log_time(log), log
        end = t if t is not None else end
    if last is not None and _log_time(last) is None and clock is not None:
        end = clock.times([_block(last)])[_block(last)]
    if end is None:
        raise IngestError(f"{world_dir}: no block timestamps to tell the world's time")
    return end


def read_prices(path: Path) -> list[tuple[str, int, int]]:
    """(condition id, outcome index, price in micro-USDC) rows; any bad line is an error naming file and line."""
    out = []
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        need = {"condition_id", "outcome_index", "price_micros"}
        if not reader.fieldnames or not need <= set(reader.fieldnames):
            raise IngestError(f"{path}: header must have {sorted(need)}, got {reader.fieldnames}")
        for row in reader:
            line = reader.line_num
            cid = (row["condition_id"] or "").strip().lower()
            cid = cid if cid.startswith("0x") else "0x" + cid
            try:
                idx, price = int(row["outcome_index"]), int(row["price_micros"])
                int(cid, 16)
            except (TypeError, ValueError):
                raise IngestError(f"{path}:{line}: bad price row {dict(row)} (integers and a hex condition id)") \
                    from None
            if len(cid) != 66 or not 0 <= idx <= 255 or not 0 <= price <= 1_000_000:
                raise IngestError(f"{path}:{line}: out of range {dict(row)} (condition id 32 bytes, "
                                  f"outcome 0..255, price_micros 0..1000000)")
            out.append((cid, idx, price))
    return out


def ingest_prices(client: Client, path: Path, *, source: str, as_of: int) -> int:
    """Import a prices CSV into imported_prices, dated ``as_of``; the build applies them over fill prices."""
    from datetime import datetime

    rows = read_prices(path)
    when = datetime.fromtimestamp(as_of, UTC)
    if rows:
        client.insert("imported_prices", [[c, i, p, when, source] for c, i, p in rows],
                      column_names=list(PRICE_COLUMNS))
    return len(rows)


def expected_world_rows(world_dir: Path, clock: BlockClock | None = None) -> dict[str, int]:
    """Live rows per raw table that the world's logs decode to (last write per key wins, retractions removed)."""
    from harness.chain.decode import COLUMNS, Decoded, make_decoder

    keyed: dict[str, dict[tuple, int]] = {}
    dec = make_decoder()
    for _, _, logs in _block_batches(Path(world_dir) / "logs.jsonl.gz", 50_000, None, clock):
        out = dec.feed(logs, Decoded())
        for table, rows in out.rows.items():
            cols = COLUMNS[table]
            if "tx_hash" not in cols:
                continue
            n = 3 if "sub_index" in cols else 2
            idx = [0, 1] + ([cols.index("sub_index")] if n == 3 else [])
            d = keyed.setdefault(table, {})
            for r in rows:
                d[tuple(r[i] for i in idx)] = r[cols.index("_deleted")]
    return {t: sum(1 for v in d.values() if not v) for t, d in keyed.items()}


def requested_range(client: Client, *, world=None, options=None) -> tuple[int, int, str]:
    """(from, to, source) that the gap report checks: the world's range, or the hull of the RPC runs so far.

    ``options`` is anything with ``getoption(name)`` (a pytest config) or None; used for --rpc-url.
    """
    if world is not None:
        path = Path(getattr(world, "path", world))
        lo, hi = world_range(path)
        return lo, hi, world_source(path)
    import os

    url = (options.getoption("--rpc-url") if options is not None else None) or os.environ.get("POLYGON_RPC_URL")
    if not url:
        raise IngestError("no world and no --rpc-url / POLYGON_RPC_URL: nothing to check gaps against")
    source = rpc_source_name(RpcClient(url))
    hull = run_hull(client, source)
    if hull is None:
        raise IngestError(f"{source}: no ingest run recorded yet")
    return hull[0], hull[1], source


# --- command line ----------------------------------------------------------------------------------------------

def _rpc(args) -> RpcClient:
    import os

    from harness.chain.rpc import RetryPolicy

    url = args.rpc_url or os.environ.get("POLYGON_RPC_URL")
    if not url:
        raise IngestError("no RPC endpoint: pass --rpc-url or set POLYGON_RPC_URL")
    return RpcClient(url, timeout=args.rpc_timeout, deadline=args.rpc_deadline,
                     retry=RetryPolicy(attempts=args.retries))


def _client(args):
    """The command's warehouse client, schema applied (a no-op when it is already up to date)."""
    from harness.__main__ import client_from_args

    client, _ = client_from_args(args)
    return client


def _rebuild(client, cutoff: int | None, allow_unmapped: bool = False) -> str:
    try:
        from harness.build import rebuild
    except ImportError:
        return "rebuild skipped (harness.build not available)"
    rep = rebuild(client, cutoff=cutoff, allow_unmapped=allow_unmapped)
    return "\n".join([str(rep)] + rep.warnings())


def _cmd(fn):
    """Errors are reported by harness.__main__.main: one redacted line, exit 2 (1 for a failed check)."""
    return fn


@_cmd
def cmd_backfill(args) -> int:
    client = _client(args)
    from harness.pipeline import parse_age

    if args.since and args.from_block is not None:
        raise IngestError("--since and --from-block both choose the first block: pass one")
    stats = backfill(client, _rpc(args), args.from_block, args.to_block, cutoff=args.cutoff,
                     no_cutoff=args.no_cutoff, since_seconds=parse_age(args.since) if args.since else None,
                     confirmations=args.confirmations, refetch=args.refetch,
                     window=args.window, max_window=args.max_window, batch_logs=args.batch_logs,
                     batch_blocks=args.batch_blocks, preparations=not args.no_preparations)
    print(stats)
    return 0


@_cmd
def cmd_sync(args) -> int:
    from harness.pipeline import parse_age

    client = _client(args)
    stats = sync(client, _rpc(args), parse_age(args.since), margin=args.margin,
                 confirmations=args.confirmations, cutoff=args.cutoff, window=args.window,
                 max_window=args.max_window, preparations=not args.no_preparations)
    print(stats)
    if not args.no_rebuild:
        print(_rebuild(client, args.cutoff, args.allow_unmapped))
    return 0


@_cmd
def cmd_files(args) -> int:
    from harness.pipeline import parse_age

    if args.blocks and args.block_time_rpc:
        raise IngestError("--blocks and --block-time-rpc both give block times: pass one")
    clock = read_blocks_file(Path(args.blocks)) if args.blocks else None
    if args.block_time_rpc:
        clock = BlockClock(rpc=RpcClient(args.block_time_rpc), what="--block-time-rpc")
    client = _client(args)
    stats = ingest_world(client, Path(args.dir), since_seconds=parse_age(args.since) if args.since else None,
                         clock=clock, markets=Path(args.markets) if args.markets else None,
                         token_map=Path(args.token_map) if args.token_map else None)
    print(stats)
    if args.rebuild:
        print(_rebuild(client, None, args.allow_unmapped))
    return 0


@_cmd
def cmd_gaps(args) -> int:
    client = _client(args)
    check_span(args.from_block, args.to_block, "gaps")
    hull = run_hull(client, args.source)
    lo = args.from_block if args.from_block is not None else (hull[0] if hull else None)
    hi = args.to_block if args.to_block is not None else (hull[1] if hull else None)
    if lo is None or hi is None:
        raise IngestError(f"{args.source}: no runs recorded; pass --from-block and --to-block")
    holes = gaps(client, args.source, lo, hi)
    for a, b in holes:
        print(f"{a}\t{b}\t{b - a + 1} blocks")
    print(f"{args.source} {lo}..{hi}: {len(holes)} gap(s), {sum(b - a + 1 for a, b in holes)} blocks missing",
          file=sys.stderr)
    return 1 if holes else 0


def add_commands(sub: argparse._SubParsersAction) -> None:
    from harness.__main__ import warehouse_args

    def rpc_opts(p):
        p.add_argument("--rpc-url", help="Polygon JSON-RPC endpoint (env POLYGON_RPC_URL)")
        p.add_argument("--confirmations", type=non_negative_int, default=DEFAULT_CONFIRMATIONS,
                       help=f"stay this many blocks behind the head (default {DEFAULT_CONFIRMATIONS})")
        p.add_argument("--window", type=positive_int, default=2000, help="initial eth_getLogs block window (adapts)")
        p.add_argument("--max-window", type=positive_int, default=100_000, help="largest eth_getLogs block window")
        p.add_argument("--retries", type=positive_int, default=8,
                       help="attempts per RPC call before giving up (default 8)")
        p.add_argument("--rpc-timeout", type=positive_float, default=30.0,
                       help="seconds a socket read may wait (default 30)")
        p.add_argument("--rpc-deadline", type=positive_float, default=None,
                       help="seconds one RPC request may take in total (default 4 x --rpc-timeout)")
        warehouse_args(p)

    p = sub.add_parser("backfill", help="ingest a block range from a JSON-RPC node (resumable)")
    rpc_opts(p)
    p.add_argument("--from-block", type=non_negative_int)
    p.add_argument("--to-block", type=non_negative_int)
    g = p.add_mutually_exclusive_group()
    g.add_argument("--cutoff", type=non_negative_int, metavar="UNIX_TS",
                   help="stop at the last block at or before this time")
    g.add_argument("--no-cutoff", action="store_true", help="up to the head less --confirmations (the default)")
    p.add_argument("--since", help="start at the first block of this last window instead of --from-block "
                   "(e.g. 7d; measured from the head block's time)")
    p.add_argument("--refetch", action="store_true", help="fetch the whole range even where checkpointed")
    p.add_argument("--batch-logs", type=positive_int, default=20_000, help="logs per insert + checkpoint")
    p.add_argument("--batch-blocks", type=positive_int, default=None, help="also checkpoint at least every N blocks")
    p.add_argument("--no-preparations", action="store_true", help="skip the scan for market preparations before "
                   "the range (ConditionPreparation / QuestionPrepared from the contracts' first blocks)")
    p.set_defaults(func=cmd_backfill)

    p = sub.add_parser("sync", help="daily: ingest the last --since window (+ reorg margin), then rebuild")
    rpc_opts(p)
    p.add_argument("--since", default="24h", help="window to make complete, e.g. 24h, 3d (default 24h)")
    p.add_argument("--margin", type=non_negative_int, default=DEFAULT_MARGIN,
                   help="re-fetch this many last ingested blocks")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--cutoff", type=non_negative_int, metavar="UNIX_TS",
                   help="ingest and rebuild only up to this block time")
    g.add_argument("--no-cutoff", action="store_true", help="up to the head less --confirmations (the default)")
    p.add_argument("--no-rebuild", action="store_true", help="ingest only")
    p.add_argument("--no-preparations", action="store_true", help="skip the scan for earlier market preparations")
    p.add_argument("--allow-unmapped", action="store_true", help="rebuild even when tokens are missing from "
                   "token_map (still reported)")
    p.set_defaults(func=cmd_sync)

    p = sub.add_parser("ingest-files", help="ingest a simulator world directory (logs.jsonl.gz, prices.csv)")
    warehouse_args(p)
    p.add_argument("dir")
    p.add_argument("--since", help="only the world's last window, e.g. 24h")
    p.add_argument("--rebuild", action="store_true", help="rebuild the derived tables afterwards")
    p.add_argument("--blocks", metavar="FILE", help="block times for logs without blockTimestamp: CSV "
                   "block_number,timestamp or JSON lines of blocks with number and timestamp")
    p.add_argument("--block-time-rpc", metavar="URL", help="or ask this JSON-RPC node for those block times")
    p.add_argument("--markets", metavar="FILE", help="Gamma markets JSON / JSON lines: token_map for markets "
                   "prepared before the logs, outcomePrices as prices (default: DIR/markets.jsonl[.gz] if present)")
    p.add_argument("--token-map", metavar="FILE", help="CSV token_id,condition_id,outcome_index[,neg_risk] "
                   "(default: DIR/token_map.csv if present)")
    p.add_argument("--allow-unmapped", action="store_true", help="with --rebuild: build even when tokens are "
                   "missing from token_map (still reported)")
    p.set_defaults(func=cmd_files)

    p = sub.add_parser("gaps", help="list block ranges never ingested for a source (exit 1 when any)")
    warehouse_args(p)
    p.add_argument("--source", required=True, help="e.g. rpc:137 or file:world")
    p.add_argument("--from-block", type=non_negative_int)
    p.add_argument("--to-block", type=non_negative_int)
    p.set_defaults(func=cmd_gaps)

