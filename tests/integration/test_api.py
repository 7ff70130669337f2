"""The P&L API against a real (embedded) warehouse: rows go into the derived tables, the views come from
harness.pnl.build, and every expected number is computed here from the inserted rows, never by the API code."""
from __future__ import annotations

import json
import os
import re
import secrets
import threading
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from decimal import Decimal, localcontext

import httpx
import pytest
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st

from harness.pnl import money
from harness.serve import app as api
from harness.serve import models
from harness.serve.warehouse import ClientPool
from harness.warehouse import connect, drop_database

MICROS = 1_000_000
INT128 = (-(2**127), 2**127 - 1)


def dec(n: int) -> str:
    """The decimal string an integer of micro-units must show as (Decimal arithmetic, not the API's)."""
    with localcontext() as ctx:
        ctx.prec = 80
        return f"{Decimal(n).scaleb(-6):.6f}"


# ---------------------------------------------------------------- a small world of derived rows


@dataclass
class World:
    """Derived-table rows and the P&L they imply by the shared definition (computed here, independently)."""

    resolved: dict[str, tuple[tuple[int, ...], int]] = field(default_factory=dict)  # cid -> (numerators, time)
    prices: dict[str, tuple[int | None, ...]] = field(default_factory=dict)  # open cid -> price per outcome
    holdings: dict[str, dict[str, tuple[tuple[int, ...], int]]] = field(default_factory=dict)  # w -> cid -> (sh, cf)

    def insert(self, client) -> None:
        cash, pos, unreal, prices, wins = [], [], [], [], []
        flows, marks = [], []  # the history's snapshots: every holding arrives a week before T0, priced then
        start = datetime.fromtimestamp(T0 - 7 * 86400, UTC)
        market = []  # wallet_market_pnl: the one-grain table the final views read (written last by a rebuild)
        for w, held in self.holdings.items():
            for cid, (shares, cf) in held.items():
                cash.append([w, cid, cf])
                pos.extend([w, cid, i, s] for i, s in enumerate(shares))
                flows.extend([w, cid, i, start, s, cf if i == 0 else 0, 0] for i, s in enumerate(shares))
                if cid in self.prices:
                    v = self.value(cid, shares)
                    unreal.append([w, cid, v, cf, cf + v])
                if cid in self.resolved or cid in self.prices:
                    v = self.value(cid, shares)
                    market.append([w, cid, int(cid in self.resolved), cf, v, cf + v])
        for cid, (nums, t) in self.resolved.items():
            top = [i for i, n in enumerate(nums) if n == sum(nums)]
            wins.append([cid, list(nums), sum(nums), top[0] if top else -1, 1000 + len(wins),
                         datetime.fromtimestamp(t, UTC)])
        as_of = datetime(2026, 11, 24, tzinfo=UTC)
        for cid, ps in self.prices.items():
            prices.extend([cid, i, p, as_of, "test"] for i, p in enumerate(ps) if p is not None)
            marks.extend([cid, i, start, p, "fill"] for i, p in enumerate(ps) if p is not None)
        for table, rows, cols in (
            ("trade_cashflows_v3", cash, ["wallet", "condition_id", "cashflow"]),
            ("outcome_positions_v2", pos, ["wallet", "condition_id", "outcome_index", "net_shares"]),
            ("wallet_unrealized_pnl_v2", unreal,
             ["wallet", "condition_id", "position_value", "cashflow", "unrealized_pnl"]),
            ("market_prices", prices, ["condition_id", "outcome_index", "price_micros", "as_of", "source"]),
            ("wallet_market_pnl", market, ["wallet", "condition_id", "resolved", "cashflow", "value", "pnl"]),
            ("winning_index", wins, ["condition_id", "payout_numerators", "payout_denominator", "winning_index",
                                     "resolved_block", "resolved_time"]),
            ("wallet_pnl_flows", flows, ["wallet", "condition_id", "outcome_index", "t", "shares", "cash", "volume"]),
            ("price_history", marks, ["condition_id", "outcome_index", "t", "price_micros", "source"]),
        ):
            if rows:
                client.insert(table, rows, column_names=cols)

    def value(self, cid: str, shares: tuple[int, ...]) -> int:
        if cid in self.resolved:
            nums = self.resolved[cid][0]
            return sum(s * n for s, n in zip(shares, nums)) // sum(nums)  # one floor per wallet and condition
        return sum(s * (p or 0) for s, p in zip(shares, self.prices[cid])) // MICROS

    def markets(self, wallet: str) -> dict[str, tuple[str, int, int, int]]:
        """condition -> (status, cashflow, value, pnl)."""
        out = {}
        for cid, (shares, cf) in self.holdings[wallet].items():
            v = self.value(cid, shares)
            out[cid] = ("resolved" if cid in self.resolved else "open", cf, v, cf + v)
        return out

    def totals(self, wallet: str) -> tuple[int, int, int]:
        m = self.markets(wallet).values()
        realized = sum(p for s, _, _, p in m if s == "resolved")
        unrealized = sum(p for s, _, _, p in m if s == "open")
        return realized, unrealized, realized + unrealized

    def timeline(self, wallet: str) -> list[tuple[str, str | None, int, int]]:
        """(kind, condition, pnl, cumulative) in resolution order, then the open-markets point."""
        m = self.markets(wallet)
        order = sorted((self.resolved[c][1], c) for c, v in m.items() if v[0] == "resolved")
        out, run = [], 0
        for _, c in order:
            run += m[c][3]
            out.append(("resolved", c, m[c][3], run))
        opened = [v[3] for v in m.values() if v[0] == "open"]
        if opened:
            out.append(("open", None, sum(opened), run + sum(opened)))
        return out


def addr(tag: str) -> str:
    return "0x" + tag.rjust(40, "0")


T0 = 1_714_521_600  # 2024-05-01


def fixture_world() -> World:
    """Binary winners and losers, a 50/50 split payout (floor), open markets with an unpriced outcome,
    a wallet that sold out (cash flow, zero shares), one with only open markets, and a whale loss."""
    c = {k: "0x" + k * 64 for k in "12345"}
    return World(
        resolved={c["1"]: ((1, 0), T0), c["2"]: ((0, 1), T0 + 86_400), c["3"]: ((1, 1), T0 + 3 * 86_400)},
        prices={c["4"]: (623_000, 377_000), c["5"]: (410_000, None)},
        holdings={
            addr("aa"): {c["1"]: ((10_000_000, 0), -6_200_000), c["2"]: ((5_000_000, 0), -2_500_001),
                         c["3"]: ((3_333_333, 0), -1_000_000), c["4"]: ((0, 7_000_000), -2_000_000),
                         c["5"]: ((1_234_567, 3_000_000), -600_000)},
            addr("bb"): {c["4"]: ((4_000_000, 0), -2_400_000)},
            addr("cc"): {c["2"]: ((0, 8_000_000), -4_000_000), c["1"]: ((0, 0), 1_500_000)},
            addr("dd"): {c["1"]: ((0, 900_000_000_000), -450_000_000_000)},
        },
    )


@pytest.fixture(scope="module")
def api_db(module_db):
    """A database of this module's own, with the schema and the final views (dropped when the module ends)."""
    from harness.pnl.build import create_views

    client = module_db()
    create_views(client)
    return client


@pytest.fixture(scope="module")
def world(api_db) -> World:
    w = fixture_world()
    w.insert(api_db)
    return w


@pytest.fixture(scope="module")
def http(api_db, world):
    with TestClient(api.create_app(lambda: api_db)) as client:
        yield client


# ---------------------------------------------------------------- pure functions


@given(st.integers(*INT128))
def test_money_is_exact_decimal(n):
    s = money.micros_to_decimal(n)
    assert s == dec(n)
    with localcontext() as ctx:
        ctx.prec = 80
        assert Decimal(s) * MICROS == n


@pytest.mark.parametrize("n,text", [(0, "0.000000"), (-1, "-0.000001"), (999_999, "0.999999"),
                                    (-1_000_000, "-1.000000"), (123_456_789, "123.456789")])
def test_money_examples(n, text):
    assert money.micros_to_decimal(n) == text


@pytest.mark.parametrize("bad", [1.5, True, Decimal(1), "12", None])
def test_money_refuses_non_integers(bad):
    with pytest.raises(TypeError, match="int of micro-units"):
        money.micros_to_decimal(bad)


def test_address_normalised_or_named():
    assert models.normalise_address("0x" + "AbC" * 13 + "d") == "0x" + "abc" * 13 + "d"
    for bad in ("0x123", "ab" * 21, "0x" + "g" * 40, "0x" + "a" * 41, ""):
        with pytest.raises(ValueError, match="is not 0x followed by 40 hex"):
            models.normalise_address(bad)


# ---------------------------------------------------------------- wallet endpoints


@pytest.mark.parametrize("tag", ["aa", "bb", "cc", "dd"])
def test_pnl_equals_rows(http, world, tag):
    wallet = addr(tag)
    body = http.get(f"/wallets/{wallet}/pnl").json()
    realized, unrealized, total = world.totals(wallet)
    assert (body["realized"], body["unrealized"], body["total"]) == (dec(realized), dec(unrealized), dec(total))
    exp = world.markets(wallet)
    assert body["markets_resolved"] == sum(v[0] == "resolved" for v in exp.values())
    assert body["markets_open"] == sum(v[0] == "open" for v in exp.values())
    got = {m["condition_id"]: (m["status"], m["cashflow"], m["value"], m["pnl"]) for m in body["markets"]}
    assert got == {c: (s, dec(cf), dec(v), dec(p)) for c, (s, cf, v, p) in exp.items()}
    for m in body["markets"]:
        want = world.resolved[m["condition_id"]][1] if m["status"] == "resolved" else None
        assert m["resolved_time"] == want


def test_pnl_floor_and_sign_are_exact(http, world):
    """Wallet aa's 50/50 market: 3_333_333 shares at 1/2 each floor to 1_666_666 micro-USDC, not 1_666_667."""
    body = http.get(f"/wallets/{addr('aa')}/pnl").json()
    split = next(m for m in body["markets"] if m["condition_id"] == "0x" + "3" * 64)
    assert split["value"] == "1.666666" and split["pnl"] == "0.666666"
    whale = http.get(f"/wallets/{addr('dd')}/pnl").json()
    assert whale["total"] == "-450000.000000"


def test_pnl_lists_largest_first_and_limits(http, world):
    wallet = addr("aa")
    body = http.get(f"/wallets/{wallet}/pnl", params={"limit": 2}).json()
    ranked = sorted(world.markets(wallet).items(), key=lambda kv: -abs(kv[1][3]))
    assert [m["condition_id"] for m in body["markets"]] == [c for c, _ in ranked[:2]]
    assert body["markets_total"] == len(ranked) == 5
    assert http.get(f"/wallets/{wallet}/pnl", params={"limit": 0}).status_code == 422


AVG_COLS = ["wallet", "condition_id", "resolved", "realized", "unrealized", "pnl", "clamped_shares"]


def test_pnl_ui_totals_sum_the_wallets_average_cost_rows(api_db, http, world):
    """The average-cost block comes from the same single read as the cash-flow rows: the sums of this wallet's
    wallet_market_pnl_avgcost rows (hand-computed here), and the cash-flow figures do not move."""
    wallet = addr("cc")
    before = http.get(f"/wallets/{wallet}/pnl").json()
    api_db.insert("wallet_market_pnl_avgcost",
                  [[wallet, "0x" + "1" * 64, 1, 5_000_000, 0, 5_000_000, 0],
                   [wallet, "0x" + "2" * 64, 0, -1_250_000, 250_001, -999_999, 3]], column_names=AVG_COLS)
    body = http.get(f"/wallets/{wallet}/pnl").json()
    assert (body["ui"]["realized"], body["ui"]["unrealized"], body["ui"]["total"]) == (
        "3.750000", "0.250001", "4.000001")
    assert body["ui"]["method"] == "average_cost"
    assert before["ui"] is None  # the fixture world has no average-cost rows of its own
    realized, unrealized, total = world.totals(wallet)
    assert (body["realized"], body["unrealized"], body["total"]) == (dec(realized), dec(unrealized), dec(total))
    assert body["markets_total"] == before["markets_total"] == len(world.markets(wallet))


def test_pnl_served_without_the_average_cost_table(fresh_db):
    """A warehouse from before the average-cost tables: the cash-flow answer, with ui null, not a 503."""
    from harness.pnl.build import create_views

    create_views(fresh_db)
    w = fixture_world()
    w.insert(fresh_db)
    fresh_db.command("DROP TABLE wallet_market_pnl_avgcost")
    with TestClient(api.create_app(lambda: fresh_db)) as http:
        body = http.get(f"/wallets/{addr('aa')}/pnl").json()
        again = http.get(f"/wallets/{addr('aa')}/pnl").json()
    assert body["ui"] is None and body == again
    assert body["total"] == dec(w.totals(addr("aa"))[2])


def test_lookups_cached_until_their_tables_change(fresh_db):
    """Resolution times are read once per condition and kept while neither the watermark nor the tables they come
    from change (expired TTLs alone do not empty the cache); a rebuild's new winning_index shows at the next
    TTL, though no raw row changed."""
    from harness.pnl.build import create_views

    create_views(fresh_db)
    w = fixture_world()
    w.insert(fresh_db)
    wallet = addr("aa")
    cid = next(c for c, v in w.markets(wallet).items() if v[0] == "resolved")
    app = api.create_app(lambda: fresh_db, watermark_ttl=0)
    wh = app.state.warehouse
    asked: list[str] = []
    rows = wh.rows
    wh.rows = lambda name, **kw: (asked.append(name), rows(name, **kw))[1]
    with TestClient(app) as http:
        def times() -> dict:
            return {m["condition_id"]: m["resolved_time"] for m in http.get(f"/wallets/{wallet}/pnl").json()["markets"]}

        first = times()
        assert first[cid] == w.resolved[cid][1]
        asked.clear()
        assert times() == first and "api/resolved_times" not in asked
        t = w.resolved[cid][1]
        fresh_db.command("ALTER TABLE winning_index UPDATE resolved_time = resolved_time + 3600 "
                         "WHERE condition_id = {c:String}", parameters={"c": cid}, settings={"mutations_sync": 2})
        times()  # this request's watermark read sees the change (the TTL is 0) and empties the cache
        assert times()[cid] == t + 3600


def test_address_case_is_normalised(http, world):
    upper = "0x" + addr("aa")[2:].upper().replace("AA", "Aa")
    body = http.get(f"/wallets/{upper}/pnl")
    assert body.status_code == 200 and body.json()["wallet"] == addr("aa")


def test_unknown_wallet_is_404_json(http):
    r = http.get(f"/wallets/{addr('e0')}/pnl")
    assert r.status_code == 404
    assert r.json()["error"] == "wallet_not_found" and addr("e0") in r.json()["detail"]
    for path in ("positions", "timeline"):
        assert http.get(f"/wallets/{addr('e0')}/{path}").status_code == 404


@pytest.mark.parametrize("bad", ["0x123", "not-an-address", "0x" + "z" * 40, "0x" + "a" * 41, "a" * 42])
def test_malformed_address_is_422(http, bad):
    r = http.get(f"/wallets/{bad}/pnl")
    assert r.status_code == 422
    assert r.json()["error"] == "invalid_request" and r.json()["detail"][0]["loc"] == ["path", "address"]


def test_positions_equal_rows(http, world):
    """Held shares, status and current price per outcome. This world has no average-cost book rows, so the book's
    fields are zero (test_positions.py checks them against the oracle on a built world)."""
    wallet = addr("aa")
    body = http.get(f"/wallets/{wallet}/positions").json()
    want = []
    for cid, (shares, _) in sorted(world.holdings[wallet].items()):
        for i, s in enumerate(shares):
            if s:
                if cid in world.resolved:
                    nums = world.resolved[cid][0]
                    price = nums[i] * MICROS // sum(nums)
                    status = "redeemable" if s > 0 and nums[i] > 0 else "resolved"
                else:
                    price, status = world.prices[cid][i], "open"
                want.append({"condition_id": cid, "outcome_index": i, "net_shares": dec(s), "status": status,
                             "price": None if price is None else dec(price),
                             "question": None, "slug": None, "outcome": None})  # no market metadata loaded
    assert [{k: p[k] for k in want[0]} for p in body["positions"]] == want
    assert {p["shares"] for p in body["positions"]} == {p["pnl_usd"] for p in body["positions"]} == {"0.000000"}
    assert body["wallet"] == wallet and body["pnl_total"] == "0.000000"


def test_positions_of_sold_out_wallet(http, world):
    """cc sold all of market 1: only its market-2 shares remain, and it is still a known wallet."""
    body = http.get(f"/wallets/{addr('cc')}/positions").json()
    assert [(p["condition_id"], p["outcome_index"], p["net_shares"]) for p in body["positions"]] == [
        ("0x" + "2" * 64, 1, "8.000000")]


@pytest.mark.parametrize("tag", ["aa", "bb", "cc", "dd"])
def test_timeline_accumulates_to_total(http, world, tag):
    wallet = addr(tag)
    points = http.get(f"/wallets/{wallet}/timeline").json()["points"]
    assert [(p["kind"], p["condition_id"], p["pnl"], p["cumulative"]) for p in points] == [
        (k, c, dec(p), dec(cum)) for k, c, p, cum in world.timeline(wallet)]
    assert points[-1]["cumulative"] == dec(world.totals(wallet)[2])
    times = [p["time"] for p in points]
    assert times == sorted(times)


# ---------------------------------------------------------------- property: any holdings, exact answers

_serial = iter(range(10**9))


@st.composite
def holdings(draw):
    n = next(_serial)
    world = World()
    wallet = addr(f"f{n:x}")
    held = {}
    for k in range(draw(st.integers(1, 5))):
        cid = f"0x{n:032x}{k:032x}"
        outcomes = draw(st.integers(2, 3))
        shares = tuple(draw(st.lists(st.integers(0, 10**13), min_size=outcomes, max_size=outcomes)))
        cf = draw(st.integers(-(10**13), 10**13))
        if draw(st.booleans()):
            nums = tuple(draw(st.lists(st.integers(0, 3), min_size=outcomes, max_size=outcomes)
                              .filter(lambda xs: sum(xs) > 0)))
            world.resolved[cid] = (nums, T0 + draw(st.integers(0, 10**7)))
        else:
            world.prices[cid] = tuple(draw(st.lists(st.one_of(st.none(), st.integers(0, MICROS)),
                                                    min_size=outcomes, max_size=outcomes)))
        held[cid] = (shares, cf)
    world.holdings[wallet] = held
    return wallet, world


@given(holdings())
def test_any_holdings_give_exact_pnl(api_db, http, case):
    wallet, w = case
    w.insert(api_db)
    body = http.get(f"/wallets/{wallet}/pnl").json()
    assert (body["realized"], body["unrealized"], body["total"]) == tuple(map(dec, w.totals(wallet)))
    got = {m["condition_id"]: m["pnl"] for m in body["markets"]}
    assert got == {c: dec(v[3]) for c, v in w.markets(wallet).items()}
    tl = http.get(f"/wallets/{wallet}/timeline").json()["points"]
    assert tl[-1]["cumulative"] == body["total"]


# ---------------------------------------------------------------- views, watermark, health


def test_view_suffix_selects_the_test_views(warehouse_settings):
    """Only _test views exist: the default app cannot answer (503), the dry-run app can."""
    from harness.pnl.build import create_views
    from harness.warehouse.schema import apply_schema

    settings = replace(warehouse_settings, database=f"apiv_{os.getpid()}_{secrets.token_hex(4)}")
    client = connect(settings)
    try:
        apply_schema(client)
        create_views(client, "_test")
        World(holdings={addr("ab"): {"0x" + "9" * 64: ((2_000_000,), -1_000_000)}},
              prices={"0x" + "9" * 64: (700_000,)}).insert(client)
        with TestClient(api.create_app(lambda: client)) as final:
            r = final.get(f"/wallets/{addr('ab')}/pnl")
            assert r.status_code == 503 and r.json()["error"] == "warehouse_unavailable"
        with TestClient(api.create_app(lambda: client, "_test")) as test:
            assert test.get(f"/wallets/{addr('ab')}/pnl").json()["total"] == "0.400000"
        srv = api.serve(lambda: client, view_suffix="_test")  # the dry-run stage's call
        try:
            assert httpx.get(f"{srv.url}/wallets/{addr('ab')}/pnl").json()["unrealized"] == "0.400000"
        finally:
            srv.stop()
    finally:
        drop_database(client, settings.database)
    with pytest.raises(ValueError, match="view_suffix"):
        api.create_app(lambda: client, "_test; DROP TABLE x")


def _raw_fill(client, block: int, t: int) -> None:
    client.insert("trades_raw", [[f"0x{block:064x}", 0, block, datetime.fromtimestamp(t, UTC),
                                  addr("aa"), 1]],
                  column_names=["tx_hash", "log_index", "block_number", "block_time", "wallet", "_version"])


def test_health_and_watermark(fresh_db):
    from harness.pnl.build import create_views

    create_views(fresh_db)
    fixture_world().insert(fresh_db)
    app = api.create_app(lambda: fresh_db, watermark_ttl=0, stale_after_seconds=3600)
    with TestClient(app) as http:
        empty = http.get("/health").json()
        assert empty["status"] == "stale" and empty["watermark"]["block"] == 0
        old = int(datetime(2024, 10, 31, tzinfo=UTC).timestamp())
        _raw_fill(fresh_db, 60_000_000, old)
        h = http.get("/health").json()
        assert h["status"] == "stale" and h["watermark"] == {"block": 60_000_000, "time": old,
                                                             "time_iso": "2024-10-31T00:00:00Z"}
        now = int(datetime.now(UTC).timestamp()) - 60
        _raw_fill(fresh_db, 60_000_100, now)
        h = http.get("/health")
        assert h.status_code == 200 and h.json()["status"] == "ok"
        assert 50 <= h.json()["data_age_seconds"] < 3600
        assert http.get(f"/wallets/{addr('aa')}/pnl").json()["watermark"]["block"] == 60_000_100


def test_health_without_schema_is_reachable_but_unavailable(warehouse_settings):
    settings = replace(warehouse_settings, database=f"apin_{os.getpid()}_{secrets.token_hex(4)}")
    client = connect(settings)
    try:
        with TestClient(api.create_app(lambda: client)) as http:
            r = http.get("/health")
            assert r.status_code == 503 and r.json()["warehouse_reachable"] is True
            assert "trades_raw" in r.json()["detail"]
    finally:
        drop_database(client, settings.database)


def test_health_reports_unreachable_warehouse():
    def broken():
        raise ConnectionRefusedError("connection refused by 127.0.0.1:1")

    with TestClient(api.create_app(broken)) as http:
        r = http.get("/health")
        assert r.status_code == 503
        assert r.json()["status"] == "unavailable" and "connection refused" in r.json()["detail"]
        assert r.json()["warehouse_reachable"] is False
        bad = http.get(f"/wallets/{addr('aa')}/pnl")
        assert bad.status_code == 503 and "cannot open warehouse" in bad.json()["detail"]


# ---------------------------------------------------------------- served over HTTP, concurrently


def test_served_concurrent_requests_all_exact(api_db, world):
    """8 threads x 25 requests through uvicorn on one chDB client: every answer exact, none failed."""
    srv = api.serve(lambda: api_db)
    wallets = sorted(world.holdings)
    want = {w: dec(world.totals(w)[2]) for w in wallets}
    errors: list[str] = []

    def hammer(k: int) -> None:
        with httpx.Client(base_url=srv.url, timeout=30) as h:
            for i in range(25):
                w = wallets[(k + i) % len(wallets)]
                r = h.get(f"/wallets/{w}/pnl")
                if r.status_code != 200 or r.json()["total"] != want[w]:
                    errors.append(f"{w}: {r.status_code} {r.text[:120]}")

    try:
        threads = [threading.Thread(target=hammer, args=(k,)) for k in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        srv.stop()
    assert errors == []
    with pytest.raises(httpx.ConnectError):
        httpx.get(srv.url + "/health", timeout=2)


def test_serve_takes_an_app_and_a_port(api_db, world):
    app = api.create_app(lambda: api_db)
    with api.serve(app, host="127.0.0.1", port=0) as srv:
        assert srv.url.startswith("http://127.0.0.1:") and str(srv) == srv.url
        assert httpx.get(srv.url + f"/wallets/{addr('bb')}/pnl").json()["total"] == dec(world.totals(addr("bb"))[2])


# ---------------------------------------------------------------- schema, dashboard, CLI


def test_openapi_published(http):
    spec = http.get("/openapi.json").json()
    assert {"/wallets/{address}/pnl", "/wallets/{address}/positions", "/wallets/{address}/timeline",
            "/health"} <= set(spec["paths"])
    param = spec["paths"]["/wallets/{address}/pnl"]["get"]["parameters"][0]
    assert param["schema"]["pattern"] == models.ADDRESS_PATTERN
    assert spec["components"]["schemas"]["PnlOut"]["properties"]["total"]["pattern"] == models.MONEY_PATTERN
    assert "number" not in json.dumps(spec["components"]["schemas"]["MarketOut"])  # no float money


def test_dashboard_page_and_assets(http):
    page = http.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert 'id="lookup"' in page.text and "/static/app.js" in page.text
    assert "https://" not in page.text  # no CDN
    js = http.get("/static/app.js")
    assert js.status_code == 200 and "/pnl/history" in js.text and "/positions" in js.text and "http" not in js.text
    for src in re.findall(r'(?:src|href)="([^"]+)"', page.text):  # every script and style the API serves itself
        assert src.startswith("/") or src == "#", src


def test_cli_registers_api_command():
    from harness.__main__ import build_parser
    from harness.cli import api as cli_api

    args = build_parser().parse_args(["api", "--port", "8123", "--test-views", "--database", "x", "--pool", "3"])
    assert (args.port, args.test_views, args.host, args.pool, args.func) == (8123, True, "127.0.0.1", 3, cli_api.cmd_api)


@pytest.mark.parametrize("size", [1, 2, 3])
def test_pool_lends_each_client_to_one_thread_at_most_size(size):
    made, busy, overlaps = [], set(), []
    guard = threading.Lock()

    def factory():
        made.append(object())
        return made[-1]

    pool = ClientPool(factory, size)

    def use() -> None:
        for _ in range(50):
            with pool.client() as c:
                with guard:
                    if id(c) in busy:
                        overlaps.append(c)
                    busy.add(id(c))
                threading.Event().wait(0.0005)
                with guard:
                    busy.discard(id(c))

    threads = [threading.Thread(target=use) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert overlaps == [] and 1 <= len(made) <= size
    with pytest.raises(ValueError, match="at least 1"):
        ClientPool(factory, 0)


@pytest.mark.parametrize("tag", ["aa", "bb", "cc", "dd"])
def test_history_ends_at_the_world_totals(http, world, tag):
    """The P&L history's last point is the wallet's realized and total P&L computed here from the rows."""
    for rng in ("1d", "all"):
        body = http.get(f"/wallets/{addr(tag)}/pnl/history", params={"range": rng}).json()
        realized, _, total = world.totals(addr(tag))
        assert (body["points"][-1]["realized"], body["points"][-1]["total"]) == (dec(realized), dec(total))
