"""Stage 3, cleanup: back up, then drop, the broken enriched tables; the four kept tables stay."""
import json

import pytest

from harness.config import BROKEN_TABLES
from harness.gates.deploy import cleanup_broken_tables, missing_kept_tables, table_exists
from tests.stages.conftest import stage_complete

pytestmark = pytest.mark.cleanup


def test_backup_then_drop_broken_tables(pipeline, request):
    res = cleanup_broken_tables(pipeline.client, pipeline.guard, BROKEN_TABLES, backup_id=pipeline.run_id.replace("-", "_"))
    request.node.gate_detail = json.dumps({
        "summary": f"dropped {[b.table for b in res.dropped]} after verified backups; already absent {res.absent}",
        "backups": [f"{b.archive_db}.{b.archive_table} ({b.archive_rows} rows)" for b in res.dropped]})
    for b in res.dropped:  # each dropped table's rows are really in the archive, and it is really gone
        n = pipeline.client.query(f"SELECT count() FROM `{b.archive_db}`.`{b.archive_table}`").result_rows[0][0]
        assert n == b.source_rows, f"{b.table}: archive holds {n} rows, source had {b.source_rows}"
        assert not table_exists(pipeline.client, b.table)


def test_kept_tables_remain(pipeline, request):
    missing = missing_kept_tables(pipeline.client)
    request.node.gate_detail = json.dumps({"summary": f"missing: {missing}" if missing else "all four kept"})
    assert missing == []


def test_every_recorded_backup_can_be_restored(pipeline, request):
    """The backups ledger against the archive tables (metadata only): a copy dropped or emptied by hand would make
    the RUNBOOK's restore fail on the day it is needed, so it fails this stage, and deploy is refused after it."""
    from harness.warehouse.backup import missing_backups

    broken = missing_backups(pipeline.client)
    request.node.gate_detail = json.dumps({"summary": "; ".join(map(str, broken[:5])) if broken
                                           else "every backup in the ledger is present with its rows"})
    assert broken == [], "\n".join(map(str, broken))


def test_stage_complete(pipeline, request):
    stage_complete(pipeline, "cleanup", request)
