"""Positions, P&L history, activity, leaderboard rank and offline docs on a built world, each against a truth that
does not come from the SQL under test: the pure-Python oracles (harness.pnl.oracle, .avgcost) on the raw rows, the raw event tables
themselves, and /leaderboard. The committed fixture world is stretched in time (its blocks then span 40 days), so
the history has hours and days to show."""
from __future__ import annotations

import csv
import io
import os
import re
import secrets
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from harness.ingest import world_files as files
from harness.pnl import asof
from harness.pnl.avgcost import avg_cost_pnl
from harness.serve import app as api
from harness.serve import docs, history, positions
from harness.warehouse import connect, drop_database
from tests.support.worlds import WORLD, world_logs

SPAN = 40 * 86400


def micros(text: str) -> int:
    n = Decimal(text) * 1_000_000
    assert n == n.to_integral_value(), text
    return int(n)


def stretched(dst: Path, span: int = SPAN) -> Path:
    """The fixture world with its block times spread linearly over ``span`` seconds (order and blocks kept)."""
    import shutil

    logs = world_logs()
    times = [int(lg["blockTimestamp"], 16) for lg in logs]
    t0, t1 = min(times), max(times)
    for lg, t in zip(logs, times):
        lg["blockTimestamp"] = hex(t0 + (t - t0) * span // max(1, t1 - t0))
    dst.mkdir(parents=True, exist_ok=True)
    files.write_logs(dst / files.LOGS_FILE, logs, compresslevel=1)
    for name in ("world.json", "truth.json", "wallets.yaml", "prices.csv"):
        if (WORLD / name).is_file():
            shutil.copy(WORLD / name, dst / name)
    return dst


@pytest.fixture(scope="module")
def built(warehouse_settings, tmp_path_factory):
    if warehouse_settings.prod:
        pytest.skip("never against production")
    from harness.ingest import ingest_world
    from harness.pnl.build import create_views, rebuild
    from harness.warehouse.schema import apply_schema

    settings = replace(warehouse_settings, database=f"wp_{os.getpid()}_{secrets.token_hex(4)}")
    client = connect(settings)
    try:
        apply_schema(client)
        ingest_world(client, stretched(tmp_path_factory.mktemp("world40d")))
        rebuild(client)
        create_views(client)
        yield client
    finally:
        drop_database(client, settings.database)


@pytest.fixture(scope="module")
def http(built):
    with TestClient(api.create_app(lambda: built)) as client:
        yield client


def _wallets(db, n: int) -> list[str]:
    """The n traders with the most markets (the busiest books and histories)."""
    return [r[0] for r in db.query("SELECT wallet FROM wallet_market_pnl_avgcost GROUP BY wallet "
                                   "ORDER BY count() DESC, wallet LIMIT {n:UInt32}", parameters={"n": n}).result_rows]


def _end(db) -> int:
    return int(db.query("SELECT max(toUnixTimestamp(block_time)) FROM trades_raw").result_rows[0][0])


# ---------------------------------------------------------------- positions


def test_positions_sum_to_the_oracle_ui_total(http, built):
    """For every wallet of the world: sum of pnl_usd = the oracle's average-cost total, to the micro-dollar; each
    position's tracked shares, average price and realized P&L = the oracle's book for that token."""
    wallets = [r[0] for r in built.query("SELECT DISTINCT wallet FROM wallet_token_avgcost ORDER BY wallet")
               .result_rows]
    tables = asof.wallet_tables(built, wallets, 2**32)
    oracle = avg_cost_pnl(tables)
    tokens = {(int(r["token_id"])): (r["condition_id"], int(r["outcome_index"])) for r in tables["token_map"]}
    bad = []
    for w in wallets[:60]:
        body = http.get(f"/wallets/{w}/positions").json()
        got = sum(micros(p["pnl_usd"]) for p in body["positions"])
        want = int(oracle.wallet_total(w))
        if got != want or micros(body["pnl_total"]) != want:
            bad.append((w, got, want))
        book = {(tokens[t][0], tokens[t][1]): s for (ow, t), s in oracle.tokens.items() if ow == w and t in tokens}
        for p in body["positions"]:
            s = book.get((p["condition_id"], p["outcome_index"]))
            if s is None:
                assert p["shares"] == p["avg_price"] == p["realized_usd"] == "0.000000", p
                continue
            assert (micros(p["shares"]), micros(p["avg_price"]), micros(p["realized_usd"])) == (
                s.amount, int(s.avg), int(s.realized)), (w, p)
    assert bad == [], f"{len(bad)} wallets' positions do not sum to the oracle's UI total: {bad[:3]}"


def test_positions_equal_pnl_ui_total_and_fields_agree(http, built):
    for w in _wallets(built, 5):
        pnl = http.get(f"/wallets/{w}/pnl").json()
        body = http.get(f"/wallets/{w}/positions").json()
        assert body["pnl_total"] == pnl["ui"]["total"]
        for p in body["positions"]:
            shares, avg, cost = micros(p["shares"]), micros(p["avg_price"]), micros(p["cost_usd"])
            assert cost == int(Decimal(shares) * avg / 1_000_000)  # truncated toward zero
            if p["price"] is not None:
                assert micros(p["value_usd"]) == int(Decimal(shares) * micros(p["price"]) / 1_000_000)
            assert p["status"] in ("open", "resolved", "redeemable")
            if p["status"] == "redeemable":
                assert micros(p["net_shares"]) > 0 and micros(p["price"]) > 0
            if p["pnl_pct"] is not None:
                assert abs(p["pnl_pct"] - 100 * micros(p["pnl_usd"]) / cost) <= 0.005 + 1e-9


@pytest.mark.parametrize("pnl,cost,pct", [(1, 3, 33.33), (2, 3, 66.67), (-2, 3, -66.67), (5, 0, None),
                                          (-1, 200_000, 0.0), (-1, 20_000, -0.01), (7, -1, None)])
def test_pnl_pct_rounds_half_away_from_zero(pnl, cost, pct):
    assert positions.pnl_pct(pnl, cost) == pct


# ---------------------------------------------------------------- history


@pytest.mark.parametrize("rng", ["1d", "1w", "1m", "all"])
def test_history_last_point_equals_pnl(http, built, rng):
    for w in _wallets(built, 4):
        pnl = http.get(f"/wallets/{w}/pnl").json()
        body = http.get(f"/wallets/{w}/pnl/history", params={"range": rng}).json()
        last = body["points"][-1]
        assert (last["realized"], last["total"]) == (pnl["realized"], pnl["total"]), (w, rng)
        assert last["time"] == pnl["watermark"]["time"]
        times = [p["time"] for p in body["points"]]
        assert times == sorted(set(times))
        step = 3600 if rng == "1d" else 86400
        assert all(t % step == 0 for t in times[:-1]) and body["step_seconds"] == step
        if rng in ("1d", "1w", "1m"):
            assert len(times) - 1 == {"1d": 24, "1w": 7, "1m": 30}[rng] - (times[-1] % step == 0)


def test_history_points_equal_the_oracle_at_their_time(http, built):
    """Every daily point (and the hourly ones of the last day) is the wallet's P&L as the oracle computes it with
    that instant as the cutoff: positions and cash flow then, open markets at the last fill at or before it."""
    for w in _wallets(built, 2):
        for rng in ("all", "1d"):
            body = http.get(f"/wallets/{w}/pnl/history", params={"range": rng, "metric": "realized"}).json()
            for p in body["points"][:-1][::3 if rng == "all" else 6]:
                want = asof.wallet_pnl_as_of(built, [w], p["time"]).get(w, {"realized": 0, "total": 0})
                assert (micros(p["realized"]), micros(p["total"])) == (want["realized"], want["total"]), (w, p)
                assert p["value"] == p["realized"]


def test_history_moves_over_the_stretched_month(http, built):
    """The world's 40 days show as distinct daily values (not one step at the end)."""
    w = _wallets(built, 1)[0]
    body = http.get(f"/wallets/{w}/pnl/history", params={"range": "all"}).json()
    assert len(body["points"]) >= 30
    assert len({p["total"] for p in body["points"]}) > 5


def test_flows_add_up_to_positions_and_cashflows(built):
    """wallet_pnl_flows repeats the attribution of outcome_positions_v2 and trade_cashflows_v3 with the time kept:
    summed over time they are those tables, row for row (an edit of one build file without the other fails here)."""
    diff = built.query(
        "SELECT count() FROM (SELECT wallet, condition_id, outcome_index, sum(shares) AS s FROM wallet_pnl_flows "
        "GROUP BY ALL HAVING s != 0) AS a FULL OUTER JOIN (SELECT wallet, condition_id, outcome_index, net_shares "
        "FROM outcome_positions_v2 WHERE net_shares != 0) AS b USING (wallet, condition_id, outcome_index) "
        "WHERE a.s != b.net_shares").result_rows[0][0]
    assert diff == 0
    diff = built.query(
        "SELECT count() FROM (SELECT wallet, condition_id, sum(cash) AS s FROM wallet_pnl_flows GROUP BY ALL) AS a "
        "FULL OUTER JOIN (SELECT wallet, condition_id, cashflow FROM trade_cashflows_v3) AS b "
        "USING (wallet, condition_id) WHERE a.s != b.cashflow").result_rows[0][0]
    assert diff == 0


def test_point_times():
    end = 1_727_742_342  # 00:25:42
    hours = history.point_times("1d", end, None)
    assert len(hours) == 24 and hours[-1] == end - end % 3600 and hours[0] == hours[-1] - 23 * 3600
    days = history.point_times("all", end, end - 3 * 86400 - 5)
    assert days == [end - end % 86400 - i * 86400 for i in (3, 2, 1, 0)]
    assert history.point_times("all", end, end - 3 * 86400 - 1600) == [end - end % 86400 - i * 86400 for i in (4, 3, 2, 1, 0)]
    assert history.point_times("1m", end, None)[0] == end - end % 86400 - 29 * 86400


def test_history_of_unknown_and_bad_input(http):
    assert http.get("/wallets/0x" + "e0" * 20 + "/pnl/history").status_code == 404
    assert http.get("/wallets/0x" + "e0" * 20 + "/pnl/history?range=2d").status_code == 422


# ---------------------------------------------------------------- activity


def test_activity_is_every_event_of_the_wallet_newest_first(http, built):
    for w in _wallets(built, 3):
        rows, before = [], None
        while True:
            body = http.get(f"/wallets/{w}/activity", params={"limit": 7, **({"before": before} if before else {})})
            assert body.status_code == 200, body.text
            body = body.json()
            rows += body["activity"]
            before = body["next_before"]
            if before is None:
                break
        keys = [(r["block_number"], r["log_index"]) for r in rows]
        assert keys == sorted(keys, reverse=True)
        kinds = {k: sum(r["type"] == k for r in rows) for k in ("fill", "split", "merge", "redemption", "conversion")}
        raw = built.query(
            "SELECT (SELECT count() FROM trades_raw FINAL WHERE wallet = {w:String} AND _deleted = 0), "
            "(SELECT countIf(action = 'split') FROM ctf_actions FINAL WHERE stakeholder = {w:String} AND _deleted = 0), "
            "(SELECT countIf(action = 'merge') FROM ctf_actions FINAL WHERE stakeholder = {w:String} AND _deleted = 0), "
            "(SELECT countIf(action = 'redeem') FROM ctf_actions FINAL WHERE stakeholder = {w:String} AND _deleted = 0), "
            "(SELECT count() FROM neg_risk_conversions FINAL WHERE stakeholder = {w:String} AND _deleted = 0)",
            parameters={"w": w}).result_rows[0]
        assert tuple(kinds.values()) == tuple(int(x) for x in raw), w
        fills = {(r["tx_hash"], r["log_index"]): r for r in rows if r["type"] == "fill"}
        for tx, log, side, shares, usdc, fee in built.query(
                "SELECT tx_hash, log_index, toString(side), shares, usdc, fee_usdc FROM trades_raw FINAL "
                "WHERE wallet = {w:String} AND _deleted = 0", parameters={"w": w}).result_rows:
            f = fills[(tx, log)]
            assert (f["side"], micros(f["shares"]), micros(f["usdc"]), micros(f["fee"])) == (
                side, int(shares), int(usdc), int(fee))
        csv_rows = list(csv.DictReader(io.StringIO(http.get(f"/wallets/{w}/activity.csv").text)))
        assert [(r["tx_hash"], r["type"], r["shares"], r["usdc"]) for r in csv_rows] == [
            (r["tx_hash"], r["type"], r["shares"], r["usdc"]) for r in rows]


def test_activity_shows_plain_transfers(http, built):
    """A wallet-to-wallet share transfer (in a transaction with no fill, split or the like) is listed for both
    sides, signed."""
    found = built.query(
        "SELECT tx_hash, from_addr, to_addr, value FROM erc1155_transfers FINAL WHERE _deleted = 0 "
        "AND from_addr IN (SELECT wallet FROM wallet_market_pnl) AND to_addr IN (SELECT wallet FROM wallet_market_pnl) "
        "AND from_addr != to_addr LIMIT 1").result_rows
    if not found:
        pytest.skip("the world has no wallet-to-wallet transfer")
    tx, frm, to, value = found[0]
    for who, sign in ((frm, -1), (to, 1)):
        rows = http.get(f"/wallets/{who}/activity", params={"limit": 1000}).json()["activity"]
        mine = [r for r in rows if r["tx_hash"] == tx and r["type"] == "transfer"]
        assert any(micros(r["shares"]) == sign * int(value) for r in mine), (who, mine)


def test_activity_rejects_a_bad_cursor(http, built):
    w = _wallets(built, 1)[0]
    for bad in ("12", "a:b:c", "1:2:3:4"):
        assert http.get(f"/wallets/{w}/activity", params={"before": bad}).status_code == 422


# ---------------------------------------------------------------- leaderboard rank


@pytest.mark.parametrize("window,metric", [("all", "total"), ("7d", "ui_total"), ("1d", "volume"),
                                           ("30d", "realized"), ("all", "volume")])
def test_rank_is_the_place_on_the_leaderboard(http, window, metric):
    board = http.get("/leaderboard", params={"window": window, "metric": metric, "limit": 1000}).json()
    for row in board["rows"][:15] + board["rows"][-3:]:
        r = http.get(f"/leaderboard/rank/{row['wallet'].upper().replace('0X', '0x')}",
                     params={"window": window, "metric": metric}).json()
        assert (r["rank"], r["value"], r["ranked"]) == (row["rank"], row["value"], len(board["rows"]))
    r = http.get("/leaderboard/rank/0x" + "e0" * 20, params={"window": window, "metric": metric}).json()
    assert r["rank"] is None and r["value"] is None and r["ranked"] == len(board["rows"])


def test_volume_ranks_the_fills_collateral(http, built):
    rows = http.get("/leaderboard", params={"metric": "volume", "limit": 5}).json()["rows"]
    for row in rows:
        (v,) = built.query("SELECT sum(usdc) FROM trades_raw FINAL WHERE wallet = {w:String} AND _deleted = 0",
                           parameters={"w": row["wallet"]}).result_rows[0]
        assert micros(row["value"]) == int(v)


# ---------------------------------------------------------------- offline docs


def test_docs_and_redoc_load_nothing_from_elsewhere(http):
    for path, asset in (("/docs", "/vendor/swagger-ui-bundle.js"), ("/redoc", "/vendor/redoc.standalone.js")):
        page = http.get(path)
        assert page.status_code == 200
        urls = re.findall(r"""(?:src|href)=["']([^"']+)""", page.text) + re.findall(r"url: ?['\"]([^'\"]+)", page.text)
        assert urls and all(u.startswith("/") for u in urls), urls
        assert "cdn" not in page.text.lower() and asset in page.text
    missing = [n for n in docs.ASSETS if docs.asset_path(n) is None]
    if missing:
        pytest.skip(f"set-up has not installed {missing} into {docs.NODE_MODULES}")
    for name, (_rel, media) in docs.ASSETS.items():
        r = http.get(f"/vendor/{name}")
        assert r.status_code == 200 and r.headers["content-type"].startswith(media) and len(r.content) > 500
    assert http.get("/vendor/../../etc/passwd").status_code == 404
    assert http.get("/vendor/package.json").json()["error"] == "asset_not_found"
