"""The main job's demo data (the committed fixture world) as the warehouse holds it: names from its markets.jsonl,
weeks of history, and freshness on the world's own clock (issue 23 point 7)."""
from __future__ import annotations

import json

from harness import ingest
from harness.gates import _table_contents, fingerprint_tables, freshness
from tests.support.worlds import WORLD


def test_ingest_files_loads_the_worlds_names_idempotently(new_db):
    db = new_db()
    stats = ingest.ingest_world(db, WORLD)
    recs = [json.loads(x) for x in (WORLD / "markets.jsonl").read_text().splitlines()]
    assert stats.markets == len(recs) == 84 and "84 market names" in str(stats)
    got = dict(db.query("SELECT condition_id, question FROM market_metadata FINAL").result_rows)
    assert got == {r["conditionId"]: r["question"] for r in recs}
    outcomes = {tuple(o) for (o,) in db.query("SELECT DISTINCT outcomes FROM market_metadata FINAL").result_rows}
    assert outcomes == {("Yes", "No")}
    tables = list(fingerprint_tables())
    before = _table_contents(db, tables)
    ingest.ingest_world(db, WORLD)  # what the sync stage does again: no table the gates hash changes
    assert _table_contents(db, tables) == before
    # weeks of blocks: the newest block is 35 days after the first, and the demo is fresh on its own clock
    lo, hi = db.query("SELECT min(block_time), max(block_time) FROM erc1155_transfers FINAL").result_rows[0]
    assert (hi - lo).days >= 30
    f = freshness.check(db, warn_after=26 * 3600, error_after=50 * 3600)
    assert (f.status, f.clock, [s.source for s in f.sources]) == ("ok", "world", ["file:world"])
