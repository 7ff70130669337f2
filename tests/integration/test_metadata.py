"""Market metadata in the warehouse: ingest-markets (command and library), the Gamma-vs-derived token id check, and
the names in the API and the per-market view. Expected token ids come from harness.chain.tokens (the chain's math),
expected names from the Gamma file itself."""
from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from dataclasses import replace

import pytest
from fastapi.testclient import TestClient

from harness.chain.decode import COLUMNS
from harness.chain.tokens import collateral_for, token_id
from harness.config import PROJECT_ROOT
from harness.ingest.metadata import (
    MarketMeta,
    insert_markets,
    load_markets_file,
    read_markets,
    token_mismatches,
)
from harness.serve import app as api
from tests.integration.test_api import addr, api_db, fixture_world  # noqa: F401 - api_db is a fixture

REAL = PROJECT_ROOT / "fixtures" / "real" / "gamma_btc5m_markets_2026-07-24.jsonl.gz"


def _gamma_records() -> list[dict]:
    with gzip.open(REAL, "rt") as fh:
        return [json.loads(line) for line in fh]


def _derived_token_map(client, conditions: list[str], version: int = 1) -> None:
    """token_map rows as the build derives them from a preparation: position ids of USDC.e-collateral outcomes."""
    rows = [(token_id(c, i), c, i, 1 << i, collateral_for(False), 0, version) for c in conditions for i in (0, 1)]
    client.insert("token_map", rows, column_names=list(COLUMNS["token_map"]))


def _count(client, sql: str) -> int:
    return int(client.query(sql).result_rows[0][0])


def test_real_markets_load_idempotently_and_agree_with_the_derived_token_ids(fresh_db):
    recs = _gamma_records()
    assert token_mismatches(fresh_db) == (0, [])  # nothing loaded: nothing to disagree
    assert load_markets_file(fresh_db, REAL, version=1) == 292
    assert load_markets_file(fresh_db, REAL, version=2) == 292
    assert _count(fresh_db, "SELECT count() FROM market_metadata FINAL") == 292
    row = fresh_db.query("SELECT question, slug, outcomes, condition_id_norm FROM market_metadata FINAL "
                         "WHERE condition_id = {c:String}", parameters={"c": recs[0]["condition_id"]}).result_rows
    assert row == [(recs[0]["raw"]["question"], recs[0]["slug"], ["Up", "Down"], recs[0]["condition_id"][2:])]
    assert _count(fresh_db, "SELECT count() FROM market_names") == 292  # the lookup is rewritten, not appended
    renamed = replace(read_markets(REAL)[0], question="Renamed?")
    insert_markets(fresh_db, [renamed], version=3, source="test")
    assert fresh_db.query("SELECT question FROM market_names WHERE condition_id = {c:String}",
                          parameters={"c": renamed.condition_id}).result_rows == [("Renamed?",)]

    assert token_mismatches(fresh_db) == (0, [])  # token_map empty: no condition to compare
    _derived_token_map(fresh_db, [r["condition_id"] for r in recs])
    assert token_mismatches(fresh_db) == (292, [])


def test_a_tampered_token_id_is_reported_with_the_condition_and_both_ids(fresh_db):
    ms = read_markets(REAL)[:3]
    _derived_token_map(fresh_db, [m.condition_id for m in ms])
    bad = replace(ms[1], token_ids=(ms[1].token_ids[0], ms[1].token_ids[1] + 1))
    swapped = replace(ms[2], token_ids=ms[2].token_ids[::-1])
    insert_markets(fresh_db, [ms[0], bad, swapped], version=1, source="test")
    checked, found = token_mismatches(fresh_db)
    assert checked == 3
    assert [(m.condition_id, m.gamma, m.derived) for m in found] == sorted(
        [(bad.condition_id, bad.token_ids, ms[1].token_ids), (swapped.condition_id, swapped.token_ids,
                                                               ms[2].token_ids)])
    good = token_id(bad.condition_id, 1)
    assert f"{bad.condition_id}: outcome 1: gamma {good + 1} derived {good}" in [str(m) for m in found]
    insert_markets(fresh_db, [ms[1], ms[2]], version=2, source="test")  # a corrected file replaces the rows
    assert token_mismatches(fresh_db) == (3, [])


def _harness(*args, wdir):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CLICKHOUSE_", "PYTEST_XDIST", "POLYGON_"))}
    env["HARNESS_WAREHOUSE_DIR"] = str(wdir)
    return subprocess.run([sys.executable, "-m", "harness", *args], cwd=PROJECT_ROOT, env=env, capture_output=True,
                          text=True, timeout=300, check=False)


@pytest.mark.embedded_only("runs commands on an embedded warehouse directory of its own (HARNESS_WAREHOUSE_DIR / chdb://), the default path")
def test_cli_loads_and_refuses_a_bad_file_with_one_line(tmp_path):
    wdir = tmp_path / "wh"
    r = _harness("ingest-markets", str(REAL), "--database", "m", wdir=wdir)
    assert r.returncode == 0, r.stderr
    assert f"{REAL}: 292 markets loaded into market_metadata" in r.stdout
    assert "token ids: 0 markets compared with token_map, 0 disagree" in r.stdout
    pending = tmp_path / "pending.jsonl"
    pending.write_text(json.dumps({"conditionId": "", "question": "Not deployed yet?"}) + "\n"
                       + json.dumps({"conditionId": "0x" + "3" * 64, "question": "Deployed?"}) + "\n")
    r = _harness("ingest-markets", str(pending), "--database", "m", wdir=wdir)
    assert r.returncode == 0, r.stderr
    assert f"{pending}: 1 markets loaded into market_metadata; 1 without a conditionId skipped ({pending}:1)" \
        in r.stdout
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps([{"conditionId": "0x" + "1" * 64, "clobTokenIds": '["1", "2"]'},
                               {"conditionId": "0x" + "2" * 64, "clobTokenIds": '["1", "two"]'}]))
    r = _harness("ingest-markets", str(bad), "--database", "m", wdir=wdir)
    assert r.returncode == 2
    assert r.stderr.strip().splitlines() == [f"error: {bad}: market #2: clobTokenIds: 'two' is not an integer"]


# ---------------------------------------------------------------- names in the API and the per-market view

C = {k: "0x" + k * 64 for k in "12345"}
META = [MarketMeta(C["1"], "Will it rain in May?", "rain-may", ("Yes", "No")),
        MarketMeta(C["4"], "Who wins?", "who-wins", ("Alice", "Bob")),
        MarketMeta(C["2"])]  # loaded, but Gamma gave no names


@pytest.fixture(scope="module")
def named(api_db):  # noqa: F811
    fixture_world().insert(api_db)
    insert_markets(api_db, META, version=1, source="test")
    with TestClient(api.create_app(lambda: api_db)) as client:
        yield client


def test_pnl_rows_carry_question_slug_and_outcomes(named):
    body = named.get(f"/wallets/{addr('aa')}/pnl").json()
    got = {m["condition_id"]: (m["question"], m["slug"], m["outcomes"]) for m in body["markets"]}
    assert got == {C["1"]: ("Will it rain in May?", "rain-may", ["Yes", "No"]),
                   C["4"]: ("Who wins?", "who-wins", ["Alice", "Bob"]),
                   C["2"]: (None, None, None), C["3"]: (None, None, None), C["5"]: (None, None, None)}


def test_positions_carry_the_outcome_name(named):
    body = named.get(f"/wallets/{addr('aa')}/positions").json()
    got = {(p["condition_id"], p["outcome_index"]): (p["question"], p["outcome"]) for p in body["positions"]}
    assert got[(C["1"], 0)] == ("Will it rain in May?", "Yes")
    assert got[(C["4"], 1)] == ("Who wins?", "Bob")
    assert got[(C["5"], 0)] == (None, None)


def test_timeline_points_carry_the_question(named):
    points = named.get(f"/wallets/{addr('aa')}/timeline").json()["points"]
    got = {p["condition_id"]: p["question"] for p in points}
    assert got == {C["1"]: "Will it rain in May?", C["2"]: None, C["3"]: None, None: None}


def test_per_market_view_has_question_and_slug(named, api_db):  # noqa: F811
    rows = {c: (q, s) for c, q, s in api_db.query(
        "SELECT condition_id, question, slug FROM realized_pnl_by_market_final WHERE wallet = {w:String}",
        parameters={"w": addr("aa")}).result_rows}
    assert rows == {C["1"]: ("Will it rain in May?", "rain-may"), C["2"]: (None, None), C["3"]: (None, None)}


def test_names_are_optional_on_a_warehouse_without_the_table(named, api_db):  # noqa: F811
    """The API applies no schema: against a warehouse older than the metadata table it serves rows without names;
    names are cached per condition and the cache is emptied when a watermark read (the first thing a request does,
    at most once per TTL, 0 here) sees the names table change, so names loaded later show within one TTL."""
    api_db.command("RENAME TABLE market_names TO market_names_hidden")
    try:
        with TestClient(api.create_app(lambda: api_db, watermark_ttl=0)) as fresh:
            body = fresh.get(f"/wallets/{addr('aa')}/pnl").json()
            assert body["markets"] and all(m["question"] is None for m in body["markets"])
            api_db.command("RENAME TABLE market_names_hidden TO market_names")
            later = fresh.get(f"/wallets/{addr('aa')}/pnl").json()
            assert {m["condition_id"]: m["question"] for m in later["markets"]}[C["1"]] == "Will it rain in May?"
    finally:
        if api_db.query("EXISTS TABLE market_names_hidden").result_rows[0][0]:
            api_db.command("RENAME TABLE market_names_hidden TO market_names")
