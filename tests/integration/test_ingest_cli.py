"""The commands an operator runs: sync (ingest + rebuild, non-zero exit on failure), backfill, gaps, ingest-files."""
from __future__ import annotations

import re

import pytest

from harness.__main__ import main
from harness.chain.node import free_port
from harness.gates.pipeline import RAW_TABLES, table_counts
from tests.support.target import warehouse_args

pytestmark = pytest.mark.anvil


def _wh(settings, db):
    return warehouse_args(settings, db)


def test_sync_command_ingests_then_rebuilds(replayed_chain, new_db, warehouse_settings, capsys):
    node, _rep = replayed_chain
    db = new_db()
    name = db.query("SELECT currentDatabase()").result_rows[0][0]
    rc = main(["sync", "--rpc-url", node.url, "--since", "3650d", "--confirmations", "0",
               *_wh(warehouse_settings, name)])
    out = capsys.readouterr().out
    assert rc == 0, out
    assert "rpc:137: blocks 0.." in out
    assert sum(table_counts(db, RAW_TABLES).values()) > 0
    # the rebuild ran after the ingest, and says so in one readable line (not a BuildReport(...) repr)
    last = out.strip().splitlines()[-1]
    assert re.match(r"full rebuild, no cutoff, in \d+\.\ds: [\d,]+ derived rows \(", last), last
    assert "BuildReport(" not in out
    n = db.query("SELECT count() FROM wallet_market_pnl").result_rows[0][0]
    assert f"wallet_market_pnl {n:,}" in last
    assert main(["gaps", "--source", "rpc:137", *_wh(warehouse_settings, name)]) == 0


def test_sync_command_fails_loudly_when_the_node_is_down(new_db, warehouse_settings, capsys):
    db = new_db()
    name = db.query("SELECT currentDatabase()").result_rows[0][0]
    dead = f"http://127.0.0.1:{free_port()}"
    rc = main(["sync", "--rpc-url", dead, "--retries", "2", *_wh(warehouse_settings, name)])
    err = capsys.readouterr().err
    assert rc != 0
    assert "gave up after 2 attempts" in err and "127.0.0.1" in err


def test_backfill_without_an_endpoint_says_so(new_db, warehouse_settings, capsys, monkeypatch):
    monkeypatch.delenv("POLYGON_RPC_URL", raising=False)
    db = new_db()
    name = db.query("SELECT currentDatabase()").result_rows[0][0]
    assert main(["backfill", "--from-block", "0", "--to-block", "5", *_wh(warehouse_settings, name)]) == 2
    assert "pass --rpc-url or set POLYGON_RPC_URL" in capsys.readouterr().err


def test_gaps_command_lists_holes_and_exits_1(replayed_chain, new_db, warehouse_settings, capsys):
    node, _rep = replayed_chain
    db = new_db()
    name = db.query("SELECT currentDatabase()").result_rows[0][0]
    wh = _wh(warehouse_settings, name)
    assert main(["backfill", "--rpc-url", node.url, "--from-block", "0", "--to-block", "3",
                 "--confirmations", "0", *wh]) == 0
    assert main(["backfill", "--rpc-url", node.url, "--from-block", "8", "--to-block", "10",
                 "--confirmations", "0", *wh]) == 0
    capsys.readouterr()
    assert main(["gaps", "--source", "rpc:137", *wh]) == 1
    assert capsys.readouterr().out.splitlines() == ["4\t7\t4 blocks"]
