"""The fast decoder on real logs, on malformed and unknown logs, and against the warehouse DDL."""
from __future__ import annotations

import json

import pytest

from harness.chain.decode import COLUMNS, DecodeError, decode_logs
from harness.chain.encode import encode_log
from harness.chain.events import EVENTS, address_of, topic0_of
from harness.config import PROJECT_ROOT, contracts

TX = "0x" + "cd" * 32
FILL = {"orderHash": "0x" + "11" * 32, "maker": "0x" + "22" * 20, "taker": "0x" + "33" * 20, "makerAssetId": 0,
            "takerAssetId": 5, "makerAmountFilled": 400_000, "takerAmountFilled": 1_000_000, "fee": 3}

# Constants from the domain notes (../shared/domain/polymarket.md), written out here so a signature typo in the
# code cannot make the check agree with itself.
DOCUMENTED_TOPICS = {
    "ctf.TransferSingle": "0xc3d58168c5ae7397731d063d5bbf3d657854427343f4c083240f7aacaa2d0f62",
    "ctf.TransferBatch": "0x4a39dc06d4c0dbc64b70af90fd698a233a518aa5d07e595d983b8c0526c8f7fb",
    "ctf.ConditionPreparation": "0xab3760c3bd2bb38b5bcf54dc79802ed67338b4cf29f3054ded67ed24661e4177",
    "ctf.ConditionResolution": "0xb44d84d3289691f71497564b85d4233648d9dbae8cbdbb4329f301c3a0185894",
    "ctf.PositionSplit": "0x2e6bb91f8cbcda0c93623c54d0403a43514fabc40084ec96b6d5379a74786298",
    "ctf.PositionsMerge": "0x6f13ca62553fcc2bcd2372180a43949c1e4cebba603901ede2f4e14f36b282ca",
    "ctf.PayoutRedemption": "0x2682012a4a4f1973119f1c9b90745d1bd91fa2bab387344f044cb3586864d18d",
    "exchange.OrderFilled": "0xd0a08e8c493f9c94f29311604c9de1b4e8c8d4c06bd0c789af57f2d65bfec0f6",
    "exchange.OrdersMatched": "0x63bf4d16b7fa898ef4c4b2b6d90fd201e9c56313b65638af6088d149d2ce956c",
    "exchange.FeeCharged": "0xacffcc86834d0f1a64b0d5a675798deed6ff0bcfc2231edd3480e7288dba7ff4",
    "exchange_v2.OrderFilled": "0xd543adfd945773f1a62f74f0ee55a5e3b9b1a28262980ba90b1a89f2ea84d8ee",
    "adapter.PositionSplit": "0xbbed930dbfb7907ae2d60ddf78345610214f26419a0128df39b6cc3d9e5df9b0",
    "adapter.PositionsMerge": "0xba33ac50d8894676597e6e35dc09cff59854708b642cd069d21eb9c7ca072a04",
    "adapter.PositionsConverted": "0xb03d19dddbc72a87e735ff0ea3b57bef133ebe44e1894284916a84044deb367e",
    "adapter.PayoutRedemption": "0x9140a6a270ef945260c03894b3c6b3b2695e9d5101feef0ff24fec960cfd3224",
    "adapter.QuestionPrepared": "0xaac410f87d423a922a7b226ac68f0c2eaf5bf6d15e644ac0758c7f96e2c253f7",
    # Polymarket/exchange-fee-module and its published Go bindings (FilterFeeRefunded)
    "fee_module.FeeRefunded": "0xb608d2bf25d8b4b744ba23ce2ea9802ea955e216c064a62f42152fbf98958d24",
    # keccak256("ProxyCreation(address,address)"): Polymarket/proxy-factories SafeProxyFactory.sol, and the
    # polymarket-subgraph wallet-subgraph's handler `event: ProxyCreation(address,address)` (nothing indexed)
    "safe_factory.ProxyCreation": "0x4f51faf6c4561ff95f067657e43439f0f856d97c04d9ec9070a6199ad418e235",
    # the legacy AMM: the same constants as public Polygon log queries of FPMM trades (Dune / Goldsky filters)
    "fpmm_factory.FixedProductMarketMakerCreation":
        "0x92e0912d3d7f3192cad5c7ae3b47fb97f9c465c1dd12a5c24fd901ddb3905f43",
    "fpmm.FPMMBuy": "0x4f62630f51608fc8a7603a9391a5101e58bd7c276139366fc107dc3b67c3dcf8",
    "fpmm.FPMMSell": "0xadcf2a240ed9300d681d9a3f5382b6c1beed1b7e46643e0c7b42cbe6e2d766b4",
    "fpmm.FPMMFundingAdded": "0xec2dc3e5a3bb9aa0a1deb905d2bd23640d07f107e6ceb484024501aad964a951",
    "fpmm.FPMMFundingRemoved": "0x8b4b2c8ebd04c47fc8bce136a85df9b93fcb1f47c8aa296457d4391519d190e7",
}


def test_topic0_computed_equals_documented_constants():
    assert {e.key: topic0_of(e.signature) for e in EVENTS} == DOCUMENTED_TOPICS
    assert {e.key: e.topic0 for e in EVENTS} == DOCUMENTED_TOPICS


def _fill(**kw):
    return encode_log("exchange.OrderFilled", FILL, tx_hash=TX, log_index=9, block_number=500, block_time=1_700_000_000,
                      **kw)


def test_real_split_logs_decode_to_the_published_values():
    real = PROJECT_ROOT / "fixtures" / "real"  # public chain logs, committed (fixtures/real/README.md)
    logs = json.loads((real / "erc1155_split_logs.json").read_text())
    expected = {}
    for line in (real / "erc1155_split_logs.decoded.txt").read_text().splitlines():
        name, _, js = line.partition(" ")
        expected[name] = json.loads(js)
    got = decode_logs(logs.values(), block_times={89141689: 1_753_000_000})
    assert got.count == 2 and not got.unknown
    rows = {(r["log_index"], r["sub_index"]): r for r in got.as_dicts("erc1155_transfers")}
    for name, exp in expected.items():
        li = int(logs[name]["logIndex"], 16)
        ids = exp.get("ids", [exp.get("id")])
        values = exp.get("values", [exp.get("value")])
        for i, (tid, val) in enumerate(zip(ids, values)):
            r = rows.pop((li, i))
            assert (r["tx_hash"], r["block_number"], r["operator"], r["from_addr"], r["to_addr"], r["token_id"],
                    r["value"]) == (exp["tx"], exp["block"], exp["operator"], exp["frm"], exp["to"], tid, val)
            assert r["block_time"] == 1_753_000_000
    assert rows == {}


def test_unknown_topic_and_unknown_contract_are_counted_not_dropped():
    stray = _fill()
    stray["topics"] = ["0x" + "ee" * 32] + stray["topics"][1:]
    other = _fill(address="0x" + "99" * 20)
    got = decode_logs([stray, other, _fill()])
    ex = contracts()["ctf_exchange"].address
    assert got.count == 3
    assert got.unknown == {(ex, "0x" + "ee" * 32): 1, ("0x" + "99" * 20, DOCUMENTED_TOPICS["exchange.OrderFilled"]): 1}
    assert len(got.rows["trades_raw"]) == 1


def test_upper_case_hex_is_normalised():
    lg = _fill()
    lg = {**lg, "address": lg["address"].upper().replace("0X", "0x"), "transactionHash": TX.upper().replace("0X", "0x"),
          "topics": [t.upper().replace("0X", "0x") for t in lg["topics"]]}
    (row,) = decode_logs([lg]).as_dicts("trades_raw")
    assert row["tx_hash"] == TX and row["wallet"] == FILL["maker"] and row["order_hash"] == FILL["orderHash"]
    assert row["exchange"] == contracts()["ctf_exchange"].address


@pytest.mark.parametrize("mutate, why", [
    (lambda lg: lg.update(data=lg["data"][:-64]), "bytes, expected"),
    (lambda lg: lg.update(data=lg["data"][:-1]), "bytes, expected"),
    (lambda lg: lg.update(topics=lg["topics"][:2]), "expected 4 topics"),
    (lambda lg: lg.update(topics=[]), "no topics"),
    (lambda lg: lg.pop("topics"), "KeyError"),
    (lambda lg: lg.update(data=lg["data"][:-2] + "_1"), "data is not"),
    (lambda lg: lg.update(data=lg["data"][:-2] + " 1"), "bad hex"),
    (lambda lg: lg.update(data=lg["data"][:-1] + " "), "data is not"),
    (lambda lg: lg.update(data=lg["data"][:-2] + "g1"), "bad hex"),
    (lambda lg: lg.update(topics=lg["topics"][:2] + ["0x" + "zz" * 32, lg["topics"][3]]), "bad hex"),
    (lambda lg: lg.update(blockNumber="0xnothex"), "bad hex"),
    (lambda lg: lg.update(topics=lg["topics"][:3] + [lg["topics"][3][:-2]]), "not 0x + 32 bytes"),
    (lambda lg: lg.pop("blockTimestamp"), "no block time"),
])
def test_malformed_log_names_tx_and_log_index(mutate, why):
    lg = _fill()
    mutate(lg)
    with pytest.raises(DecodeError) as info:
        decode_logs([_fill(), lg])
    msg = str(info.value)
    assert TX in msg and "log index 9" in msg and why in msg
    assert info.value.tx_hash == TX and info.value.log_index == 9


def test_malformed_array_offsets_are_caught():
    lg = encode_log("ctf.TransferBatch", dict(operator="0x" + "01" * 20, **{"from": "0x" + "00" * 20},
                                              to="0x" + "02" * 20, ids=[1, 2], values=[3, 4]),
                    tx_hash=TX, log_index=4, block_number=1, block_time=1)
    bad = dict(lg, data=lg["data"][:2] + format(10**6, "064x") + lg["data"][66:])
    with pytest.raises(DecodeError, match="log index 4.*array offset"):
        decode_logs([bad])
    uneven = dict(lg, data=lg["data"][:-64] + format(0, "064x"))  # values still 2 long; ids intact
    assert len(decode_logs([uneven]).rows["erc1155_transfers"]) == 2
    short = dict(lg, data=lg["data"][:-128])
    with pytest.raises(DecodeError, match="runs past"):
        decode_logs([short])


def test_block_time_from_map_and_removed_flag():
    lg = _fill(removed=True)
    lg.pop("blockTimestamp")
    (row,) = decode_logs([lg], block_times={500: 1_650_000_000}, version=42).as_dicts("trades_raw")
    assert (row["block_time"], row["_version"], row["_deleted"]) == (1_650_000_000, 42, 1)


def test_integer_block_fields_are_accepted():
    lg = _fill()
    lg.update(blockNumber=500, logIndex=9, blockTimestamp=1_700_000_000)
    (row,) = decode_logs([lg]).as_dicts("trades_raw")
    assert (row["block_number"], row["log_index"], row["block_time"]) == (500, 9, 1_700_000_000)


def test_v1_fill_sides_and_fees():
    sell = dict(FILL, makerAssetId=5, takerAssetId=0, makerAmountFilled=1_000_000, takerAmountFilled=400_000, fee=7)
    logs = [_fill(), encode_log("exchange.OrderFilled", sell, tx_hash=TX, log_index=10, block_number=500,
                                block_time=1, address=address_of("neg_risk_exchange"))]
    buy_row, sell_row = decode_logs(logs).as_dicts("trades_raw")
    assert (buy_row["side"], buy_row["shares"], buy_row["usdc"], buy_row["fee_shares"], buy_row["fee_usdc"]) == \
        ("BUY", 1_000_000, 400_000, 3, 0)
    assert (sell_row["side"], sell_row["shares"], sell_row["usdc"], sell_row["fee_shares"], sell_row["fee_usdc"]) == \
        ("SELL", 1_000_000, 400_000, 0, 7)
    assert sell_row["exchange"] == address_of("neg_risk_exchange")
    both = dict(FILL, makerAssetId=5, takerAssetId=6)
    with pytest.raises(DecodeError, match="exactly one collateral"):
        decode_logs([encode_log("exchange.OrderFilled", both, tx_hash=TX, log_index=1, block_number=1, block_time=1)])


def test_columns_equal_the_ddl_and_rows_insert(fresh_db):
    for table, cols in COLUMNS.items():
        ddl = [r[0] for r in fresh_db.query(
            "SELECT name FROM system.columns WHERE database = currentDatabase() AND table = {t:String} "
            "ORDER BY position", parameters={"t": table}).result_rows]
        assert tuple(ddl) == cols, table
    from tests.strategies import emitter_address, fixed_args

    logs = [encode_log(e, fixed_args(e, seed), tx_hash=TX, log_index=i, block_number=7, block_time=1_700_000_000,
                       address=emitter_address(e.emitters[-1]))
            for i, (e, seed) in enumerate((e, s) for e in EVENTS for s in range(2))]
    got = decode_logs(logs)
    assert all(got.rows.values())
    for table, rows in got.rows.items():
        if rows:
            fresh_db.insert(table, rows, column_names=list(COLUMNS[table]))
    for table, rows in got.rows.items():
        n = fresh_db.query(f"SELECT count() FROM {table}").result_rows[0][0]
        assert n == len(rows), table


def _batch(ids, values, data=None):
    log = encode_log("ctf.TransferBatch", {"operator": "0x" + "11" * 20, "from": "0x" + "00" * 20,
                                           "to": "0x" + "22" * 20, "ids": ids, "values": values},
                     tx_hash="0x" + "ab" * 32, log_index=3, block_number=10, block_time=1_700_000_000)
    if data is not None:
        log["data"] = data
    return log


@pytest.mark.parametrize("ids, values", [([7, 2**256 - 1], [5, 2**128 - 1]), ([1, 2, 3], [4, 5, 6]), ([9], [8])])
def test_transfer_batch_rows_fast_and_general_path(ids, values):
    rows = decode_logs([_batch(ids, values)]).rows["erc1155_transfers"]
    cols = COLUMNS["erc1155_transfers"]
    got = [(r[cols.index("sub_index")], r[cols.index("token_id")], r[cols.index("value")]) for r in rows]
    assert got == [(i, t, v) for i, (t, v) in enumerate(zip(ids, values))]


def test_transfer_batch_two_ids_value_over_uint128_is_named():
    with pytest.raises(DecodeError, match="exceeds UInt128") as exc:
        decode_logs([_batch([1, 2], [3, 2**128])])
    assert "0x" + "ab" * 32 in str(exc.value)


def test_transfer_batch_two_ids_in_a_non_standard_layout_still_decodes():
    """Values array placed first (offsets 0xa0 / 0x40): legal ABI, not the fast path's layout."""
    w = lambda n: format(n, "064x")  # noqa: E731
    data = "0x" + w(0xA0) + w(0x40) + w(2) + w(30) + w(40) + w(2) + w(11) + w(12)
    rows = decode_logs([_batch([0, 0], [0, 0], data=data)]).rows["erc1155_transfers"]
    cols = COLUMNS["erc1155_transfers"]
    assert [(r[cols.index("token_id")], r[cols.index("value")]) for r in rows] == [(11, 30), (12, 40)]


def test_fee_refunded_both_layouts():
    """Older FeeModules index feeCharged (4 topics, 2 data words); newer ones do not (3 topics, 3 words)."""
    from harness.chain.decode import DecodeError, decode_logs
    from harness.chain.events import address_of

    fm = address_of("fee_module")
    t0 = "0xb608d2bf25d8b4b744ba23ce2ea9802ea955e216c064a62f42152fbf98958d24"
    oh, to = "0x" + "ab" * 32, "0x" + "00" * 12 + "cd" * 20
    base = {"address": fm, "blockNumber": "0x10", "transactionHash": "0x" + "11" * 32, "blockTimestamp": "0x64"}
    w = lambda v: format(v, "064x")  # noqa: E731
    old = {**base, "logIndex": "0x1", "topics": [t0, oh, to, "0x" + w(900)], "data": "0x" + w(0) + w(400)}
    new = {**base, "logIndex": "0x2", "topics": [t0, oh, to], "data": "0x" + w(7) + w(300) + w(600)}
    rows = decode_logs([old, new]).as_dicts("fee_refunds")
    assert [(r["token_id"], r["refund"], r["fee_charged"], r["to_addr"], r["order_hash"]) for r in rows] == [
        (0, 400, 900, "0x" + "cd" * 20, oh), (7, 300, 600, "0x" + "cd" * 20, oh)]
    bad = {**base, "logIndex": "0x3", "topics": [t0, oh, to], "data": "0x" + w(0) + w(400)}
    with pytest.raises(DecodeError, match="FeeRefunded with 3 topics and 2 data words"):
        decode_logs([bad])
