"""The file source: a world directory (logs.jsonl.gz, world.json, prices.csv, markets) as batches of whole blocks.

The format itself is read through harness.ingest.world_files, its one owner; this module turns it into LogBatches for the sink
and adds what only ingest needs: block times for logs without ``blockTimestamp`` (a blocks file or a node), the
world's own clock for ``--since``, and the expected rows a world decodes to (the backfill gate's count check).
"""
from __future__ import annotations

import logging
import sys
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

from clickhouse_connect.driver.client import Client

from harness.chain.rpc import RpcClient
from harness.ingest import world_files as world
from harness.ingest.progress import Progress
from harness.ingest.result import IngestError, IngestStats, new_version
from harness.ingest.runs import Run, record_unknown, writer
from harness.ingest.sink import LogBatch, block_number, write_batches

log = logging.getLogger(__name__)

#: Market metadata a world directory may carry beside its logs (ingest-files reads them without options).
MARKET_FILES = world.MARKET_FILES
TOKEN_MAP_FILE = world.TOKEN_MAP_FILE


def _logs(path: Path) -> Iterator[tuple[int, dict]]:
    try:
        yield from world.open_logs(path)
    except world.WorldError as exc:
        raise IngestError(str(exc)) from None


def _meta_call(fn, world_dir: Path):
    try:
        return fn(world_dir)
    except world.WorldError as exc:
        raise IngestError(str(exc)) from None


def _file_block(path: Path, n: int, log_: dict) -> int:
    try:
        return block_number(log_)
    except IngestError as exc:
        raise IngestError(f"{path}:{n}: {exc}") from None


def world_source(world_dir: Path) -> str:
    """The checkpoint source of a world directory: ``file:<directory name>``."""
    return f"file:{Path(world_dir).resolve().name}"


def declared_range(world_dir: Path) -> tuple[int, int] | None:
    """The block range world.json declares, if it does."""
    return _meta_call(world.declared_range, Path(world_dir))


def world_range(world_dir: Path) -> tuple[int, int]:
    """The world's block range: from world.json when it says, else the first and last log's blocks."""
    declared = declared_range(world_dir)
    if declared is not None:
        return declared
    lo = hi = None
    path = Path(world_dir) / world.LOGS_FILE
    for n, lg in _logs(path):
        b = _file_block(path, n, lg)
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


def read_blocks_file(path: Path) -> BlockClock:
    """A blocks file (harness.ingest.world_files.read_blocks: CSV block_number,timestamp or JSON blocks) as a BlockClock."""
    try:
        return BlockClock(world.read_blocks(path), what=str(path))
    except world.WorldError as exc:
        raise IngestError(str(exc)) from None


def _log_time(lg: dict) -> int | None:
    ts = lg.get("blockTimestamp")
    return None if ts is None else (int(ts, 16) if isinstance(ts, str) else int(ts))


def _block_batches(path: Path, batch_logs: int, min_time: int | None,
                   clock: BlockClock | None = None) -> Iterator[tuple[int, int, list[dict]]]:
    """(first block, last block, logs) chunks that end on block boundaries, in file order. A log without
    blockTimestamp gets its block's time from ``clock``; without one it is an error naming the log."""
    pending: list[dict] = []
    first = last = None
    for n, lg in _logs(path):
        b = _file_block(path, n, lg)
        if last is not None and b < last:
            raise IngestError(f"{path}:{n}: block {b} after block {last}: logs must be in chain order")
        if lg.get("blockTimestamp") is None:
            if clock is None:
                raise IngestError(
                    f"{path}:{n}: log tx {lg.get('transactionHash')} index {lg.get('logIndex')} (block {b}) has "
                    "no blockTimestamp: give its block time with --blocks FILE (block_number,timestamp) or "
                    "--block-time-rpc URL")
            lg["blockTimestamp"] = clock.times([b])[b]
        if min_time is not None and _log_time(lg) < min_time:
            continue
        if pending and b != last and len(pending) >= batch_logs:
            yield first, last, pending
            pending, first = [], None
        pending.append(lg)
        first = b if first is None else first
        last = b
    if pending:
        yield first, last, pending


def world_batches(world_dir: Path, *, batch_logs: int = 50_000, min_time: int | None = None,
                  clock: BlockClock | None = None) -> Iterator[LogBatch]:
    """LogBatches covering the world's range without a hole: each batch starts where the last ended (from the
    declared first block), and the declared range past the last log is one empty batch, so it is checkpointed too.
    With ``min_time`` only the world's last window is read, from its first kept log."""
    path = Path(world_dir) / world.LOGS_FILE
    declared = declared_range(world_dir)
    whole = declared is not None and min_time is None
    prev = declared[0] if whole else None
    for first, last, logs in _block_batches(path, batch_logs, min_time, clock):
        yield LogBatch(first if prev is None else prev, last, logs)
        prev = last + 1
    tail = prev if prev is not None else (declared[0] if whole else None)
    if declared and tail is not None and tail <= declared[1]:
        yield LogBatch(tail, declared[1], [])


def _world_end_time(world_dir: Path, clock: BlockClock | None = None) -> int:
    """The world's "now": world.json's end time when given, else the last log's block time."""
    declared = _meta_call(world.declared_end_time, Path(world_dir))
    if declared is not None:
        return declared
    end = last = None
    for _, lg in _logs(Path(world_dir) / world.LOGS_FILE):
        t, last = _log_time(lg), lg
        end = t if t is not None else end
    if last is not None and _log_time(last) is None and clock is not None:
        end = clock.times([block_number(last)])[block_number(last)]
    if end is None:
        raise IngestError(f"{world_dir}: no block timestamps to tell the world's time")
    return end


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


@writer("file ingest")
def ingest_world(client: Client, world_dir: Path, *, source: str | None = None, since_seconds: int | None = None,
                 batch_logs: int = 50_000, command: str = "files", clock: BlockClock | None = None,
                 markets: Path | None = None, token_map: Path | None = None,
                 progress: bool | None = None) -> IngestStats:
    """Logs from ``logs.jsonl.gz`` (+ ``prices.csv`` into imported_prices, a markets file into token_map,
    imported_prices and market_metadata), checkpointed per chunk of blocks.

    One pass over the file: the range is world.json's when declared, else the logs' own first and last block.
    ``since_seconds`` keeps only the world's last window (its clock: the end time world.json gives, else the
    last block time), which is what the file-source sync re-ingests.
    """
    from harness.ingest.prices import ingest_prices

    world_dir = Path(world_dir)
    logs_path = world_dir / world.LOGS_FILE
    if not logs_path.is_file():
        raise IngestError(f"{world_dir}: no {world.LOGS_FILE} (is this a simulator world directory?)")
    source = source or world_source(world_dir)
    declared = declared_range(world_dir)
    min_time = None if since_seconds is None else _world_end_time(world_dir, clock) - since_seconds
    run = Run(client, source, command, *(declared or (0, 0)))
    run.record("running")
    stats = IngestStats(source=source, run_id=run.run_id)
    t0 = time.monotonic()
    last_ts: list[int] = []
    prog = Progress(f"{command} {source}", (declared[1] - declared[0] + 1) if declared else 0, enabled=progress)

    def on_batch(b: LogBatch) -> None:
        prog.update(b.to_block - b.from_block + 1, len(b.logs))
        if b.logs and (t := _log_time(b.logs[-1])) is not None:
            last_ts[:] = [t]

    try:
        write_batches(client, world_batches(world_dir, batch_logs=batch_logs, min_time=min_time, clock=clock),
                      source=source, run_id=run.run_id, stats=stats, where=lambda b: str(logs_path),
                      on_batch=on_batch)
        if not declared:
            run.from_block, run.to_block = stats.from_block or 0, stats.to_block or 0
        prices = world_dir / world.PRICES_FILE
        as_of = _meta_call(world.declared_end_time, world_dir) or (last_ts[0] if last_ts else None)
        meta_files = _market_files(world_dir, markets, token_map)
        if (prices.is_file() or meta_files) and as_of is None:
            as_of = _world_end_time(world_dir, clock)
        for kind, path in meta_files:
            from harness.ingest.markets import insert_markets, read_gamma_markets
            from harness.ingest.markets import read_token_map as _read_token_map
            from harness.ingest.metadata import insert_markets as insert_names
            from harness.ingest.metadata import read_markets_file

            found = read_gamma_markets(path) if kind == "markets" else _read_token_map(path)
            names = read_markets_file(path) if kind == "markets" else None  # checked before anything is written
            n_tok, n_px = insert_markets(client, found, version=new_version(), source=f"{source}:{path.name}",
                                         default_as_of=as_of)
            stats.tokens += n_tok
            stats.prices += n_px
            if names is not None:  # the same file's questions, slugs and outcome names (market_metadata)
                stats.markets += insert_names(client, names.markets, version=new_version(),
                                              source=f"gamma:{path.name}")
        if prices.is_file():
            stats.prices += ingest_prices(client, prices, source=source, as_of=as_of)
    except BaseException as exc:  # any death the process can see marks the run failed
        run.record("failed", stats.logs, f"{type(exc).__name__}: {exc}")
        raise
    finally:
        prog.close(finished=sys.exc_info()[0] is None)
    stats.seconds = time.monotonic() - t0
    record_unknown(client, run, stats.unknown)
    run.record("done", stats.logs, str(stats))
    return stats


def sync_world(client: Client, world_dir: Path, since_seconds: int = 86_400) -> IngestStats:
    """The file-source sync: re-ingest the world's last ``since_seconds`` (by its own clock); idempotent."""
    return ingest_world(client, world_dir, since_seconds=since_seconds, command="sync")


def expected_world_rows(world_dir: Path, clock: BlockClock | None = None) -> dict[str, int]:
    """Live rows per raw table that the world's logs decode to (last write per key wins, retractions removed)."""
    from harness.chain.decode import COLUMNS, Decoded, make_decoder

    keyed: dict[str, dict[tuple, int]] = {}
    dec = make_decoder()
    for _, _, logs in _block_batches(Path(world_dir) / world.LOGS_FILE, 50_000, None, clock):
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
