"""A Cascadian-shaped warehouse: refused as it is, adopted on request, then backfill through deploy runs on it.

The legacy tables carry the columns of Cascadian's migrations and of the plan's queries (trades_raw with
wallet_address/market_id/entry_price, outcome_positions_v2 with market_id/condition_id_norm/outcome_idx/net_shares
Float64, trade_cashflows_v3 with cashflow_usdc, winning_index with win_idx, wallet_unrealized_pnl_v2 with
unrealized_pnl_usd) plus the broken enriched tables the cleanup stage backs up and drops. Every step runs in its own
process on its own chDB directory, as an operator runs it.
"""
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from harness.gates.pipeline import pytest_command

ROOT = Path(__file__).resolve().parents[2]
WORLD = ROOT / "fixtures" / "world"
DB = "cascadian"
LEGACY = ("outcome_positions_v2", "trade_cashflows_v3", "trades_raw", "wallet_unrealized_pnl_v2", "winning_index")

pytestmark = pytest.mark.skipif(not (WORLD / "logs.jsonl.gz").is_file(), reason="fixture world not generated")

# Shapes from Cascadian's migrations and the plan's queries; rows in every table.
CASCADIAN = """
CREATE TABLE trades_raw (
  trade_id String, wallet_address String, wallet String, market_id String, condition_id String,
  timestamp DateTime, side Enum8('YES' = 1, 'NO' = 2), entry_price Decimal(18, 8),
  exit_price Nullable(Decimal(18, 8)), shares Decimal(18, 8), usd_value Decimal(18, 2),
  pnl Nullable(Decimal(18, 2)), is_closed Bool, transaction_hash String, created_at DateTime DEFAULT now()
) ENGINE = MergeTree PARTITION BY toYYYYMM(timestamp) ORDER BY (wallet_address, timestamp);
INSERT INTO trades_raw (trade_id, wallet_address, wallet, market_id, condition_id, timestamp, side, entry_price,
  exit_price, shares, usd_value, pnl, is_closed, transaction_hash)
  SELECT toString(number), concat('0xa', toString(number % 9)), concat('0xa', toString(number % 9)),
         toString(number % 13), concat('0x', lower(hex(number % 13))), toDateTime(1700000000 + number * 3600),
         if(number % 2 = 0, 'YES', 'NO'), 0.5, NULL, number, number / 2, NULL, number % 3 = 0,
         concat('0x', lower(hex(number))) FROM numbers(1234);
CREATE TABLE outcome_positions_v2 (wallet String, market_id String, condition_id_norm String, outcome_idx Int16,
  net_shares Float64) ENGINE = MergeTree ORDER BY (wallet, condition_id_norm, outcome_idx);
INSERT INTO outcome_positions_v2 SELECT concat('0xa', toString(number % 9)), toString(number % 13),
  lower(hex(number % 13)), number % 2, number * 1.5 FROM numbers(321);
CREATE TABLE trade_cashflows_v3 (wallet String, market_id String, condition_id_norm String, outcome_idx Int16,
  cashflow_usdc Float64) ENGINE = MergeTree ORDER BY (wallet, condition_id_norm, outcome_idx);
INSERT INTO trade_cashflows_v3 SELECT concat('0xa', toString(number % 9)), toString(number % 13),
  lower(hex(number % 13)), number % 2, -number * 0.25 FROM numbers(222);
CREATE TABLE winning_index (condition_id_norm String, win_idx Int64, resolved_at DateTime)
  ENGINE = MergeTree ORDER BY condition_id_norm;
INSERT INTO winning_index SELECT lower(hex(number)), number % 2, toDateTime(1761955199) FROM numbers(13);
CREATE TABLE wallet_unrealized_pnl_v2 (wallet String, unrealized_pnl_usd Float64) ENGINE = MergeTree ORDER BY wallet;
INSERT INTO wallet_unrealized_pnl_v2 SELECT concat('0xa', toString(number)), number * 10.5 FROM numbers(9);
CREATE TABLE trades_enriched_with_condition (trade_id String, wallet String, pnl Float64)
  ENGINE = MergeTree ORDER BY trade_id;
INSERT INTO trades_enriched_with_condition SELECT toString(number), '0xa1', 117 FROM numbers(55);
CREATE TABLE trades_enriched (trade_id String, wallet String, pnl Float64) ENGINE = MergeTree ORDER BY trade_id;
INSERT INTO trades_enriched SELECT toString(number), '0xa2', 117 FROM numbers(66);
CREATE TABLE gamma_markets (market_id String, question String) ENGINE = MergeTree ORDER BY market_id;
INSERT INTO gamma_markets SELECT toString(number), 'q' FROM numbers(13)
"""

STATE = """
import json
from harness.warehouse import connect, resolve_settings
c = connect(resolve_settings(database='cascadian'))
def q(sql):
    return c.query(sql).result_rows
tables = {n: q(f"SELECT count() FROM `{n}`")[0][0] for (n,) in q(
    "SELECT name FROM system.tables WHERE database = 'cascadian' AND engine NOT LIKE '%View%'")}
cols = {t: [n for (n,) in q(f"SELECT name FROM system.columns WHERE database = 'cascadian' AND table = '{t}' "
                            "ORDER BY position")] for t in tables}
archive = {n: q(f"SELECT count() FROM cascadian_archive.`{n}`")[0][0] for (n,) in q(
    "SELECT name FROM system.tables WHERE database = 'cascadian_archive'")}
backups = q("SELECT source_table, archive_table, source_rows, archive_rows, verified, reason FROM backups "
            "ORDER BY source_table") if 'backups' in tables else []
sums = {t: q(f"SELECT toString(sum(cityHash64(*))) FROM `{t}`")[0][0] for t in tables if tables[t]}
views = {v: q(f"SELECT count() FROM {v}")[0][0] for v in ('wallet_pnl_summary_final', 'wallet_realized_pnl_final',
         'realized_pnl_by_market_final') if v in [n for (n,) in q("SELECT name FROM system.tables "
                                                                   "WHERE database = 'cascadian'")]}
print(json.dumps({"tables": tables, "cols": cols, "archive": archive, "backups": backups, "sums": sums,
                  "views": views}))
"""


def _env(wdir):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CLICKHOUSE_", "PYTEST_XDIST", "POLYGON_"))}
    env["HARNESS_WAREHOUSE_DIR"] = str(wdir)
    return env


def _proc(args, wdir, **kw):
    return subprocess.run(args, cwd=ROOT, env={**_env(wdir), **kw.pop("env", {})}, capture_output=True, text=True,
                          timeout=kw.pop("timeout", 300), check=False)


def _state(wdir) -> dict:
    import json

    r = _proc([sys.executable, "-c", STATE], wdir)
    assert r.returncode == 0, r.stderr[-3000:]
    return json.loads(r.stdout.strip().splitlines()[-1])


def _stages(wdir, reports, run_id, *extra):
    return _proc([*pytest_command(), "tests/stages", "-p", "no:cacheprovider", "-o",
                  "addopts=-ra --strict-markers", "-q", "-m", "not rollback", "--database", DB, "--throwaway-prod",
                  "--reports", str(reports), *extra], wdir, env={"HARNESS_RUN_ID": run_id}, timeout=900)


def _names_every_legacy_table(text: str) -> None:
    assert re.search(r"5 table\(s\) in database cascadian already exist with other columns", text), text[-3000:]
    for t in LEGACY:
        assert re.search(rf"{t}: (engine|expected|found) ", text), (t, text[-3000:])
    assert "trades_raw: engine MergeTree, expected ReplacingMergeTree" in text
    assert "net_shares is Float64, expected Int128" in text
    assert "found market_id String, condition_id_norm String, outcome_idx Int16, cashflow_usdc Float64" in text


def test_cascadian_warehouse_refused_then_adopted_and_deployed(tmp_path):
    wdir, reports = tmp_path / "wh", tmp_path / "reports"
    make = ("import sys\nfrom harness.warehouse import connect, resolve_settings\n"
            "c = connect(resolve_settings(database='cascadian'))\n"
            "for s in sys.argv[1].split(';'):\n    c.command(s)\n")
    made = _proc([sys.executable, "-c", make, CASCADIAN], wdir)
    assert made.returncode == 0, made.stderr[-3000:]
    legacy = _state(wdir)
    assert legacy["tables"]["trades_raw"] == 1234 and legacy["archive"] == {}

    # Refused, exit 2, one line naming each table and its columns; by `schema` and by a command that applies it.
    for cmd in (["schema"], ["build", "--no-cutoff"]):
        r = _proc([sys.executable, "-m", "harness", *cmd, "--database", DB], wdir)
        assert r.returncode == 2, r.stdout[-2000:] + r.stderr[-2000:]
        (line,) = r.stderr.strip().splitlines()
        _names_every_legacy_table(line)
    r = _stages(wdir, reports, "legacy-refused")
    assert r.returncode != 0
    _names_every_legacy_table(r.stdout)
    assert _state(wdir) == legacy  # nothing was touched

    # Adopted: the pipeline runs backfill through deploy on it.
    r = _stages(wdir, reports, "legacy-adopted", "--adopt-legacy")
    assert r.returncode == 0, r.stdout[-6000:] + r.stderr[-2000:]
    table = r.stdout.split("gate table, run legacy-adopted", 1)[1]
    for stage in ("backfill", "sync", "cleanup", "validate", "dryrun", "deploy"):
        assert re.search(rf"^{stage}\s+stage_complete\s+passed", table, re.MULTILINE), f"{stage} not complete:\n{table}"
    assert len(re.findall(r"^adopted legacy \w+: \d+ rows copied to cascadian_archive\.", r.stdout, re.MULTILINE)) == 5

    after = _state(wdir)
    adopted = {b[0]: b for b in after["backups"] if b[5].startswith("adopt-legacy")}
    assert sorted(adopted) == sorted(LEGACY)
    for t, (_src, atable, src_rows, arch_rows, verified, reason) in adopted.items():
        aside = reason.split("renamed to ", 1)[1]
        # archive copy and renamed original both hold every legacy row, unchanged
        assert src_rows == arch_rows == after["archive"][atable] == after["tables"][aside] == legacy["tables"][t]
        assert verified == 1
        assert after["cols"][aside] == legacy["cols"][t] and after["sums"][aside] == legacy["sums"][t]
        assert after["cols"][t] != legacy["cols"][t]  # the harness's own table under the name
    # cleanup backed up and dropped the broken enriched tables; the unrelated table is untouched
    cleaned = {b[0]: b for b in after["backups"] if b[5].startswith("cleanup")}
    assert {t: (b[2], b[3], b[4]) for t, b in cleaned.items()} == {
        "trades_enriched": (66, 66, 1), "trades_enriched_with_condition": (55, 55, 1)}
    assert "trades_enriched" not in after["tables"] and after["sums"]["gamma_markets"] == legacy["sums"]["gamma_markets"]
    # the final views answer, from the harness's tables
    assert set(after["views"]) == {"wallet_pnl_summary_final", "wallet_realized_pnl_final",
                                   "realized_pnl_by_market_final"}
    assert all(n > 0 for n in after["views"].values()), after["views"]
    assert after["tables"]["trades_raw"] > 0 and "wallet_address" not in after["cols"]["trades_raw"]


def test_schema_command_adopts_once_and_prints_what_it_did(tmp_path):
    wdir = tmp_path / "wh"
    make = ("from harness.warehouse import connect, resolve_settings\n"
            "c = connect(resolve_settings(database='cascadian'))\n"
            "c.command('CREATE TABLE winning_index (condition_id_norm String, win_idx Int64, resolved_at DateTime) '\n"
            "          'ENGINE = MergeTree ORDER BY condition_id_norm')\n"
            "c.command('INSERT INTO winning_index SELECT lower(hex(number)), number % 2, now() FROM numbers(17)')\n")
    assert _proc([sys.executable, "-c", make], wdir).returncode == 0
    r = _proc([sys.executable, "-m", "harness", "schema", "--database", DB, "--adopt-legacy"], wdir)
    assert r.returncode == 0, r.stderr[-3000:]
    assert re.fullmatch(r"adopted legacy winning_index: 17 rows copied to cascadian_archive\.winning_index__adopt_\d{8}T"
                        r"\d{6} \(17 rows, verified\), the original kept as winning_index_legacy_adopt_\d{8}T\d{6}; "
                        r"the harness's winning_index is created empty", r.stderr.strip()), r.stderr
    assert "schema version" in r.stdout
    again = _proc([sys.executable, "-m", "harness", "schema", "--database", DB, "--adopt-legacy"], wdir)
    assert again.returncode == 0 and again.stderr == ""  # nothing left to adopt
    state = _state(wdir)
    assert [b[:5] for b in state["backups"]] == [["winning_index", state["backups"][0][1], 17, 17, 1]]
