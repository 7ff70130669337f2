"""Proxy wallets: the SafeProxyFactory's ProxyCreation decoded from its real layout, through the ingest path and
an anvil node, and the API answering an EOA with its proxy's P&L (Safe from the event; ProxyWalletFactory proxy
derived by CREATE2). Expected values are public constants or computed here, never taken from the code under test."""
from __future__ import annotations

import pytest
from eth_hash.auto import keccak
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st

from harness import ingest
from harness.chain.decode import decode_logs
from harness.chain.proxies import polymarket_proxy_address, proxy_init_code
from harness.config import contracts
from harness.ingest.sink import ingest_logs
from harness.serve import app as api
from tests.integration.test_api import World, addr, dec

SAFE_FACTORY = "0xaacfeea03eb1561c4e67d661e40682bd20e3541b"  # Polymarket/proxy-factories README (Polygon)
PROXY_FACTORY = "0xab45c5a4b0c941a2f231c04c3f49182e1a254052"
#: keccak256("ProxyCreation(address,address)"), the event of Polymarket/proxy-factories SafeProxyFactory.sol
PROXY_CREATION = "0x4f51faf6c4561ff95f067657e43439f0f856d97c04d9ec9070a6199ad418e235"
#: PROXY_INIT_CODE_HASH of Polymarket's relayer clients (builder-relayer-client constants)
PROXY_INIT_CODE_HASH = "d21df8dc65880a8606f09fe0ce3df9b8869287ab0b058be05aa9e8af6330a00b"
EOA_SAFE, EOA_PROXY, SAFE = addr("e1"), addr("e2"), addr("5afe")
TX = "0x" + "7a" * 32


def creation_log(proxy: str, owner: str, *, block: int = 5, ts: int = 1_714_521_600, index: int = 0,
                 tx: str = TX) -> dict:
    """A raw ProxyCreation log: no indexed field, data = proxy word then owner word (ABI, left-padded)."""
    data = "0x" + proxy[2:].rjust(64, "0") + owner[2:].rjust(64, "0")
    return {"address": SAFE_FACTORY, "topics": [PROXY_CREATION], "data": data, "transactionHash": tx,
            "logIndex": hex(index), "blockNumber": hex(block), "blockTimestamp": hex(ts), "removed": False}


def test_addresses_and_topic_come_from_the_config():
    c = contracts()
    assert c["safe_proxy_factory"].address == SAFE_FACTORY and c["proxy_wallet_factory"].address == PROXY_FACTORY
    assert "0x" + keccak(b"ProxyCreation(address,address)").hex() == PROXY_CREATION


def test_decode_real_layout():
    got = decode_logs([creation_log(SAFE, EOA_SAFE)]).as_dicts("wallet_proxies")
    assert got == [{"tx_hash": TX, "log_index": 0, "block_number": 5, "block_time": 1_714_521_600,
                    "factory": SAFE_FACTORY, "kind": "safe", "owner": EOA_SAFE, "proxy": SAFE,
                    "_version": 0, "_deleted": 0}]


def test_decode_refuses_a_word_that_is_no_address():
    bad = creation_log(SAFE, EOA_SAFE)
    bad["data"] = "0x" + "ff" * 32 + bad["data"][66:]
    with pytest.raises(ValueError, match="not addresses"):
        decode_logs([bad])


def test_proxy_wallet_factory_init_code_hash_is_polymarkets():
    impl = "0x44e999d5c2f66ef0861317f9a4805ac2e90aeb4f"
    assert keccak(proxy_init_code(PROXY_FACTORY, impl)).hex() == PROXY_INIT_CODE_HASH


def test_derivation_equals_the_subgraph_test_vector():
    """polymarket-subgraph tests/computeProxyWalletAddress.test.ts: signer, factory, implementation -> wallet."""
    got = polymarket_proxy_address("0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266",
                                   "0xEcA1c266193F03d28517a500007738adfb7754d8",
                                   "0x7d5330Fe12E75B5B775036cC1ba39EE546bD3850")
    assert got == "0x03cacd9b90edf7e440227faea044e566247a8635"


@given(st.binary(min_size=20, max_size=20))
def test_derivation_is_create2_of_keccak_owner(owner):
    """EIP-1014 written out here: keccak(0xff ++ factory ++ keccak(owner) ++ PROXY_INIT_CODE_HASH)[12:]."""
    o = "0x" + owner.hex()
    want = keccak(b"\xff" + bytes.fromhex(PROXY_FACTORY[2:]) + keccak(owner) + bytes.fromhex(PROXY_INIT_CODE_HASH))
    assert polymarket_proxy_address(o) == "0x" + want[12:].hex()
    assert polymarket_proxy_address(o.upper().replace("0X", "0x")) == "0x" + want[12:].hex()


# ---------------------------------------------------------------- the API: EOA -> proxy


def proxy_world() -> World:
    c = {k: "0x" + k * 64 for k in "67"}
    derived = polymarket_proxy_address(EOA_PROXY)
    return World(resolved={c["6"]: ((1, 0), 1_714_600_000)}, prices={c["7"]: (250_000, 750_000)},
                 holdings={SAFE: {c["6"]: ((10_000_000, 0), -4_000_000), c["7"]: ((0, 2_000_000), -1_000_000)},
                           derived: {c["6"]: ((0, 3_000_000), -1_500_000)},
                           addr("0a"): {c["6"]: ((1_000_000, 0), -100_000)}})


@pytest.fixture(scope="module")
def proxy_db(module_db):
    from harness.pnl.build import create_views

    client = module_db()
    create_views(client)
    world = proxy_world()
    world.insert(client)
    ingest_logs(client, [creation_log(SAFE, EOA_SAFE)], source="test")  # the normal decode + insert path
    return client, world


@pytest.fixture(scope="module")
def http(proxy_db):
    with TestClient(api.create_app(lambda: proxy_db[0])) as client:
        yield client


@pytest.mark.parametrize("eoa,kind", [(EOA_SAFE, "safe"), (EOA_PROXY, "proxy")])
def test_eoa_answers_with_its_proxy(http, proxy_db, eoa, kind):
    world = proxy_db[1]
    proxy = SAFE if kind == "safe" else polymarket_proxy_address(eoa)
    body = http.get(f"/wallets/{eoa.upper().replace('0X', '0x')}/pnl").json()
    assert body["wallet"] == proxy
    assert body["resolved_from"]["owner"] == eoa and body["resolved_from"]["proxy"] == proxy
    assert body["resolved_from"]["kind"] == kind
    realized, unrealized, total = world.totals(proxy)
    assert (body["realized"], body["unrealized"], body["total"]) == (dec(realized), dec(unrealized), dec(total))
    pos = http.get(f"/wallets/{eoa}/positions").json()
    assert pos["wallet"] == proxy and pos["resolved_from"]["kind"] == kind
    assert {(p["condition_id"], p["outcome_index"]) for p in pos["positions"]} == {
        (cid, i) for cid, (sh, _) in world.holdings[proxy].items() for i, s in enumerate(sh) if s}
    tl = http.get(f"/wallets/{eoa}/timeline").json()
    assert tl["wallet"] == proxy and tl["resolved_from"]["proxy"] == proxy
    assert tl["points"][-1]["cumulative"] == dec(total)


def test_own_rows_are_not_redirected(http):
    body = http.get(f"/wallets/{SAFE}/pnl").json()
    assert body["wallet"] == SAFE and body["resolved_from"] is None
    assert http.get(f"/wallets/{addr('0a')}/pnl").json()["resolved_from"] is None


def test_unknown_eoa_is_still_404(http):
    for path in ("pnl", "positions", "timeline"):
        r = http.get(f"/wallets/{addr('e9')}/{path}")
        assert r.status_code == 404 and r.json()["error"] == "wallet_not_found"


# ---------------------------------------------------------------- anvil: the event through a node


@pytest.mark.anvil
def test_anvil_round_trip(anvil_bin, new_db):
    """ProxyCreation emitted at the factory's real address on anvil, fetched by the RPC backfill, decoded."""
    from harness.chain.node import Anvil

    logs = [creation_log(SAFE, EOA_SAFE, block=1, ts=1_714_521_600),
            creation_log(addr("5b"), addr("e3"), block=2, ts=1_714_521_602, tx="0x" + "7b" * 32)]
    with Anvil.start(binary=anvil_bin, timestamp=1_714_521_600 - 3600) as node:
        rep = node.replay(logs)
        db = new_db()
        ingest.backfill(db, node.url, 0, rep.last_block, confirmations=0)
    got = db.query("SELECT owner, proxy, kind, factory, toUnixTimestamp(block_time) FROM wallet_proxies FINAL "
                   "ORDER BY block_number").result_rows
    assert [tuple(r) for r in got] == [(EOA_SAFE, SAFE, "safe", SAFE_FACTORY, 1_714_521_600),
                                       (addr("e3"), addr("5b"), "safe", SAFE_FACTORY, 1_714_521_602)]


def test_cli_pnl_answers_an_eoa_with_its_proxy(proxy_db, warehouse_settings, capsys):
    """`harness pnl EOA` prints the proxy's totals (computed here from the rows) and names the link."""
    from harness.cli import main
    from tests.support.target import warehouse_args

    client, world = proxy_db
    db = client.query("SELECT currentDatabase()").result_rows[0][0]
    base = ["pnl", *warehouse_args(warehouse_settings, db)]
    assert main([*base, EOA_SAFE]) == 0
    out = capsys.readouterr().out
    r, u, t = world.totals(SAFE)
    assert out.startswith(f"{SAFE}: realized {r / 1e6:,.6f} unrealized {u / 1e6:,.6f} total {t / 1e6:,.6f}")
    assert f"proxy wallet of {EOA_SAFE}: safe" in out
    assert main([*base, addr("e9")]) == 1
    assert "no P&L rows for wallet" in capsys.readouterr().out


# ---------------------------------------------------------------- the simulated world's proxies


def test_world_owners_answer_with_their_proxies(module_db):
    """The committed world (fixtures/world) has Safes (ProxyCreation) and ProxyWalletFactory proxies (CREATE2):
    after the normal ingest and build, each owner's lookup is its proxy's ledger truth (truth.json)."""
    import json

    from harness.config import PROJECT_ROOT
    from harness.pnl.build import create_views, rebuild

    world = PROJECT_ROOT / "fixtures" / "world"
    meta = json.loads((world / "world.json").read_text())
    truth = json.loads((world / "truth.json").read_text())["wallets"]
    owners = meta["proxies"]
    assert {v["kind"] for v in owners.values()} == {"safe", "proxy"}
    db = module_db()
    ingest.ingest_world(db, world)
    rebuild(db)
    create_views(db)
    safes = {(o, v["proxy"]) for o, v in owners.items() if v["kind"] == "safe"}
    assert set(db.query("SELECT owner, proxy FROM wallet_proxies FINAL").result_rows) == safes
    for o, v in owners.items():
        if v["kind"] == "proxy":
            assert polymarket_proxy_address(o) == v["proxy"]
    with TestClient(api.create_app(lambda: db)) as client:
        for o, v in owners.items():
            body = client.get(f"/wallets/{o}/pnl").json()
            assert body["wallet"] == v["proxy"] and body["resolved_from"]["kind"] == v["kind"], o
            assert body["total"] == dec(truth[v["proxy"]]["total"])


def test_csv_of_an_eoa_is_its_proxys(http, proxy_db):
    import csv
    import io
    from decimal import Decimal

    r = http.get(f"/wallets/{EOA_SAFE}/pnl.csv")
    assert r.status_code == 200 and r.headers["x-resolved-from"] == EOA_SAFE
    assert r.headers["content-disposition"] == f'attachment; filename="pnl-{SAFE}.csv"'
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert {x["wallet"] for x in rows} == {SAFE}
    assert sum(Decimal(x["pnl_usd"]) for x in rows) == Decimal(dec(proxy_db[1].totals(SAFE)[2]))
    assert http.get(f"/wallets/{addr('e9')}/pnl.csv").status_code == 404


# ---------------------------------------------------------------- issue 21: proxy corner cases

EOA_BOTH, SAFE_OF_BOTH = addr("e3"), addr("5a01")  # an EOA that trades itself and also owns a Safe with rows
EOA_TWO, SAFE_EMPTY, SAFE_LATER = addr("e4"), addr("5b01"), addr("5b02")  # two Safes, the older without rows
CONTRACT, SAFE_OF_CONTRACT = addr("c0c0"), addr("5c01")  # a Safe whose owner is a contract (a smart wallet)


@pytest.fixture(scope="module")
def corner_http(module_db):
    from harness.pnl.build import create_views

    client = module_db()
    create_views(client)
    c = {k: "0x" + k * 64 for k in "67"}
    world = World(resolved={c["6"]: ((1, 0), 1_714_600_000)}, prices={c["7"]: (250_000, 750_000)},
                  holdings={EOA_BOTH: {c["6"]: ((2_000_000, 0), -500_000)},
                            SAFE_OF_BOTH: {c["7"]: ((0, 1_000_000), -200_000)},
                            SAFE_LATER: {c["6"]: ((1_000_000, 0), -300_000)},
                            SAFE_OF_CONTRACT: {c["7"]: ((4_000_000, 0), -1_000_000)}})
    world.insert(client)
    ingest_logs(client, [creation_log(SAFE_OF_BOTH, EOA_BOTH, block=5, tx="0x" + "71" * 32),
                         creation_log(SAFE_EMPTY, EOA_TWO, block=6, tx="0x" + "72" * 32),
                         creation_log(SAFE_LATER, EOA_TWO, block=7, tx="0x" + "73" * 32),
                         creation_log(SAFE_OF_CONTRACT, CONTRACT, block=8, tx="0x" + "74" * 32)], source="test")
    with TestClient(api.create_app(lambda: client)) as http:
        yield http, world


def test_an_eoa_with_rows_of_its_own_answers_for_itself_not_its_proxy(corner_http):
    """Both an EOA with rows and a proxy owner: its own rows answer (never a sum, never silently the proxy's);
    the proxy, asked by its own address, answers its own."""
    http, world = corner_http
    body = http.get(f"/wallets/{EOA_BOTH}/pnl").json()
    assert body["wallet"] == EOA_BOTH and body["resolved_from"] is None
    assert body["total"] == dec(world.totals(EOA_BOTH)[2])
    safe = http.get(f"/wallets/{SAFE_OF_BOTH}/pnl").json()
    assert safe["wallet"] == SAFE_OF_BOTH and safe["resolved_from"] is None
    assert safe["total"] == dec(world.totals(SAFE_OF_BOTH)[2])


def test_an_owner_of_two_safes_answers_with_the_first_that_has_rows(corner_http):
    http, world = corner_http
    body = http.get(f"/wallets/{EOA_TWO}/pnl").json()
    assert body["wallet"] == SAFE_LATER and body["resolved_from"] == {
        "owner": EOA_TWO, "proxy": SAFE_LATER, "kind": "safe", "source": "ProxyCreation event"}
    assert body["total"] == dec(world.totals(SAFE_LATER)[2])


def test_a_proxy_owned_by_a_contract_answers_for_that_contract(corner_http):
    """A smart-contract wallet owning a Safe is an owner like any other: the chain says so, not the code hash."""
    http, world = corner_http
    body = http.get(f"/wallets/{CONTRACT}/pnl").json()
    assert body["wallet"] == SAFE_OF_CONTRACT and body["resolved_from"]["owner"] == CONTRACT
    assert body["total"] == dec(world.totals(SAFE_OF_CONTRACT)[2])
    assert http.get(f"/wallets/{SAFE_OF_CONTRACT}/pnl").json()["resolved_from"] is None
