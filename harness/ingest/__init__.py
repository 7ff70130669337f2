"""Ingestion: JSON-RPC (backfill, daily sync) and world files, through one decode-insert-checkpoint loop.

Layout (one module per noun): ``rpc_source`` and ``file_source`` yield LogBatches; ``sink`` is the single loop
that inserts a batch and only then checkpoints it (safe to kill at any point: see sink); ``coverage`` turns
checkpoints into coverage and gaps; ``runs`` records runs and unknown events; ``progress`` reports long runs;
``prices`` imports mark prices; ``commands`` is the argparse side. The names below are the public API, as
importable from ``harness.ingest`` as when this was one module.
"""
from __future__ import annotations

from pathlib import Path

from clickhouse_connect.driver.client import Client

from harness.chain.rpc import RpcClient
from harness.ingest.coverage import (
    complement,
    contiguous_end,
    coverage,
    gaps,
    ingest_addresses,
    ingest_topic0s,
    merge_ranges,
    run_hull,
)
from harness.ingest.file_source import (
    MARKET_FILES,
    TOKEN_MAP_FILE,
    BlockClock,
    declared_range,
    expected_world_rows,
    ingest_world,
    read_blocks_file,
    sync_world,
    world_batches,
    world_range,
    world_source,
)
from harness.ingest.prices import PRICE_COLUMNS, ingest_prices, read_prices
from harness.ingest.progress import Progress
from harness.ingest.result import IngestError, IngestStats, new_version
from harness.ingest.rpc_source import (
    DEFAULT_CONFIRMATIONS,
    DEFAULT_MARGIN,
    PREPARATION_EVENTS,
    RpcSource,
    backfill,
    plan_range,
    preparation_filter,
    preparations_source,
    rpc_source_name,
    scan_preparations,
    sync,
)
from harness.ingest.runs import Run, mark_abandoned_runs, record_unknown, unknown_events
from harness.ingest.sink import (
    LogBatch,
    ingest_logs,
    retract_vanished,
    uncover_above,
    write_batches,
    write_checkpoint,
)

__all__ = [
    "DEFAULT_CONFIRMATIONS", "DEFAULT_MARGIN", "MARKET_FILES", "PREPARATION_EVENTS", "PRICE_COLUMNS",
    "TOKEN_MAP_FILE", "BlockClock", "IngestError", "IngestStats", "LogBatch", "Progress", "RpcSource", "Run",
    "backfill", "complement", "contiguous_end", "coverage", "declared_range", "expected_world_rows",
    "gaps", "ingest_addresses", "ingest_logs", "ingest_prices", "ingest_topic0s", "ingest_world",
    "mark_abandoned_runs", "merge_ranges", "new_version", "plan_range", "preparation_filter", "preparations_source",
    "read_blocks_file", "read_prices", "record_unknown", "requested_range", "retract_vanished", "rpc_source_name",
    "run_hull", "scan_preparations", "sync", "sync_world", "uncover_above", "unknown_events", "world_batches",
    "world_range", "world_source", "write_batches", "write_checkpoint",
]


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
