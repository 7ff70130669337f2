"""Stage 2, sync: the daily incremental run is idempotent: re-running the window changes nothing."""
import json

import pytest

from harness import ingest
from harness.gates.pipeline import DERIVED_TABLES, RAW_TABLES, fingerprint, parse_age
from harness.pnl.build import rebuild
from tests.stages.conftest import stage_complete

pytestmark = pytest.mark.sync


def _since(pipeline) -> int:
    return parse_age(pipeline.options.getoption("--since") or "24h")


def test_sync_window(pipeline, request):
    before = fingerprint(pipeline.client, RAW_TABLES)
    pipeline.notes["sync_before"] = before
    pipeline.notes["derived_before"] = fingerprint(pipeline.client, DERIVED_TABLES)
    if pipeline.rpc_url:
        stats = ingest.sync(pipeline.client, pipeline.rpc_url, since_seconds=_since(pipeline))
    else:
        stats = ingest.sync_world(pipeline.client, pipeline.world.path, since_seconds=_since(pipeline))
    request.node.gate_detail = json.dumps({"summary": f"{stats}"})


def test_sync_is_idempotent(pipeline, request):
    """Running the same window twice more leaves every raw table's contents identical."""
    if pipeline.rpc_url:
        first = fingerprint(pipeline.client, RAW_TABLES)
        ingest.sync(pipeline.client, pipeline.rpc_url, since_seconds=_since(pipeline))
    else:
        first = pipeline.notes["sync_before"]  # the world is fully ingested: the sync must have added nothing
        ingest.sync_world(pipeline.client, pipeline.world.path, since_seconds=_since(pipeline))
    again = fingerprint(pipeline.client, RAW_TABLES)
    changed = {t: (first[t], again[t]) for t in RAW_TABLES if first[t] != again[t]}
    request.node.gate_detail = json.dumps({"summary": f"{len(changed)} table(s) changed", "changed": str(changed)})
    assert not changed


def test_rebuild_after_sync(pipeline, request):
    report = rebuild(pipeline.client, cutoff=pipeline.cutoff)
    after = fingerprint(pipeline.client, DERIVED_TABLES)
    request.node.gate_detail = json.dumps({"summary": f"derived tables rebuilt in {report.seconds:.1f}s",
                                           "rows": {t: after[t][0] for t in DERIVED_TABLES},
                                           "seconds": report.seconds, "steps": report.steps})
    if pipeline.world is not None:
        assert after == pipeline.notes["derived_before"], "re-syncing known data changed derived P&L tables"


def test_no_block_gap_after_sync(pipeline, request):
    lo, hi, source = ingest.requested_range(pipeline.client, world=pipeline.world, options=pipeline.options)
    holes = ingest.gaps(pipeline.client, source, lo, hi)
    request.node.gate_detail = json.dumps({"summary": f"{len(holes)} gap(s) in {lo}..{hi}"})
    assert holes == []


def test_stage_complete(pipeline, request):
    stage_complete(pipeline, "sync", request)
