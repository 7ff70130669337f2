"""Issue 12, real data: what a new user hits with real Polygon logs and realistic ranges, through the README's
commands (ingest-files, build, pnl) and the library under them. Each test fails on the code before the fix."""
from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from harness import ingest
from harness.gates.pipeline import RAW_TABLES, pytest_command, table_counts
from harness.gates.wallets import ReferenceWallet
from harness.pnl.build import create_views, rebuild
from tests.property.pnl_stream import Stream, addr, insert
from tests.support.worlds import PREPARATION_TOPICS, ROOT, WORLD, truth, variant

pytestmark = pytest.mark.skipif(not (WORLD / "logs.jsonl.gz").is_file(), reason="fixture world not generated")

#: 2024-10-01 -> 2026-05-01: the fixture world moved to V2-era dates.
TO_2026 = int(datetime(2026, 5, 1, tzinfo=UTC).timestamp()) - int(datetime(2024, 10, 1, tzinfo=UTC).timestamp())


def _harness(*args, wdir: Path, check: bool = True):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CLICKHOUSE_", "PYTEST_XDIST", "POLYGON_"))}
    env["HARNESS_WAREHOUSE_DIR"] = str(wdir)
    r = subprocess.run([sys.executable, "-m", "harness", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                       timeout=600, check=False)
    if check:
        assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    return r


def _usd(micros: int) -> str:
    return f"{Decimal(micros) / 1_000_000:.6f}"


def _pnl_line(t: dict) -> str:
    return f"realized {_usd(t['realized'])} unrealized {_usd(t['unrealized'])} total {_usd(t['total'])}"


# --- 6. dates --------------------------------------------------------------------------------------------------

def test_plan_cutoff_is_2025_10_31_everywhere():
    from harness.config import PLAN_CUTOFF_TS

    assert PLAN_CUTOFF_TS == int(datetime(2025, 10, 31, 23, 59, 59, tzinfo=UTC).timestamp())
    for path in [ROOT / "README.md", *ROOT.glob("harness/**/*.py"), *ROOT.glob("tests/**/*.py"),
                 ROOT / "wallets.yaml"]:
        assert "17304" + "19199" not in path.read_text(encoding="utf-8"), path  # 2024-10-31: a year early


@pytest.mark.embedded_only("runs commands on an embedded warehouse directory of its own (HARNESS_WAREHOUSE_DIR / chdb://), the default path")
def test_plain_build_uses_no_cutoff_on_2026_data(tmp_path):
    """`harness build` without flags kept only events before 2024-10-31: on 2026 data every table was empty."""
    world = variant(tmp_path / "w2026", shift=TO_2026)
    wdir = tmp_path / "wh"
    _harness("ingest-files", str(world), "--database", "d", wdir=wdir)
    out = _harness("build", "--database", "d", wdir=wdir).stdout
    assert "cutoff=None" in out
    wallet, t = max(truth().items(), key=lambda kv: abs(kv[1]["total"]))
    assert _pnl_line(t) in _harness("pnl", "--database", "d", wallet, wdir=wdir).stdout


def _as_of_world(client) -> tuple[int, str, str]:
    """A buys 100 YES at 0.40 and 100 at 0.60 from B (who split 200); then, later, YES wins."""
    s = Stream()
    m = s.market(2)
    a, b = addr(1), addr(2)
    s.split(b, m, 200_000_000)
    s.next_block(10)
    s.trade(a, b, m.tokens[0], 100_000_000, 40_000_000)
    s.next_block(10)
    s.trade(a, b, m.tokens[0], 100_000_000, 60_000_000)
    as_of = s.time
    s.next_block(3600)
    s.resolve(m, [1, 0])
    insert(client, s.rows)
    rebuild(client)
    create_views(client)
    return as_of, a, b


def _ref(address: str, usd: int, metric: str, as_of_ts: int | None) -> ReferenceWallet:
    return ReferenceWallet(name="w", address=address, target_micros=usd * 1_000_000, tolerance_pct=Decimal(0),
                           source="test", level="must", metric=metric, as_of_ts=as_of_ts)


def test_wallet_target_is_checked_as_of_its_date(fresh_db):
    """HolyMoses7's target is an Oct 31 snapshot: it must be compared with the P&L then, not at the watermark.
    Hand-computed: as of the second trade A holds 200 YES marked at the last fill (0.60) for 100 paid (+20; the
    average-cost book agrees: 200 x (0.60 - 0.50)); B holds 200 NO at 0.40 for a net 100 paid (-20). At the
    watermark YES has won: A +100, B -100."""
    from harness.gates.deploy import check_wallets

    as_of, a, b = _as_of_world(fresh_db)
    refs = [_ref(a, 20, "total", as_of), _ref(b, -20, "total", as_of), _ref(a, 20, "ui_total", as_of),
            _ref(b, -20, "ui_total", as_of), _ref(a, 100, "total", None), _ref(b, -100, "total", as_of + 3600)]
    checks = check_wallets(fresh_db, refs)
    assert [c.computed_micros for c in checks] == [20_000_000, -20_000_000, 20_000_000, -20_000_000,
                                                   100_000_000, -100_000_000]
    assert {c.outcome for c in checks} == {"passed"}


# --- 7. logs without blockTimestamp ------------------------------------------------------------------------------

def test_logs_without_block_timestamp_need_and_take_a_blocks_file(fresh_db, tmp_path):
    world = variant(tmp_path / "w", drop_timestamps=True)
    with pytest.raises(ingest.IngestError) as e:
        ingest.ingest_world(fresh_db, world)
    msg = str(e.value)
    assert f"{world / 'logs.jsonl.gz'}:1:" in msg and "blockTimestamp" in msg and "--blocks" in msg
    assert "--block-time-rpc" in msg
    clock = ingest.read_blocks_file(tmp_path / "w-blocks.csv")
    ingest.ingest_world(fresh_db, world, clock=clock)
    assert table_counts(fresh_db, RAW_TABLES) == ingest.expected_world_rows(WORLD)
    rebuild(fresh_db)
    create_views(fresh_db)
    got = {w: (r, u, t) for w, r, u, t in fresh_db.query(
        "SELECT wallet, realized_pnl, unrealized_pnl, total_pnl FROM wallet_pnl_summary_final").result_rows}
    assert got == {w: (t["realized"], t["unrealized"], t["total"]) for w, t in truth().items() if w in got}
    assert len(got) == len(truth())


def test_blocks_file_formats(tmp_path):
    (tmp_path / "b.csv").write_text("block_number,timestamp\n10,1700000000\n0xb,0x6553f101\n")
    (tmp_path / "b.jsonl").write_text('{"number": "0xa", "timestamp": "0x6553f100"}\n{"number": 11, '
                                      '"timestamp": 1700000001}\n')
    for name in ("b.csv", "b.jsonl"):
        assert ingest.read_blocks_file(tmp_path / name).times([10, 11]) == {10: 1700000000, 11: 1700000001}
    with pytest.raises(ingest.IngestError, match="no timestamp for block 12"):
        ingest.read_blocks_file(tmp_path / "b.csv").times([12])
    (tmp_path / "bad.csv").write_text("number,time\n1,2\n")
    with pytest.raises(ingest.IngestError, match="bad.csv: header must have block_number,timestamp"):
        ingest.read_blocks_file(tmp_path / "bad.csv")


@pytest.mark.embedded_only("runs commands on an embedded warehouse directory of its own (HARNESS_WAREHOUSE_DIR / chdb://), the default path")
def test_cli_ingest_files_blocks_option(tmp_path):
    world = variant(tmp_path / "w", drop_timestamps=True)
    wdir = tmp_path / "wh"
    r = _harness("ingest-files", str(world), "--database", "d", wdir=wdir, check=False)
    assert r.returncode == 2 and "no blockTimestamp" in r.stderr and "--blocks FILE" in r.stderr
    _harness("ingest-files", str(world), "--database", "d", "--blocks", str(tmp_path / "w-blocks.csv"), wdir=wdir)
    _harness("build", "--database", "d", wdir=wdir)
    wallet, t = max(truth().items(), key=lambda kv: abs(kv[1]["total"]))
    assert _pnl_line(t) in _harness("pnl", "--database", "d", wallet, wdir=wdir).stdout


# --- 5. prices ---------------------------------------------------------------------------------------------------

def _last_fill_prices(rows: dict) -> dict[tuple[str, int], int]:
    """Written apart from the build: walk the fills in chain order; a binary condition's latest fill sets both
    outcomes (p, 1 - p), a wider one each outcome's own."""
    outcomes: dict[str, list[int]] = {}
    where = {}
    for r in rows["token_map"]:
        where[int(r["token_id"])] = (r["condition_id"], int(r["outcome_index"]))
        outcomes.setdefault(r["condition_id"], []).append(int(r["outcome_index"]))
    out: dict[tuple[str, int], int] = {}
    for r in sorted(rows["trades_raw"], key=lambda r: (r["block_number"], r["log_index"])):
        cid, o = where[int(r["token_id"])]
        p = min(int(r["usdc"]) * 10**6 // int(r["shares"]), 10**6)
        out[(cid, o)] = p
        if len(outcomes[cid]) == 2:
            out[(cid, 1 - o)] = 10**6 - p
    return out


def test_world_without_price_file_values_open_positions_from_fills(fresh_db, tmp_path):
    """Nothing filled market_prices on real data, so open positions were worth 0. Without prices.csv the marks
    come from the fills, and the simulator's own ledger (which marks open markets at its price, not from logs)
    agrees with every wallet's unrealized P&L to the micro-dollar."""
    from harness.chain.decode import COLUMNS, decode_logs
    from tests.support.worlds import world_logs

    world = variant(tmp_path / "w", prices=False)
    ingest.ingest_world(fresh_db, world)
    rep = rebuild(fresh_db)
    create_views(fresh_db)
    decoded = decode_logs(world_logs(world)).rows
    rows = {t: [dict(zip(COLUMNS[t], r)) for r in decoded[t]] for t in ("token_map", "trades_raw")}
    expected = _last_fill_prices(rows)
    got = {(c, o): p for c, o, p in fresh_db.query(
        "SELECT condition_id, outcome_index, price_micros FROM market_prices").result_rows}
    assert got == expected
    assert rep.unpriced.positions == 0
    sql = {w: (u, t) for w, u, t in fresh_db.query(
        "SELECT wallet, unrealized_pnl, total_pnl FROM wallet_pnl_summary_final").result_rows}
    true = truth()
    assert any(t["unrealized"] for t in true.values())
    assert sql == {w: (t["unrealized"], t["total"]) for w, t in true.items()}


def test_unpriced_open_positions_are_counted_and_gate_the_build(fresh_db):
    """A split in a market that never traded leaves shares no fill prices: counted (200 of 300 open shares),
    over the threshold; an imported price for one outcome prices that outcome only."""
    from harness.pnl.build import UNPRICED_MAX_PCT, Unpriced

    s = Stream()
    quiet, busy = s.market(2), s.market(2)
    a, b, c = addr(1), addr(2), addr(3)
    s.split(a, quiet, 100_000_000)
    s.split(b, busy, 50_000_000)
    s.trade(c, b, busy.tokens[0], 50_000_000, 25_000_000)
    insert(fresh_db, s.rows)
    rep = rebuild(fresh_db)
    assert rep.unpriced == Unpriced(positions=2, outcomes=2, shares=200_000_000, open_shares=300_000_000)
    assert rep.unpriced.too_much and UNPRICED_MAX_PCT < 66
    assert any(w.startswith("unpriced: 2 open positions in 2 outcomes") for w in rep.warnings())
    s.rows.clear()
    s.price(quiet, 0, 300_000)
    insert(fresh_db, s.rows)
    assert rebuild(fresh_db).unpriced == Unpriced(1, 1, 100_000_000, 300_000_000)


# --- 4. token map completeness -----------------------------------------------------------------------------------

CONDITION_PREPARATION = PREPARATION_TOPICS[0]


def _world_token_map() -> list[dict]:
    from harness.chain.decode import COLUMNS, decode_logs
    from tests.support.worlds import world_logs

    return [dict(zip(COLUMNS["token_map"], r)) for r in decode_logs(world_logs()).rows["token_map"]]


def _late_counts(world: Path) -> tuple[int, int]:
    """Fills and transfers of a world with no preparations at all: every one of them has an unknown token."""
    from harness.chain.decode import decode_logs
    from tests.support.worlds import world_logs

    rows = decode_logs(world_logs(world)).rows
    return len(rows["trades_raw"]), len(rows["erc1155_transfers"])


def test_range_after_its_preparations_fails_the_build_naming_the_count(fresh_db, tmp_path):
    """7,311 of 7,311 fills vanished in a held-out slice and the build exited 0."""
    from harness.pnl.build import BuildError

    world = variant(tmp_path / "late", drop_topics=PREPARATION_TOPICS)
    ingest.ingest_world(fresh_db, world)
    fills, transfers = _late_counts(world)
    assert fills > 1000
    with pytest.raises(BuildError) as e:
        rebuild(fresh_db)
    assert f"{fills} fills and {transfers} transfers use" in str(e.value) and "--allow-unmapped" in str(e.value)
    rep = rebuild(fresh_db, allow_unmapped=True)
    assert (rep.unmapped.fills, rep.unmapped.transfers) == (fills, transfers)
    assert rep.warnings()[0].startswith(f"unmapped: {fills} fills")


@pytest.mark.parametrize("kind", ["token_map", "gamma_jsonl", "gamma_array_wrapped"])
def test_range_after_its_preparations_is_complete_with_a_market_file(fresh_db, tmp_path, kind):
    """The world without its ConditionPreparation logs, plus a token map file or a Gamma markets file: the same
    P&L as the simulator's ledger for every wallet."""
    import json

    world = variant(tmp_path / "late", drop_topics=(CONDITION_PREPARATION,))
    by_cid: dict[str, dict] = {}
    for r in _world_token_map():
        by_cid.setdefault(r["condition_id"], {"neg": r["neg_risk"], "tokens": {}})["tokens"][r["outcome_index"]] = \
            r["token_id"]
    if kind == "token_map":
        path = world / "token_map.csv"
        path.write_text("token_id,condition_id,outcome_index,neg_risk\n" + "".join(
            f"{t},{c},{o},{m['neg']}\n" for c, m in by_cid.items() for o, t in m["tokens"].items()))
    else:
        recs = [{"conditionId": c, "clobTokenIds": json.dumps([str(m["tokens"][o]) for o in sorted(m["tokens"])]),
                 "negRisk": bool(m["neg"]), "question": "?"} for c, m in by_cid.items()]
        if kind == "gamma_jsonl":
            path = world / "markets.jsonl"
            path.write_text("".join(json.dumps(r) + "\n" for r in recs))
        else:
            path = tmp_path / "gamma.json"
            path.write_text(json.dumps([{"condition_id": r["conditionId"], "raw": r} for r in recs]))
    stats = ingest.ingest_world(fresh_db, world, markets=path if kind == "gamma_array_wrapped" else None)
    assert stats.tokens == sum(len(m["tokens"]) for m in by_cid.values())
    rep = rebuild(fresh_db)
    create_views(fresh_db)
    assert not rep.unmapped
    got = {w: t for w, t in fresh_db.query("SELECT wallet, total_pnl FROM wallet_pnl_summary_final").result_rows}
    assert got == {w: t["total"] for w, t in truth().items()}


def test_markets_file_errors_name_the_line(tmp_path):
    import json

    from harness.ingest.markets import MarketsFileError, read_gamma_markets, read_token_map

    tmap = _world_token_map()
    r = next(x for x in tmap if x["outcome_index"] == 0)
    r1 = next(x for x in tmap if x["condition_id"] == r["condition_id"] and x["outcome_index"] == 1)
    bad = tmp_path / "m.jsonl"
    bad.write_text(json.dumps({"conditionId": r["condition_id"], "clobTokenIds": '["1", "2"]'}) + "\n")
    with pytest.raises(MarketsFileError, match=r"m.jsonl:1: token ids of 0x.* are not its outcomes' position ids"):
        read_gamma_markets(bad)
    bad.write_text("{}\n")
    with pytest.raises(MarketsFileError, match=r"m.jsonl:1: condition id"):
        read_gamma_markets(bad)
    tm = tmp_path / "t.csv"
    tm.write_text(f"token_id,condition_id,outcome_index\n{r['token_id']},{r['condition_id']},1\n"
                  f"{r1['token_id']},{r['condition_id']},0\n")  # outcomes swapped
    with pytest.raises(MarketsFileError, match=r"t.csv:\d: token ids of"):
        read_token_map(tm)


def test_real_gamma_markets_map_every_token():
    """The 292 real Gamma markets (fixtures/real): every clobTokenId is its outcome's position id, and the
    closed markets' outcomePrices import as 0 / 1000000."""
    from harness.config import PROJECT_ROOT
    from harness.ingest.markets import read_gamma_markets

    path = PROJECT_ROOT / "fixtures" / "real" / "gamma_btc5m_markets_2026-07-24.jsonl.gz"
    ms = read_gamma_markets(path)
    assert len(ms) == 292 and all(not m.neg_risk and len(m.tokens) == 2 for m in ms)
    assert all(sorted(m.prices) == [0, 1_000_000] for m in ms) and all(m.as_of for m in ms)


@pytest.mark.embedded_only("runs commands on an embedded warehouse directory of its own (HARNESS_WAREHOUSE_DIR / chdb://), the default path")
def test_cli_build_fails_without_and_passes_with_the_markets_file(tmp_path):
    import json

    world = variant(tmp_path / "late", drop_topics=(CONDITION_PREPARATION,))
    wdir = tmp_path / "wh"
    _harness("ingest-files", str(world), "--database", "d", wdir=wdir)
    r = _harness("build", "--database", "d", wdir=wdir, check=False)
    assert r.returncode == 1 and "fills and" in r.stderr and "missing from token_map" in r.stderr
    by_cid: dict[str, dict] = {}
    for x in _world_token_map():
        by_cid.setdefault(x["condition_id"], {})[x["outcome_index"]] = str(x["token_id"])
    markets = tmp_path / "gamma.jsonl"
    markets.write_text("".join(json.dumps({"conditionId": c, "clobTokenIds": [t[o] for o in sorted(t)]}) + "\n"
                               for c, t in by_cid.items()))
    _harness("ingest-files", str(world), "--database", "d", "--markets", str(markets), wdir=wdir)
    _harness("build", "--database", "d", wdir=wdir)
    wallet, t = max(truth().items(), key=lambda kv: abs(kv[1]["total"]))
    assert _pnl_line(t) in _harness("pnl", "--database", "d", wallet, wdir=wdir).stdout


@pytest.mark.anvil
def test_backfill_of_a_late_range_scans_earlier_preparations(replayed_chain, chain_logs, new_db):
    """Over RPC: a range that starts after markets were prepared still gets every ConditionPreparation, by a
    topic-filtered scan from the contracts' first blocks, checkpointed under its own source; a re-run scans
    nothing, and --no-preparations (preparations=False) leaves the earlier ones out."""
    node, rep = replayed_chain
    preps = [(rep.blocks[int(lg["blockNumber"], 16)], lg["topics"][0]) for lg in chain_logs
             if lg["topics"][0] in PREPARATION_TOPICS and not lg.get("removed")]
    mid = sorted(preps)[len(preps) // 2][0] + 1  # half the markets were prepared before the range
    before = sum(1 for b, _ in preps if b < mid)
    assert before and len(preps) > before
    count = ("SELECT (SELECT count() FROM condition_preparations FINAL) + "
             "(SELECT count() FROM neg_risk_questions FINAL)")
    db = new_db()
    stats = ingest.backfill(db, node.url, mid, rep.last_block, confirmations=0)
    assert stats.preparations == before
    assert db.query(count).result_rows[0][0] == len(preps)
    psource = ingest.preparations_source(stats.source)
    addrs, _ = ingest.preparation_filter()
    assert ingest.gaps(db, psource, 0, mid - 1, contracts=addrs) == []
    again = ingest.backfill(db, node.url, mid, rep.last_block, confirmations=0)
    assert again.preparations == 0 and again.logs == 0
    bare = new_db()
    ingest.backfill(bare, node.url, mid, rep.last_block, confirmations=0, preparations=False)
    assert bare.query(count).result_rows[0][0] == len(preps) - before


# --- 8. UI-comparable (average-cost) P&L ---------------------------------------------------------------------------

def test_world_ui_pnl_in_sql_api_and_wallet_checks(fresh_db):
    """The plan's targets are read off Polymarket's UI (average cost); the warehouse computed only cash flow. Now
    the average-cost P&L is built in SQL, equals the pure-Python pnl-subgraph oracle for every wallet of the
    fixture world, is served by the API beside the cash-flow figures (labelled), and wallets.yaml can target it."""
    import httpx

    from harness.gates.deploy import check_wallets
    from harness.gates.pipeline import ORACLE_TABLES
    from harness.pnl.avgcost import avg_cost_pnl
    from harness.pnl.crosscheck import avgcost_oracle, compare, ui_view
    from harness.serve import app as api

    ingest.ingest_world(fresh_db, WORLD)
    rebuild(fresh_db)
    create_views(fresh_db)
    tables = {}
    for t in ORACLE_TABLES:
        res = fresh_db.query(f"SELECT * FROM {t}")
        tables[t] = [dict(zip(res.column_names, r)) for r in res.result_rows]
    oracle = avgcost_oracle(tables, None)
    every = sorted(set(oracle) | {r[0] for r in fresh_db.query("SELECT wallet FROM ui_wallet_pnl_summary").result_rows})
    assert len(every) >= 250 and compare(fresh_db, ui_view(), oracle, every) == []
    ui: dict[str, list[int]] = {}
    for (w, _c), m in avg_cost_pnl(tables).markets.items():
        acc = ui.setdefault(w, [0, 0])
        acc[0], acc[1] = acc[0] + int(m.realized), acc[1] + int(m.total)
    busiest = sorted(truth(), key=lambda w: -abs(truth()[w]["total"]))[:8]
    with api.serve(lambda: fresh_db) as srv, httpx.Client(base_url=srv.url, timeout=60) as http:
        for w in busiest:
            body = http.get(f"/wallets/{w}/pnl").json()
            assert body["method"] == "cash_flow" and body["ui"]["method"] == "average_cost"
            assert "UI" in body["ui"]["label"]
            assert (_micros(body["ui"]["realized"]), _micros(body["ui"]["total"])) == tuple(ui[w])
            assert _micros(body["total"]) == truth()[w]["total"]
    refs = [_ref(w, 0, "ui_total", None) for w in busiest]
    refs = [ReferenceWallet(**{**r.__dict__, "target_micros": ui[r.address][1]}) for r in refs]
    assert {c.outcome for c in check_wallets(fresh_db, refs)} == {"passed"}


def _micros(text: str) -> int:
    return int(Decimal(text) * 1_000_000)


# --- the backfill gate -------------------------------------------------------------------------------------------

ORDER_FILLED = ("0xd0a08e8c493f9c94f29311604c9de1b4e8c8d4c06bd0c789af57f2d65bfec0f6",  # V1 OrderFilled
                "0xd543adfd945773f1a62f74f0ee55a5e3b9b1a28262980ba90b1a89f2ea84d8ee")  # V2 OrderFilled


def _backfill_stage(world: Path, tmp_path: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CLICKHOUSE_", "PYTEST_XDIST", "POLYGON_"))}
    env["HARNESS_WAREHOUSE_DIR"] = str(tmp_path / "wh")
    return subprocess.run([*pytest_command(), "tests/stages/test_1_backfill.py", "-m", "backfill",
                           "--world", str(world), "-p", "no:cacheprovider", "-p", "no:xdist", "-o",
                           "addopts=--strict-markers", "-q", "--reports", str(tmp_path / "reports")],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False)


@pytest.mark.embedded_only("runs commands on an embedded warehouse directory of its own (HARNESS_WAREHOUSE_DIR / chdb://), the default path")
@pytest.mark.parametrize("case", ["unmapped", "unpriced"])
def test_backfill_gate_fails_on_unmapped_tokens_and_unpriced_positions(tmp_path, case):
    """A range after its preparations (tokens unknown), or open positions nothing prices (no fills, no prices
    file): the backfill stage's rebuild check fails and says why, instead of passing with P&L rows missing."""
    if case == "unmapped":
        world = variant(tmp_path / "w", drop_topics=PREPARATION_TOPICS)
        why = "missing from token_map"
    else:
        world = variant(tmp_path / "w", drop_topics=ORDER_FILLED, prices=False)
        why = "have no price (valued at 0)"
    r = _backfill_stage(world, tmp_path)
    out = r.stdout + r.stderr
    assert r.returncode == 1, out[-3000:]
    assert "test_1_backfill.py::test_rebuild" in out and why in out, out[-3000:]
