"""The JSON-RPC source: which blocks to fetch (plan_range, gaps), the windows that fetch them (RpcSource, in a
background thread so the node works while the last window is decoded and inserted), backfill and sync.

Reorgs: a sync re-fetches the last ``margin`` ingested blocks and retracts (higher ``_version``, ``_deleted`` = 1)
logs that are no longer on the canonical chain, as well as any log the node reports with ``removed: true``.
"""
from __future__ import annotations

import logging
import queue
import sys
import threading
import time
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor

from clickhouse_connect.driver.client import Client

from harness.chain.rpc import RpcClient, iter_windows
from harness.errors import check_span, require
from harness.ingest.coverage import complement, contiguous_end, coverage, gaps, ingest_addresses, merge_ranges
from harness.ingest.progress import Progress
from harness.ingest.result import IngestError, IngestStats, new_version
from harness.ingest.runs import Run, record_unknown, writer
from harness.ingest.sink import LogBatch, block_number, retract_vanished, uncover_above, write_batches

log = logging.getLogger(__name__)

DEFAULT_CONFIRMATIONS = 64
DEFAULT_MARGIN = 64
#: Fetched windows waiting to be decoded: the node runs ahead of decode + insert by at most this many.
PREFETCH = 4
#: Most eth_getLogs requests in flight at once (--rpc-concurrency): hosted nodes rate-limit well before this.
MAX_CONCURRENCY = 64

#: Market-structure events: token_map and the negRisk questions come from these, so a range whose markets were
#: prepared before it needs them from the contracts' first blocks.
PREPARATION_EVENTS = ("ctf.ConditionPreparation", "adapter.QuestionPrepared")


def rpc_source_name(rpc: RpcClient) -> str:
    """The checkpoint source of a node: ``rpc:<chain id>`` (every endpoint of one chain shares it)."""
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


class RpcSource:
    """Batches of eth_getLogs windows over block ranges, fetched ahead in a background thread.

    Every log of ``addresses`` is asked for (no topic filter unless ``topic0s``): unknown events are then counted
    by the decoder rather than never seen. A batch closes at ``batch_logs`` logs, every ``batch_blocks`` blocks
    and at the end of each range; its block times are fetched with it when the node omits ``blockTimestamp``.
    """

    def __init__(self, rpc: RpcClient, *, addresses: list[str] | None = None, topic0s: list[str] | None = None,
                 window: int = 2000, max_window: int = 100_000, batch_logs: int = 20_000,
                 batch_blocks: int | None = None, prefetch: int = PREFETCH,
                 any_address: list[str] | None = None, concurrency: int = 1) -> None:
        require(isinstance(concurrency, int) and 1 <= concurrency <= MAX_CONCURRENCY,
                f"concurrency={concurrency} must be 1..{MAX_CONCURRENCY} eth_getLogs requests in flight")
        self.rpc, self.addresses, self.topic0s = rpc, addresses or ingest_addresses(), topic0s
        self.window, self.max_window, self.batch_logs, self.batch_blocks = window, max_window, batch_logs, batch_blocks
        self.prefetch = prefetch
        #: eth_getLogs requests in flight at once (1: one after the other, the adaptive window of iter_windows)
        self.concurrency = concurrency
        if concurrency > 1:
            rpc.pool(concurrency + 2)
        #: topic0s of the events emitted by contracts known only at run time (the FPMMs): a full fetch (no
        #: ``addresses`` / ``topic0s`` given) also asks every address for them, window by window
        self.any_address = any_address if any_address is not None else (
            any_address_filter() if addresses is None and topic0s is None else None)

    def _any_logs(self, lo: int, hi: int, logs: list[dict]) -> list[dict]:
        """``logs`` plus the any-address events of blocks lo..hi, in chain order (both fetches are complete for
        the window, so the batch stays complete: one checkpoint, and a re-fetch retracts vanished FPMM logs too)."""
        if not self.any_address:
            return logs
        extra = [lg for _a, _b, got in iter_windows(self.rpc, lo, hi, addresses=None, topic0s=self.any_address,
                                                      window=hi - lo + 1, max_window=self.max_window)
                 for lg in got]
        if not extra:
            return logs
        return sorted(logs + extra, key=_chain_order)

    def _windows(self, lo: int, hi: int) -> Iterator[tuple[int, int, list[dict]]]:
        """(from, to, logs) of consecutive complete windows over [lo, hi], any-address events included: one
        request at a time (iter_windows), or ``concurrency`` in flight (_windows_concurrent)."""
        if self.concurrency > 1:
            yield from self._windows_concurrent(lo, hi)
            return
        for w_lo, w_hi, logs in iter_windows(self.rpc, lo, hi, addresses=self.addresses, topic0s=self.topic0s,
                                             window=self.window, max_window=self.max_window):
            yield w_lo, w_hi, self._any_logs(w_lo, w_hi, logs)

    def _fetch(self, lo: int, hi: int, any_address: bool) -> tuple[list[dict], int]:
        """Every log of one filter in [lo, hi] (halved inside as the node asks), and the smallest sub-window."""
        out: list[dict] = []
        smallest = hi - lo + 1
        for a, b, got in iter_windows(self.rpc, lo, hi, addresses=None if any_address else self.addresses,
                                      topic0s=self.any_address if any_address else self.topic0s,
                                      window=hi - lo + 1, max_window=hi - lo + 1):
            out.extend(got)
            smallest = min(smallest, b - a + 1)
        return out, smallest

    def _windows_concurrent(self, lo: int, hi: int, *, grow_below: int = 2000,
                            grow_after: int = 4) -> Iterator[tuple[int, int, list[dict]]]:
        """Like iter_windows, with up to ``concurrency`` eth_getLogs requests in flight (each filter of a window
        is a request of its own; the pool's workers are the bound) and the windows handed on in block order, each
        once complete. A window the node refuses is halved inside its request (nothing skipped) and later windows
        are planned at the smaller size; the size grows back by iter_windows' rule. A failed request raises when its window's turn comes: the
        windows before it are handed on (and checkpointed by the sink), none after it."""
        size = min(self.window, self.max_window)
        streak = grow_after
        nxt = lo
        ahead: deque[tuple[int, int, Future, Future | None]] = deque()
        pool = ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix="getLogs")
        try:
            while ahead or nxt <= hi:
                # ``concurrency`` windows planned ahead (up to twice as many requests queued); the pool's
                # ``concurrency`` workers run them, so a freed slot takes the next request at once
                while nxt <= hi and len(ahead) < self.concurrency:
                    end = min(hi, nxt + size - 1)
                    fa = pool.submit(self._fetch, nxt, end, True) if self.any_address else None
                    ahead.append((nxt, end, pool.submit(self._fetch, nxt, end, False), fa))
                    nxt = end + 1
                a, b, fm, fa = ahead.popleft()
                logs, smallest = fm.result()
                if fa is not None:
                    extra, s2 = fa.result()
                    smallest = min(smallest, s2)
                    if extra:
                        logs = sorted(logs + extra, key=_chain_order)
                if smallest < b - a + 1:  # the node refused this size: plan the rest smaller
                    size, streak = min(size, smallest), 0
                else:
                    streak += 1
                    if len(logs) < grow_below and streak >= grow_after and size < self.max_window:
                        size = min(self.max_window, size * 2)
                yield a, b, logs
        finally:  # done or failed: requests not yet started are dropped, running ones end on their own
            pool.shutdown(wait=False, cancel_futures=True)

    def _produce(self, ranges: list[tuple[int, int]], retract: tuple[int, int] | None) -> Iterator[LogBatch]:
        """One piece per window; the piece that closes a batch (batch_logs, batch_blocks, end of a range) says so."""
        for lo, hi in ranges:
            n = 0
            b_lo = lo
            for w_lo, w_hi, logs in self._windows(lo, hi):
                n += len(logs)
                need = {block_number(lg) for lg in logs if lg.get("blockTimestamp") is None}
                times = self.rpc.block_times(need) if need else None
                cut = None
                if retract is not None and w_lo <= retract[1] and w_hi >= retract[0]:
                    cut = (max(w_lo, retract[0]), min(w_hi, retract[1]))
                end = (n >= self.batch_logs or w_hi == hi
                       or bool(self.batch_blocks and w_hi - b_lo + 1 >= self.batch_blocks))
                yield LogBatch(w_lo, w_hi, logs, times, cut, ends_batch=end)
                if end:
                    n, b_lo = 0, w_hi + 1

    def batches(self, ranges: list[tuple[int, int]], retract: tuple[int, int] | None = None) -> Iterator[LogBatch]:
        """LogBatches covering ``ranges`` exactly once, in order; windows inside ``retract`` (an already ingested
        span fetched again whole) carry it, so the sink retracts logs that vanished from it."""
        if self.prefetch <= 0:
            yield from self._produce(ranges, retract)
            return
        q: queue.Queue = queue.Queue(maxsize=self.prefetch)
        stop = threading.Event()
        done = object()

        def put(item) -> bool:
            while not stop.is_set():
                try:
                    q.put(item, timeout=0.2)
                    return True
                except queue.Full:
                    continue
            return False

        def run() -> None:
            try:
                for b in self._produce(ranges, retract):
                    if not put(b):
                        return
                put(done)
            except BaseException as exc:  # noqa: BLE001 - handed to the consumer, raised in its thread
                put(exc)

        worker = threading.Thread(target=run, name="getLogs prefetch", daemon=True)
        worker.start()
        try:
            while True:
                item = q.get()
                if item is done:
                    return
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:  # done, or the consumer failed / was stopped: a fetch still in flight is abandoned (daemon)
            stop.set()
            worker.join(timeout=0.5)


def _chain_order(lg: dict) -> tuple[int, int]:
    """(block, log index): the order of logs on the chain."""
    return block_number(lg), int(lg["logIndex"], 16) if isinstance(lg["logIndex"], str) else lg["logIndex"]


def any_address_filter() -> list[str]:
    """topic0s of the events decoded from any address: the FPMMs' trades and funding, fetched by topic over every
    address. Why a topic filter and not the FPMM addresses from fpmm_creations: the creations and the trades can
    arrive in the same window, the list runs to thousands of addresses (more than nodes take in one filter), and a
    log of an FPMM some other factory made costs one stored row, which the build ignores (it joins on
    fpmm_creations). No start block: a full backfill starts at the CTF's first block, 7 blocks before the
    factory's, so a gate would save nothing on Polygon and would hide a local node's FPMMs (blocks from 0)."""
    from harness.chain.events import any_address_events

    return sorted(any_address_events())


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
    src = RpcSource(rpc, addresses=addrs, topic0s=topics, window=window, max_window=max_window)
    return run_rpc(client, rpc, src, "preparations", psource, lo, to_block, todo, None, progress=progress)


def _check_fetch(window: int, max_window: int, batch_logs: int, batch_blocks: int | None) -> None:
    """The paging options, checked by name before anything is fetched (a 0 window would loop forever)."""
    for name, v in (("window", window), ("max_window", max_window), ("batch_logs", batch_logs)):
        require(isinstance(v, int) and v >= 1, f"{name}={v} must be at least 1")
    require(batch_blocks is None or batch_blocks >= 1, f"batch_blocks={batch_blocks} must be at least 1")


def _client(rpc_url) -> RpcClient:
    return rpc_url if isinstance(rpc_url, RpcClient) else RpcClient(rpc_url)


def _counts(rpc: RpcClient) -> tuple[int, int, int, int]:
    """The client's retry / refusal / timeout-halving / failover counters now (a run reports its own share)."""
    s = rpc.stats
    return s.retries, s.range_errors, s.timeout_halvings, s.failovers


@writer("backfill")
def backfill(client: Client, rpc_url, from_block: int | None = None, to_block: int | None = None,
             *, cutoff: int | None = None, no_cutoff: bool = False, since_seconds: int | None = None,
             confirmations: int = DEFAULT_CONFIRMATIONS, refetch: bool = False, source: str | None = None,
             window: int = 2000, max_window: int = 100_000, batch_logs: int = 20_000,
             batch_blocks: int | None = None, progress: bool | None = None,
             preparations: bool = True, concurrency: int = 1) -> IngestStats:
    """Ingest every block of the selected range not yet checkpointed (all of it with ``refetch``), then (with
    ``preparations``) the market preparations before it that nothing has covered yet (scan_preparations).
    ``rpc_url``: an RpcClient, a URL, a comma-separated list or a list of URLs (failover). ``concurrency``:
    eth_getLogs requests in flight (RpcSource), for a node whose answers are slow rather than busy."""
    _check_fetch(window, max_window, batch_logs, batch_blocks)
    rpc = _client(rpc_url)
    base = _counts(rpc)
    source = source or rpc_source_name(rpc)
    lo, hi = plan_range(rpc, from_block=from_block, to_block=to_block, cutoff=cutoff, no_cutoff=no_cutoff,
                        since_seconds=since_seconds, confirmations=confirmations)
    todo = [(lo, hi)] if refetch and lo <= hi else gaps(client, source, lo, hi)
    # A refetch is a complete re-read of the range: logs no longer on the chain (a reorg) are retracted.
    retract = (lo, hi) if refetch and lo <= hi else None
    src = RpcSource(rpc, window=window, max_window=max_window, batch_logs=batch_logs, batch_blocks=batch_blocks,
                    concurrency=concurrency)
    stats = run_rpc(client, rpc, src, "backfill", source, lo, hi, todo, retract, progress=progress, base=base)
    if preparations and lo <= hi:
        stats.preparations = scan_preparations(client, rpc, hi, source=source, window=window,
                                               max_window=max_window, progress=progress).logs
    return stats


@writer("sync")
def sync(client: Client, rpc_url, since_seconds: int = 86_400, *,
         margin: int = DEFAULT_MARGIN, confirmations: int = DEFAULT_CONFIRMATIONS, cutoff: int | None = None,
         source: str | None = None, window: int = 2000, max_window: int = 100_000, batch_logs: int = 20_000,
         progress: bool | None = None, preparations: bool = True, concurrency: int = 1) -> IngestStats:
    """The daily run: fill every gap of the last ``since_seconds`` up to head - confirmations, and re-fetch the
    last ``margin`` ingested blocks, retracting logs a reorg removed. When the last contiguous checkpoint is
    older than the window (a missed day), it starts there instead, and says so in the stats."""
    _check_fetch(window, max_window, batch_logs, None)
    require(isinstance(margin, int) and margin >= 0, f"margin={margin} must be 0 or more blocks")
    rpc = _client(rpc_url)
    base = _counts(rpc)
    source = source or rpc_source_name(rpc)
    lo, hi = plan_range(rpc, cutoff=cutoff, since_seconds=since_seconds, confirmations=confirmations)
    notes = []
    tail = contiguous_end(client, source)
    if tail is not None and tail + 1 < lo:  # a missed day (or more): fill from the last contiguous checkpoint
        notes.append(f"last contiguous checkpoint {tail} is older than the window (starts at block {lo}): "
                     f"filled from block {tail + 1}")
        log.warning("%s: %s", source, notes[-1])
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
    src = RpcSource(rpc, window=window, max_window=max_window, batch_logs=batch_logs, concurrency=concurrency)
    stats = run_rpc(client, rpc, src, "sync", source, lo, hi, todo, retract, progress=progress, base=base)
    stats.retracted += above
    stats.notes += notes
    if preparations and lo <= hi:
        stats.preparations = scan_preparations(client, rpc, hi, source=source, window=window,
                                               max_window=max_window, progress=progress).logs
    return stats


def run_rpc(client: Client, rpc: RpcClient, src: RpcSource, command: str, source: str, lo: int, hi: int,
            todo: list[tuple[int, int]], retract: tuple[int, int] | None, *,
            progress: bool | None = None, base: tuple[int, int, int, int] | None = None) -> IngestStats:
    """One recorded run: ``src``'s batches over ``todo`` through the sink; the run row says how it ended.
    ``base``: the client's counters when the command started (planning may already have retried)."""
    run = Run(client, source, command, lo, hi)
    run.record("running", detail=f"todo {todo[:20]}")
    stats = IngestStats(source=source, run_id=run.run_id)
    prog = Progress(f"{command} {source}", sum(b - a + 1 for a, b in todo), enabled=progress)
    base = base or _counts(rpc)
    t0 = time.monotonic()
    try:
        write_batches(client, src.batches(todo, retract), source=source, run_id=run.run_id, stats=stats,
                      contracts=src.addresses,
                      on_batch=lambda b: prog.update(b.to_block - b.from_block + 1, len(b.logs)))
        stats.ranges = len(todo)
    except BaseException as exc:  # any death the process can see (errors, SIGTERM, Ctrl-C) marks the run failed
        stats.seconds = time.monotonic() - t0
        run.record("failed", stats.logs, f"{type(exc).__name__}: {exc}")
        raise
    finally:
        prog.close(finished=sys.exc_info()[0] is None)
        stats.retries, stats.range_errors, stats.timeout_halvings, stats.failovers = (
            now - then for now, then in zip(_counts(rpc), base))
    stats.seconds = time.monotonic() - t0
    record_unknown(client, run, stats.unknown)
    run.record("done", stats.logs, str(stats))
    return stats
