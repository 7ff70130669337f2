"""After the stages (no stage marker: runs after rollback in a full session, never in an operator's `run`): the
harness made only MergeTree-family tables and views, on every backend. A replicated server (ClickHouse Cloud)
keeps Memory, Join and Set tables on each replica apart and may serve the next request from another replica, so a
build whose delta tables were Memory would read nothing there (issue 20)."""
import re

import pytest

from harness import gates

_ENGINE = re.compile(r"\bENGINE\s*=\s*(\w+)", re.IGNORECASE)
_SAFE = re.compile(r"^(Replicated|Shared)?(Replacing|Summing|Aggregating|Collapsing|VersionedCollapsing|Graphite)?"
                   r"MergeTree$")


def _unsafe(engine: str) -> bool:
    return not (_SAFE.match(engine) or engine in ("View", "MaterializedView"))


def test_every_table_the_run_made_is_mergetree_family(pipeline):
    if not gates.run_rows(pipeline.client, pipeline.run_id):
        pytest.skip("no stage ran in this session: nothing to look at")
    db = pipeline.client.query("SELECT currentDatabase()").result_rows[0][0]
    tables = pipeline.client.query(
        "SELECT database, name, engine FROM system.tables WHERE database IN {dbs:Array(String)}",
        parameters={"dbs": [db, f"{db}_archive"]}).result_rows
    assert {t for _, t, _ in tables} >= {"wallet_market_pnl", "market_names", "gate_runs"}
    assert [(d, t, e) for d, t, e in tables if _unsafe(e)] == []
    # tables that came and went during the run (the rebuild's build tables) are seen in the DDL sent; a range
    # rebuild's delta tables are checked by test_build_incremental
    ddl = pipeline.notes["ddl"]
    assert any("_new_" in s for s in ddl), "the stages built nothing: the DDL check saw nothing"
    sent = [(m.group(1), s.split("\n")[0][:120]) for s in ddl for m in _ENGINE.finditer(s)]
    assert [x for x in sent if _unsafe(x[0])] == []
    assert not [s for s in ddl if re.search(r"\bTEMPORARY\s+TABLE\b", s, re.IGNORECASE)]
