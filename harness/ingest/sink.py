"""The one write path: decode a batch, insert its rows, then checkpoint its block span (never the other way round).

Why it is safe to kill at any point: raw tables are ReplacingMergeTree keyed by (tx hash, log index), so
re-inserting a log changes nothing, and a checkpoint (source, contract, block range) is written only after every
row of its range is inserted. Sources (RPC windows, world files) only yield ``LogBatch``es; ``write_batches``
is the single loop that turns them into rows and checkpoints.
"""
from __future__ import annotations

import gc
import logging
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from clickhouse_connect.driver.client import Client

from harness.ingest.coverage import ingest_addresses
from harness.ingest.result import IngestError, IngestStats, new_version
from harness.warehouse.lease import renew_held
from harness.warehouse.sql import load

log = logging.getLogger(__name__)

#: Pieces (windows) between young-generation collections while the collector is paused (cycles are rare on this
#: path); a collection runs at the end of a batch, when its logs and rows are no longer held.
GC_EVERY = 32


@dataclass
class LogBatch:
    """Logs of the closed span [from_block, to_block], complete for it: safe to checkpoint once inserted.

    ``ends_batch=False`` marks a piece (one getLogs window): the sink decodes it at once, while the source fetches
    the next, and inserts + checkpoints the pieces together with the next batch that ends one (so inserts stay
    large while decoding overlaps the node's work)."""

    from_block: int
    to_block: int
    logs: list[dict]
    block_times: dict[int, int] | None = None  # for logs without blockTimestamp
    retract: tuple[int, int] | None = None  # part of the span re-fetched whole: vanished logs are retracted
    ends_batch: bool = True


def block_number(log_: dict) -> int:
    """A log's block number (hex string or int); an IngestError naming the value otherwise."""
    v = log_["blockNumber"]
    try:
        b = int(v, 16) if isinstance(v, str) else (v if v.__class__ is int else None)
    except ValueError:
        b = None
    if b is None or b < 0:
        raise IngestError(f"blockNumber {str(v)[:40]!r} is not a block number (hex string or integer >= 0)")
    return b


def insert_decoded(client: Client, decoded, *, source: str, contexts: dict | None = None) -> IngestStats:
    """Insert decoded rows (the only insert path for raw tables), column-oriented: one list per column, so
    clickhouse-connect skips its per-row transpose. ``contexts``: insert contexts kept for one run (table ->
    context), so the table's column types are asked once per run, not before every insert (a DESCRIBE each)."""
    from harness.chain.decode import COLUMNS

    stats = IngestStats(source=source, logs=decoded.count)
    for table, rows in decoded.rows.items():
        if rows:
            cols = [list(c) for c in zip(*rows)]
            if contexts is None:
                client.insert(table, cols, column_names=list(COLUMNS[table]), column_oriented=True)
            else:
                ctx = contexts.get(table)
                if ctx is None:
                    ctx = contexts[table] = client.create_insert_context(table, list(COLUMNS[table]),
                                                                         column_oriented=True)
                ctx.data = cols
                try:
                    client.insert(context=ctx)
                finally:
                    ctx.data = None  # the context outlives the batch: its rows must not
            stats.rows[table] += len(rows)
    stats.unknown.update(decoded.unknown)
    return stats


def ingest_logs(client: Client, logs: Iterable[dict], *, source: str, version: int | None = None,
                block_times: dict[int, int] | None = None) -> IngestStats:
    """Decode logs and insert their rows. Removed logs become retractions."""
    from harness.chain.decode import decode_logs

    version = new_version() if version is None else version
    return insert_decoded(client, decode_logs(logs, block_times=block_times, version=version), source=source)


def write_checkpoint(client: Client, source: str, from_block: int, to_block: int, *, run_id: str,
                     logs_by_contract: dict[str, int] | None = None, contracts: list[str] | None = None) -> None:
    """Record [from_block, to_block] as ingested for each contract: call only after its rows are inserted."""
    contracts = contracts or ingest_addresses()
    counts = logs_by_contract or {}
    client.insert("ingest_checkpoints",
                  [[source, c, from_block, to_block, counts.get(c, 0), run_id] for c in contracts],
                  column_names=["source", "contract", "from_block", "to_block", "logs", "run_id"])


def retract_vanished(client: Client, canonical_logs: list[dict], lo: int, hi: int, *, version: int) -> int:
    """Retract rows in blocks [lo, hi] whose log is not among ``canonical_logs`` (a complete re-fetch). Count."""
    from harness.chain.decode import COLUMNS, is_removed

    keep = {(lg["transactionHash"].lower(), int(lg["logIndex"], 16) if isinstance(lg["logIndex"], str)
             else int(lg["logIndex"])) for lg in canonical_logs
            if not is_removed(lg) and lo <= block_number(lg) <= hi}
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
    if gone_total:
        log.info("retracted %d rows of logs no longer on the chain in blocks %d..%d", gone_total, lo, hi)
    return gone_total


def uncover_above(client: Client, source: str, hi: int) -> None:
    """Forget checkpointed coverage above block ``hi`` (ranges that straddle it are cut at ``hi``)."""
    straddling = [(c, int(a)) for c, a, b in client.query(
        load("ingest/checkpoint_ranges"), parameters={"source": source, "lo": hi + 1, "hi": 2**63 - 1}).result_rows
        if int(a) <= hi]
    client.command(load("ingest/uncover_above"), parameters={"source": source, "hi": hi})
    for contract, a in straddling:
        write_checkpoint(client, source, a, hi, run_id="trimmed", contracts=[contract])
    log.warning("%s: coverage above block %d forgotten (the chain is shorter than what was ingested)", source, hi)


@contextmanager
def paused_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector for a run of batches (it cost ~28% of ingest time scanning the live
    logs of each batch again and again); objects from before the run are frozen out of its scans."""
    was = gc.isenabled()
    gc.freeze()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()
        gc.unfreeze()


def write_batches(client: Client, batches: Iterable[LogBatch], *, source: str, run_id: str, stats: IngestStats,
                  contracts: list[str] | None = None, where: Callable[[LogBatch], str] | None = None,
                  on_batch: Callable[[LogBatch], None] | None = None) -> None:
    """The single insert-then-checkpoint loop: decode each batch (or piece) as it arrives; at the end of a batch
    insert its rows, retract what vanished from its re-fetched span, renew the writer lease, then checkpoint the
    span. ``where`` names a batch in errors; ``on_batch`` sees every batch and piece once decoded."""
    from harness.chain.decode import Decoded, make_decoder

    dec = decoded = start = cut = None
    logs: list[dict] = []
    contexts: dict = {}
    pieces = 0
    with paused_gc():
        for b in batches:
            if dec is None:
                dec, decoded, start, cut, logs = make_decoder(version=new_version()), Decoded(), b.from_block, None, []
            if b.block_times:
                dec.block_times = {**dec.block_times, **b.block_times}
            try:
                dec.feed(b.logs, decoded)
            except ValueError as exc:  # DecodeError names the tx hash and log index
                label = where(b) if where else f"{source} blocks {b.from_block}..{b.to_block}"
                raise IngestError(f"{label}: {exc}") from exc
            logs.extend(b.logs)
            if b.retract is not None:
                cut = b.retract if cut is None else (min(cut[0], b.retract[0]), max(cut[1], b.retract[1]))
            pieces += 1
            if b.ends_batch:
                stats.add(insert_decoded(client, decoded, source=source, contexts=contexts))
                if cut is not None:
                    stats.retracted += retract_vanished(client, logs, *cut, version=new_version())
                renew_held(client)
                write_checkpoint(client, source, start, b.to_block, run_id=run_id, contracts=contracts,
                                 logs_by_contract=Counter(lg["address"].lower() for lg in logs))
                stats.span(start, b.to_block)
                # the batch's logs and rows are freed now (reference counts), before any collection: a young-
                # generation pass then scans only what survives, not the batch (it cost 0.05-0.1 s per run when
                # the last batch was still held as the collector came back on)
                dec = decoded = None
                logs = []
            if on_batch is not None:
                on_batch(b)
            if dec is None and pieces >= GC_EVERY:
                gc.collect(0)
                pieces = 0
        b = None  # nor the last piece and the contexts' last columns, when the collector comes back on
        contexts.clear()
    if dec is not None:
        raise IngestError(f"{source}: the source ended inside a batch (blocks {start}..): nothing after the last "
                          "checkpoint was recorded")
