"""The one insert-then-checkpoint loop: pieces of a batch are decoded as they come but nothing of the batch is
inserted or checkpointed until the piece that ends it, so a source dying mid-batch leaves no row and no coverage."""
from __future__ import annotations

import pytest

from harness import ingest
from harness.gates.pipeline import RAW_TABLES, table_counts
from tests.support.chainlogs import make_logs


def _pieces(logs, per: int):
    """LogBatches of ``per`` blocks each over the logs' blocks; the last one ends the batch."""
    blocks = sorted({int(lg["blockNumber"], 16) for lg in logs})
    lo, hi = blocks[0], blocks[-1]
    out = []
    for a in range(lo, hi + 1, per):
        b = min(hi, a + per - 1)
        out.append(ingest.LogBatch(a, b, [lg for lg in logs if a <= int(lg["blockNumber"], 16) <= b],
                                   ends_batch=b == hi))
    return out


def test_a_source_dying_mid_batch_leaves_no_row_and_no_checkpoint(fresh_db):
    logs = make_logs(seed=3, blocks=30)
    pieces = _pieces(logs, 5)
    assert len(pieces) > 2

    def dies():
        yield from pieces[:-1]
        raise ConnectionError("node gone")

    stats = ingest.IngestStats(source="t")
    with pytest.raises(ConnectionError):
        ingest.write_batches(fresh_db, dies(), source="t", run_id="r", stats=stats)
    assert sum(table_counts(fresh_db, RAW_TABLES).values()) == 0
    assert ingest.coverage(fresh_db, "t") == {}


def test_pieces_of_one_batch_are_one_insert_and_one_checkpoint_over_their_span(fresh_db):
    logs = make_logs(seed=3, blocks=30)
    pieces = _pieces(logs, 5)
    seen = []
    stats = ingest.IngestStats(source="t")
    ingest.write_batches(fresh_db, iter(pieces), source="t", run_id="r", stats=stats, on_batch=seen.append)
    assert seen == pieces  # every piece reported once, in order
    assert stats.logs == len(logs) and (stats.from_block, stats.to_block) == (pieces[0].from_block,
                                                                             pieces[-1].to_block)
    cov = ingest.coverage(fresh_db, "t")
    assert cov and all(r == [(pieces[0].from_block, pieces[-1].to_block)] for r in cov.values())
    spans = fresh_db.query("SELECT DISTINCT from_block, to_block FROM ingest_checkpoints WHERE source = 't'")
    assert spans.result_rows == [(pieces[0].from_block, pieces[-1].to_block)]  # one checkpoint, not one per piece
    plain = ingest.IngestStats(source="u")
    ingest.write_batches(fresh_db, iter([ingest.LogBatch(pieces[0].from_block, pieces[-1].to_block, logs)]),
                         source="u", run_id="r", stats=plain)
    assert plain.rows == stats.rows  # pieces decode to the same rows as one whole batch


def test_a_source_that_stops_inside_a_batch_is_an_error_not_silence(fresh_db):
    pieces = _pieces(make_logs(seed=4, blocks=20), 5)
    with pytest.raises(ingest.IngestError, match="ended inside a batch"):
        ingest.write_batches(fresh_db, iter(pieces[:-1]), source="t", run_id="r",
                             stats=ingest.IngestStats(source="t"))
    assert ingest.coverage(fresh_db, "t") == {}
