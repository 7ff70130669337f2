"""Leaderboard and export over a built warehouse (the committed world, ingested and built as in production), and
the leaderboard's window rule on random rows. Expected values come from the final views or from the derived rows
with the rule written out here, never from the code under test."""
from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from decimal import Decimal, localcontext

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.chain.proxies import polymarket_proxy_address
from harness.serve import app as api
from harness.warehouse import sql
from tests.support import worlds

DAY = 86_400


@pytest.fixture(scope="module")
def built(module_db):
    return worlds.built(module_db())


@pytest.fixture(scope="module")
def http(built):
    with TestClient(api.create_app(lambda: built)) as client:
        yield client


def expected_board(db, window: str, metric: str) -> list[tuple[str, int]]:
    """The rule, from the derived rows: (wallet, pnl) best first, ties by wallet."""
    (end,) = db.query("SELECT toUInt32(max(block_time)) FROM (SELECT block_time FROM trades_raw UNION ALL "
                      "SELECT block_time FROM erc1155_transfers UNION ALL SELECT block_time FROM ctf_actions UNION ALL "
                      "SELECT block_time FROM condition_resolutions UNION ALL "
                      "SELECT block_time FROM neg_risk_conversions)").result_rows[0]
    times = dict(db.query("SELECT condition_id, toUInt32(resolved_time) FROM winning_index").result_rows)
    table = "wallet_market_pnl_avgcost" if metric == "ui_total" else "wallet_market_pnl"
    sums: dict[str, int] = {}
    for w, cid, resolved, pnl in db.query(f"SELECT wallet, condition_id, resolved, pnl FROM {table}").result_rows:
        if window == "all":
            counts = metric != "realized" or resolved
        else:
            recent = resolved and times[cid] > end - int(window[:-1]) * DAY
            counts = recent if metric == "realized" else (not resolved or recent)
        if counts:
            sums[w] = sums.get(w, 0) + int(pnl)
    return sorted(sums.items(), key=lambda kv: (-kv[1], kv[0]))


def micros(s: str) -> int:
    with localcontext() as ctx:  # Int128 amounts need more than the default 28 digits
        ctx.prec = 80
        return int(Decimal(s) * 1_000_000)


@pytest.mark.parametrize("window", ["all", "7d", "30d"])
@pytest.mark.parametrize("metric", ["total", "realized", "ui_total"])
def test_leaderboard_follows_the_rule(http, built, window, metric):
    want = expected_board(built, window, metric)
    body = http.get("/leaderboard", params={"window": window, "metric": metric, "limit": 1000}).json()
    got = [(r["wallet"], micros(r["pnl"])) for r in body["rows"]]
    assert got == want[:1000]
    assert [r["rank"] for r in body["rows"]] == list(range(1, len(got) + 1))
    assert body["window"] == window and body["metric"] == metric


def test_leaderboard_all_equals_the_summary_views(http, built):
    summary = dict(built.query("SELECT wallet, total_pnl FROM wallet_pnl_summary_final").result_rows)
    realized = dict(built.query("SELECT wallet, realized_pnl FROM wallet_pnl_summary_final "
                                "WHERE markets_resolved > 0").result_rows)
    ui = dict(built.query("SELECT wallet, ui_total_pnl FROM ui_wallet_pnl_summary").result_rows)
    for metric, want in (("total", summary), ("realized", realized), ("ui_total", ui)):
        rows = http.get("/leaderboard", params={"metric": metric, "limit": 1000}).json()["rows"]
        assert {r["wallet"]: micros(r["pnl"]) for r in rows} == {w: int(v) for w, v in want.items()}, metric


def test_leaderboard_limit_and_as_of(http, built):
    body = http.get("/leaderboard", params={"limit": 3}).json()
    assert len(body["rows"]) == 3
    wm = built.query(sql.load("checks/watermark")).result_rows[0][1]
    assert body["as_of"] == int(wm)
    assert body["as_of_iso"] == datetime.fromtimestamp(int(wm), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.mark.parametrize("params", [{"window": "2d"}, {"window": ""}, {"metric": "pnl"}, {"limit": 0},
                                    {"limit": 1001}, {"limit": "x"}, {"window": "ALL"}])
def test_leaderboard_rejects_bad_parameters(http, params):
    r = http.get("/leaderboard", params=params)
    assert r.status_code == 422 and r.json()["error"] == "invalid_request"


def _some_wallets(db, n=5) -> list[str]:
    return [r[0] for r in db.query("SELECT wallet FROM wallet_pnl_summary_final ORDER BY abs(total_pnl) DESC, "
                                   "wallet LIMIT {n:UInt32}", parameters={"n": n}).result_rows]


def test_csv_parses_and_sums_to_the_summary_view(http, built):
    for w in _some_wallets(built):
        r = http.get(f"/wallets/{w}/pnl.csv")
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
        assert r.headers["content-disposition"] == f'attachment; filename="pnl-{w}.csv"'
        rows = list(csv.DictReader(io.StringIO(r.text)))
        assert list(rows[0]) == ["wallet", "condition_id", "status", "resolved_time", "cashflow_usd", "value_usd",
                                 "pnl_usd"]
        total, realized, n_res, n_open = built.query(
            "SELECT total_pnl_usd, realized_pnl_usd, markets_resolved, markets_open FROM wallet_pnl_summary_final "
            "WHERE wallet = {w:String}", parameters={"w": w}).result_rows[0]
        assert sum(Decimal(x["pnl_usd"]) for x in rows) == total
        assert sum(Decimal(x["pnl_usd"]) for x in rows if x["status"] == "resolved") == realized
        assert (sum(x["status"] == "resolved" for x in rows), sum(x["status"] == "open" for x in rows)) == \
            (n_res, n_open)
        for x in rows:
            assert x["wallet"] == w
            assert Decimal(x["cashflow_usd"]) + Decimal(x["value_usd"]) == Decimal(x["pnl_usd"])
            assert all(len(x[c].split(".")[1]) == 6 for c in ("cashflow_usd", "value_usd", "pnl_usd"))


def test_csv_unknown_and_malformed(http):
    assert http.get(f"/wallets/0x{'0' * 38}e9/pnl.csv").status_code == 404
    assert http.get("/wallets/0x123/pnl.csv").status_code == 422


def _cli(warehouse_settings, db, *args) -> int:
    from harness.cli import main
    from tests.support.target import warehouse_args

    name = db.query("SELECT currentDatabase()").result_rows[0][0]
    return main(["export", *warehouse_args(warehouse_settings, name), *args])


def test_export_command_csv_and_json(built, warehouse_settings, tmp_path, capsys):
    w = _some_wallets(built, 1)[0]
    total, realized, unrealized = built.query(
        "SELECT total_pnl_usd, realized_pnl_usd, unrealized_pnl_usd FROM wallet_pnl_summary_final "
        "WHERE wallet = {w:String}", parameters={"w": w}).result_rows[0]
    out = tmp_path / "w.csv"
    assert _cli(warehouse_settings, built, "--wallet", w.upper().replace("0X", "0x"), "--out", str(out)) == 0
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert sum(Decimal(x["pnl_usd"]) for x in rows) == total
    capsys.readouterr()
    assert _cli(warehouse_settings, built, "--wallet", w, "--format", "json") == 0
    body = json.loads(capsys.readouterr().out)
    assert body["wallet"] == w and body["resolved_from"] is None
    assert [Decimal(body["totals"][k]) for k in ("realized_usd", "unrealized_usd", "total_usd")] == \
        [realized, unrealized, total]
    assert len(body["markets"]) == len(rows)
    assert _cli(warehouse_settings, built, "--wallet", "0x" + "0" * 38 + "e9") == 1
    assert _cli(warehouse_settings, built, "--wallet", "nope") == 2


def test_export_command_follows_a_proxy(built, warehouse_settings, capsys):
    """An EOA whose derived ProxyWalletFactory proxy is one of the world's wallets: the proxy's rows, said so.
    (A copy of that wallet's rows under the derived address, in this module's own database.)"""
    eoa = "0x" + "e7" * 20
    proxy = polymarket_proxy_address(eoa)
    w = _some_wallets(built, 1)[0]
    built.command("INSERT INTO wallet_market_pnl SELECT {p:String}, condition_id, resolved, cashflow, value, pnl "
                  "FROM wallet_market_pnl WHERE wallet = {w:String}", parameters={"p": proxy, "w": w})
    try:
        capsys.readouterr()
        assert _cli(warehouse_settings, built, "--wallet", eoa, "--format", "json") == 0
        captured = capsys.readouterr()
        body = json.loads(captured.out)
        assert body["wallet"] == proxy and body["resolved_from"]["owner"] == eoa
        assert body["resolved_from"]["kind"] == "proxy"
        (total,) = built.query("SELECT total_pnl_usd FROM wallet_pnl_summary_final WHERE wallet = {w:String}",
                               parameters={"w": w}).result_rows[0]
        assert Decimal(body["totals"]["total_usd"]) == total
    finally:
        built.command("DELETE FROM wallet_market_pnl WHERE wallet = {p:String}", parameters={"p": proxy})


# ---------------------------------------------------------------- the window rule on random rows


@st.composite
def pnl_rows(draw):
    conds = [f"0x{i:064x}" for i in range(draw(st.integers(1, 6)))]
    end = 1_800_000_000
    resolved = {c: end - draw(st.integers(0, 40 * DAY)) for c in conds if draw(st.booleans())}
    wallets = [f"0x{i:040x}" for i in range(1, draw(st.integers(2, 5)))]
    rows = [(w, c, int(c in resolved), draw(st.integers(-10**12, 10**12)), draw(st.integers(-10**12, 10**12)))
            for w in wallets for c in conds if draw(st.booleans())]
    # fill volume per (wallet, hour end): hours from 40 days before the end to the end's own hour
    flows = [(w, c, 3600 * ((end - draw(st.integers(-3599, 40 * DAY))) // 3600 + 1), draw(st.integers(0, 10**12)))
             for w in wallets for c in conds if draw(st.booleans())]
    return end, resolved, rows, flows


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=pnl_rows())
def test_window_rule_on_random_rows(fresh_db, case):
    end, resolved, rows, flows = case
    db = fresh_db
    for t in ("wallet_market_pnl", "wallet_market_pnl_avgcost", "winning_index", "trades_raw", "wallet_leaderboard",
              "wallet_pnl_flows"):
        db.command(f"TRUNCATE TABLE {t}")
    db.command("CREATE TABLE IF NOT EXISTS wallet_leaderboard_new AS wallet_leaderboard")
    db.command("TRUNCATE TABLE wallet_leaderboard_new")
    if rows:
        db.insert("wallet_market_pnl", [[w, c, r, 0, 0, p] for w, c, r, p, _ in rows],
                  column_names=["wallet", "condition_id", "resolved", "cashflow", "value", "pnl"])
        db.insert("wallet_market_pnl_avgcost", [[w, c, r, u, 0, u, 0] for w, c, r, _, u in rows],
                  column_names=["wallet", "condition_id", "resolved", "realized", "unrealized", "pnl",
                                "clamped_shares"])
    if resolved:
        db.insert("winning_index", [[c, [1, 0], 1, 0, 1, datetime.fromtimestamp(t, UTC)] for c, t in resolved.items()],
                  column_names=["condition_id", "payout_numerators", "payout_denominator", "winning_index",
                                "resolved_block", "resolved_time"])
    if flows:
        db.insert("wallet_pnl_flows", [[w, c, 0, datetime.fromtimestamp(t, UTC), 0, 0, v] for w, c, t, v in flows],
                  column_names=["wallet", "condition_id", "outcome_index", "t", "shares", "cash", "volume"])
    db.command("INSERT INTO trades_raw (tx_hash, log_index, block_number, block_time, exchange, order_hash, wallet, "
               "counterparty, side, token_id, shares, usdc, fee_shares, fee_usdc, _version) "
               "VALUES ('0xend', 0, 1, toDateTime({t:UInt32}, 'UTC'), '', '', '', '', 'BUY', 1, 1, 1, 0, 0, 1)",
               parameters={"t": end})
    text = sql.load("build/wallet_leaderboard")
    for t in ("wallet_market_pnl_avgcost", "wallet_market_pnl", "winning_index", "wallet_pnl_flows"):
        text = text.replace(f"{t}_new", t)
    db.command(text, parameters={"cutoff": 2**40})
    periods, metrics = ("all", "1d", "7d", "30d"), ("total", "realized", "ui_total", "volume")
    got = {(p, m): sorted((w, int(v)) for w, v in db.query(
        "SELECT wallet, pnl FROM wallet_leaderboard_new WHERE period = {p:String} AND metric = {m:String}",
        parameters={"p": p, "m": m}).result_rows) for p in periods for m in metrics}
    for p in periods:
        volume: dict[str, int] = {}
        for w, _c, t, v in flows:  # the hours ending inside the window (after end - N days)
            if v and (p == "all" or t > end - int(p[:-1]) * DAY):
                volume[w] = volume.get(w, 0) + v
        assert got[(p, "volume")] == sorted(volume.items()), p
    for p in periods:
        for m in ("total", "realized", "ui_total"):
            sums: dict[str, int] = {}
            for w, c, r, cash_pnl, ui_pnl in rows:
                recent = p == "all" or (r and resolved[c] > end - int(p[:-1]) * DAY)
                counts = (r and recent) if m == "realized" else (not r or recent)
                if counts:
                    sums[w] = sums.get(w, 0) + (ui_pnl if m == "ui_total" else cash_pnl)
            assert got[(p, m)] == sorted(sums.items()), (p, m)
    as_of = db.query("SELECT DISTINCT toUInt32(as_of) FROM wallet_leaderboard_new").result_rows
    assert as_of in ([(end,)], [])


def test_leaderboard_page_and_link(http):
    page = http.get("/static/leaderboard.html")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "/static/leaderboard.js" in page.text and "https://" not in page.text  # no CDN
    js = http.get("/static/leaderboard.js")
    assert js.status_code == 200 and "/leaderboard?" in js.text and "http" not in js.text
    assert 'href="/static/leaderboard.html"' in http.get("/").text


@given(st.lists(st.tuples(st.integers(-(2**127), 2**127 - 1), st.integers(-(2**100), 2**100),
                          st.booleans()), max_size=8))
def test_csv_money_is_exact_for_any_rows(items):
    """export.to_csv of any per-market rows: every amount parses back to the exact micro-USDC integer."""
    from harness.serve import export

    rows = [(f"0x{i:064x}", "resolved" if res else "open", cf, v, cf + v, 1_714_521_600)
            for i, (cf, v, res) in enumerate(items)]
    parsed = list(csv.DictReader(io.StringIO(export.to_csv(export.market_rows(rows, "0x" + "a" * 40)))))
    assert [(micros(x["cashflow_usd"]), micros(x["value_usd"]), micros(x["pnl_usd"])) for x in parsed] == \
        [(cf, v, cf + v) for _, _, cf, v, _, _ in rows]
    assert [x["resolved_time"] for x in parsed] == ["2024-05-01T00:00:00Z" if r[1] == "resolved" else ""
                                                    for r in rows]
