"""check-wallet (issue 25) against Polymarket's own /positions: the real answer parses, and a loopback data API
serving it, beside a chain made to hold those two positions, gives a per-position comparison.

The whole-world checks (every wallet of the 300-wallet chain-world equal to the warehouse and to contract-state
truth, an EOA answered with its proxy, a node refusing wide ranges) live in test_chain_world.py, on its world."""
from __future__ import annotations

import json
import subprocess
import sys
import threading
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import pytest

from harness.chain.encode import encode_log
from harness.chain.events import BY_KEY
from harness.chain.node import Anvil
from harness.chain.tokens import collateral_for, collection_id, position_id
from harness.config import PROJECT_ROOT, contracts
from harness.gates.checkwallet import CheckWalletError
from harness.gates.checkwallet.fetch import wallet_filters
from harness.gates.checkwallet.positions import load_positions, parse_positions

REAL = PROJECT_ROOT / "fixtures" / "real" / "data_api_positions_xcnstrategy.json"
XCN = "0xcce2b7c71f21e358b8e5e797e586cbc03160d58b"


def test_real_positions_parse_to_exact_micro_units():
    pos = load_positions(REAL)
    assert [p.proxy_wallet for p in pos] == [XCN, XCN]
    xi, infl = pos
    assert (xi.size, xi.avg_price, xi.realized_pnl, xi.cur_price) == (69_982_788_569, 906_546, -41_784_348, 977_500)
    assert (infl.size, infl.avg_price, infl.cur_price, infl.redeemable) == (33_894_328_603, 29_080, 0, True)
    # the API's own identities hold on the parsed values (to rounding): initialValue = size x avgPrice
    for p in pos:
        assert abs(p.size * p.avg_price // 10**6 - p.initial_value) <= 1
        assert abs(p.current_value - p.initial_value - p.cash_pnl) <= 1
    # each asset is the position id of its condition's outcome: USDC.e collateral, or wcol for the negRisk one
    raw = json.loads(REAL.read_text())
    for p, r in zip(pos, raw):
        assert p.asset == position_id(collateral_for(r["negativeRisk"]), collection_id(p.condition_id,
                                                                                       1 << r["outcomeIndex"]))


def test_bad_positions_name_the_file_and_row(tmp_path):
    rows = json.loads(REAL.read_text())
    rows[1]["size"] = "lots"
    bad = tmp_path / "p.json"
    bad.write_text(json.dumps(rows))
    with pytest.raises(CheckWalletError, match=r"p\.json: position #1: size: 'lots' is not a number"):
        load_positions(bad)
    del rows[1]["size"]
    with pytest.raises(CheckWalletError, match="position #1: missing size"):
        parse_positions(rows, "api")
    with pytest.raises(CheckWalletError, match="expected a JSON array"):
        parse_positions({"error": "x"}, "api")


def test_wallet_filters_put_the_wallet_at_each_events_indexed_field():
    """Each filter's wallet position is the topic of a wallet-naming indexed field of every event it asks for."""
    who = {"from", "to", "stakeholder", "redeemer", "maker", "taker", "buyer", "seller", "funder"}
    by_topic0 = {e.topic0: e for e in BY_KEY.values()}
    w = "0x" + "ab" * 20
    for step, _addresses, topics in wallet_filters([w]):
        pos = next(i for i, t in enumerate(topics) if t and t[0].endswith("ab" * 20))
        for t0 in topics[0]:
            e = by_topic0[t0]
            assert e.indexed[pos - 1].name in who and e.indexed[pos - 1].type == "address", (step, e.key)


# ---- a chain holding xcnstrategy's two positions -------------------------------------------------------------------

XI = "0xf2ce8d3897ac5009a131637d3575f1f91c579bd08eecce6ae2b2da0f32bbe6f1"
OWNER = "0x" + "e0a" * 13 + "e"  # the EOA that signs for XCN's Safe in this chain
OWNER2 = "0x" + "0b2" * 13 + "0"  # an EOA whose Safe (at its CREATE2 address, no ProxyCreation here) trades once
INFL = "0x93ae0bd274982c8c08581bc3ef1fa143e1294a6326d2a2eec345515a2cb15620"


def _xcn_logs() -> list[dict]:
    """Chain-ordered logs that leave XCN (a Safe of OWNER) with the two positions of the real answer: buy 71,036.538569 No of "Xi
    Jinping out in 2025?" at 0.906546, sell 1,053.75 at 0.866893 (realized -41.78), someone else buys at 0.9775
    (the mark; before it, OWNER2's Safe buys 10 at 0.50); buy 33,894.328603 Yes of the negRisk inflation question at 0.02908, which resolves No."""
    c = contracts()
    ex, nrex, adapter = c["ctf_exchange"].address, c["neg_risk_exchange"].address, c["neg_risk_adapter"].address
    uma, other = "0x" + "15" * 20, "0x" + "77" * 20
    tok_no = position_id(collateral_for(False), collection_id(XI, 2))
    tok_yes = position_id(collateral_for(True), collection_id(INFL, 1))
    out: list[dict] = []
    block, t0 = [100], 1_759_300_000

    def tx(*events):
        txh = "0x" + format(len(out) + 1, "064x")
        for i, ((where, key), args) in enumerate(events):
            addr = {"ctf": c["ctf"].address, "ex": ex, "nrex": nrex, "safe": c["safe_proxy_factory"].address}[where]
            out.append(encode_log(key, args, tx_hash=txh, log_index=i, block_number=block[0],
                                  block_time=t0 + block[0] * 2, address=addr))
        block[0] += 1

    def fill(exch, maker, token, shares, usdc, buy):
        """One V1 fill credited to ``maker`` and its share delivery (from / to the exchange)."""
        where = {"ex": ex, "nrex": nrex}[exch]
        order = "0x" + format(len(out) + 7, "064x")
        amounts = ({"makerAssetId": 0, "takerAssetId": token, "makerAmountFilled": usdc, "takerAmountFilled": shares}
                   if buy else
                   {"makerAssetId": token, "takerAssetId": 0, "makerAmountFilled": shares, "takerAmountFilled": usdc})
        frm, to = (where, maker) if buy else (maker, where)
        tx((("ctf", "ctf.TransferSingle"), {"operator": where, "from": frm, "to": to, "id": token, "value": shares}),
           ((exch, "exchange.OrderFilled"), {"orderHash": order, "maker": maker, "taker": where, "fee": 0,
                                             **amounts}))

    tx((("safe", "safe_factory.ProxyCreation"), {"proxy": XCN, "owner": OWNER}),)
    tx((("ctf", "ctf.ConditionPreparation"), {"conditionId": XI, "oracle": uma, "questionId": "0x" + "01" * 32,
                                              "outcomeSlotCount": 2}),
       (("ctf", "ctf.ConditionPreparation"), {"conditionId": INFL, "oracle": adapter,
                                              "questionId": "0x" + "02" * 32, "outcomeSlotCount": 2}))
    fill("ex", XCN, tok_no, 71_036_538_569, -(-71_036_538_569 * 906_546 // 10**6), True)
    fill("ex", XCN, tok_no, 1_053_750_000, 1_053_750_000 * 866_893 // 10**6, False)
    from harness.chain.proxies import polymarket_safe_address

    fill("ex", polymarket_safe_address(OWNER2), tok_no, 10_000_000, 5_000_000, True)
    fill("ex", other, tok_no, 1_000_000, 977_500, True)
    fill("nrex", XCN, tok_yes, 33_894_328_603, -(-33_894_328_603 * 29_080 // 10**6), True)
    tx((("ctf", "ctf.ConditionResolution"), {"conditionId": INFL, "oracle": adapter, "questionId": "0x" + "02" * 32,
                                             "outcomeSlotCount": 2, "payoutNumerators": [0, 1]}),)
    return out


class _DataApi:
    """A loopback stand-in for data-api.polymarket.com: GET /positions?user=&limit=&offset= from a saved answer."""

    def __init__(self, rows: list[dict]) -> None:
        api = self
        self.rows, self.asked = rows, []

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                return None

            def do_GET(self) -> None:
                u = urlparse(self.path)
                q = {k: v[0] for k, v in parse_qs(u.query).items()}
                api.asked.append((u.path, q))
                if u.path != "/positions":
                    self.send_error(404)
                    return
                mine = [r for r in api.rows if r["proxyWallet"] == q.get("user", "").lower()]
                off, lim = int(q.get("offset", 0)), int(q.get("limit", 100))
                body = json.dumps(mine[off:off + lim]).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def xcn_chain(anvil_bin):
    """anvil with the logs of _xcn_logs replayed at the real contract addresses."""
    logs = _xcn_logs()
    node = Anvil.start(binary=anvil_bin, timestamp=int(logs[0]["blockTimestamp"], 16) - 3600)
    try:
        node.replay(logs)
        yield node
    finally:
        node.stop()


def _check(node, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "harness", "check-wallet", XCN, "--rpc-url", node.url, *extra],
                          cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300, check=False)


@pytest.mark.anvil
def test_loopback_data_api_gives_a_per_position_comparison(xcn_chain):
    api = _DataApi(json.loads(REAL.read_text()))
    try:
        run = _check(xcn_chain, "--data-api", api.url, "--json")
    finally:
        api.close()
    assert run.returncode == 0, (run.stdout[-3000:], run.stderr[-2000:])
    assert api.asked and api.asked[0][1]["user"] == XCN
    doc = json.loads(run.stdout)
    assert doc["proxy"] == XCN and doc["within_tolerance"] is True
    got = {p["condition_id"]: p for p in doc["positions"]}
    assert set(got) == {XI, INFL} and all(p["ok"] for p in got.values())
    # ours beside theirs, per position: size exact, average price and P&L within a cent of the API's figures
    assert got[XI]["ours"]["size"] == got[XI]["polymarket"]["size"] == "69982.788569"
    assert got[INFL]["ours"]["size"] == "33894.328603"
    assert abs(Decimal(got[XI]["ours"]["pnl"]) - Decimal("4965.558780") - Decimal("-41.784348")) < Decimal("0.01")
    # the lost negRisk position: the API's cashPnl (-985.6470757752401, a float) to the micro-dollar
    assert abs(Decimal(got[INFL]["ours"]["pnl"]) - Decimal("-985.6470757752401")) < Decimal("0.000001")
    markets = {m["condition_id"]: m for m in doc["markets"]}
    assert markets[XI]["status"] == "open" and markets[INFL]["status"] == "resolved"
    assert len(markets[XI]["polymarket"]) == 1


@pytest.mark.anvil
def test_a_position_off_by_more_than_the_tolerance_fails_and_is_explained(xcn_chain, tmp_path):
    rows = json.loads(REAL.read_text())
    rows[0]["size"] = 60000.0  # Polymarket says fewer shares than the wallet's logs hold
    saved = tmp_path / "positions.json"
    saved.write_text(json.dumps(rows))
    run = _check(xcn_chain, "--positions", str(saved), "--tolerance", "1")
    assert run.returncode == 1, (run.stdout[-3000:], run.stderr[-2000:])
    assert "size: ours 69982.788569 vs Polymarket 60000.000000" in run.stdout
    assert "why (cash-flow vs average-cost):" in run.stdout
    assert "1 of 2 Polymarket positions differ by more than 1%" in run.stderr
    assert "Polymarket positions: 2 compared, 1 outside tolerance" in run.stdout
    assert "logs fetched:" in run.stdout


def _validate_case(settings, client, rpc_url: str, wallet) -> dict:
    """The validate stage's wallet check (tests/stages/conftest.run_wallet_case, as test_4_validate calls it with
    --rpc-url) on ``client``; its gate detail."""
    from types import SimpleNamespace

    from tests.stages.conftest import WalletCase, run_wallet_case

    p = SimpleNamespace(client=client, settings=settings, world=None, rpc_url=rpc_url)
    req = SimpleNamespace(node=SimpleNamespace())
    run_wallet_case(req, p, WalletCase(wallet, True), suffix="_validate", check_wallet=True)
    return json.loads(req.node.gate_detail)


@pytest.mark.anvil
def test_validate_stage_checks_wallets_without_rows_from_their_logs(xcn_chain, new_db, warehouse_settings, tmp_path):
    """A warehouse that never ingested this chain: the validate stage computes the wallets.yaml wallets from their
    own logs (path check-wallet), the EOA through its Safe, the proxy also position by position against the real
    /positions answer; the target is Polymarket's own average-cost total of those two positions (3,938.13).
    The same wallet once the warehouse holds it takes the warehouse path, still compared per position."""
    from harness.gates.wallets import load_wallets
    from harness.ingest import backfill
    from harness.pnl.build import create_views, rebuild

    f = tmp_path / "wallets.yaml"
    f.write_text(f"""wallets:
  - {{name: xcn, address: "{XCN}", target_usd: "3938.13", tolerance_pct: 0.01, metric: ui_total, source: t,
      level: must, positions: "{REAL}"}}
  - {{name: owner, address: "{OWNER}", target_usd: "3938.13", tolerance_pct: 0.01, metric: ui_total, source: t,
      level: must}}
""")
    xcn, owner = load_wallets(f)
    empty = new_db()
    create_views(empty, suffix="_validate")
    d = _validate_case(warehouse_settings, empty, xcn_chain.url, xcn)
    assert (d["path"], d["proxy"], d["summary"].endswith("-> passed")) == ("check-wallet", XCN, True), d
    assert [p["ok"] for p in d["positions"]] == [True, True] and d["logs_fetched"] > 0
    assert d["summary"].startswith("[check-wallet: ")
    d = _validate_case(warehouse_settings, empty, xcn_chain.url, owner)
    assert (d["path"], d["proxy"], d["summary"].endswith("-> passed")) == ("check-wallet", XCN, True), d
    full = new_db()
    backfill(full, xcn_chain.url, 0, xcn_chain.block_number(), confirmations=0, progress=False)
    rebuild(full)
    create_views(full, suffix="_validate")
    d = _validate_case(warehouse_settings, full, xcn_chain.url, xcn)
    assert (d["path"], d["positions"], d["summary"].endswith("-> passed")) == ("warehouse", [True, True], True), d
    rows = json.loads(REAL.read_text())
    rows[1]["avgPrice"] = 0.05
    (tmp_path / "bad.json").write_text(json.dumps(rows))
    from dataclasses import replace

    with pytest.raises(pytest.fail.Exception, match="1 of 2 Polymarket positions differ"):
        _validate_case(warehouse_settings, full, xcn_chain.url, replace(xcn, positions=str(tmp_path / "bad.json")))


@pytest.mark.anvil
def test_legacy_amm_wallets_equal_contract_state_truth(anvil_bin, new_db, tmp_path):
    """The 300-wallet world has no FPMM: a small chain-world with two legacy AMM markets (FPMM trades and
    funding, whose creations check-wallet reads from the factory) checked wallet by wallet against the balances'
    truth (about 17 s at load 20: the world is played as transactions)."""
    from harness.chain.contracts.artefacts import available
    from harness.gates.checkwallet.scratch import check_wallets
    from harness.worlds.chain_world import play, start_node, write
    from harness.worlds.model import WorldParams

    why = available()
    if why:
        pytest.skip(why)
    params = WorldParams(seed=6, wallets=20, markets=3, fills=60, fpmm_markets=2)
    with start_node(params) as node:
        world = play(params, node)
        write(world, tmp_path)
        figs = check_wallets(new_db(), node.url, sorted(world.truth), from_block=world.first_block,
                             to_block=world.last_block, prices=tmp_path / "prices.csv", explain=False)
    assert figs[0].fetch.steps.get("FPMM trades and funding", 0) > 0 and figs[0].fetch.steps["FPMM creations"] > 0
    assert {f.wallet: f.total for f in figs} == {w: t.total for w, t in world.truth.items()}


@pytest.mark.anvil
def test_an_eoa_resolves_to_its_derived_safe_without_reading_proxy_creations(xcn_chain, new_db):
    """OWNER2 signs for a Safe at PolySafeLib's CREATE2 address and this chain has no ProxyCreation for it: the
    derived Safe answers (10 No shares bought at 0.50, marked at the last fill, 0.9775)."""
    from harness.chain.proxies import polymarket_safe_address
    from harness.gates.checkwallet.scratch import check_wallet

    fig = check_wallet(new_db(), xcn_chain.url, OWNER2, safe_scan=False, explain=False)
    assert (fig.proxy, fig.link.kind, fig.link.source) == (
        polymarket_safe_address(OWNER2), "safe", "CREATE2 derivation (SafeProxyFactory)")
    assert (fig.total, fig.unrealized, fig.ui_total) == (4_775_000, 4_775_000, 4_775_000)
    assert "ProxyCreation (owner -> Safe)" not in fig.fetch.steps
