"""decode(encode(event)) == event for every event type; eth_abi is the independent oracle of the encoding."""
from __future__ import annotations

import eth_abi
import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.chain.decode import COLUMNS, decode_logs
from harness.chain.encode import decode_event, encode_log
from harness.chain.events import EVENTS
from harness.chain.tokens import token_id
from harness.config import contracts, token_address
from tests.strategies import emitter_address, event_args, logs

ADAPTER = contracts()["neg_risk_adapter"].address
USDC = token_address("usdc_e")
ZERO32 = "0x" + "00" * 32


def _log(e, args, *, address=None, removed=False):
    return encode_log(e, args, tx_hash="0x" + "ab" * 32, log_index=7, block_number=123, block_time=1_700_000_000,
                      address=address, removed=removed)


@pytest.mark.parametrize("event", EVENTS, ids=lambda e: e.key)
@given(data=st.data())
def test_generic_round_trip_and_eth_abi_agree(event, data):
    args = data.draw(event_args(event))
    log = _log(event, args, address=emitter_address(event.emitters[0]))
    assert decode_event(log) == (event, args)
    # eth_abi decodes the data words and the indexed topics to the same values
    dtypes = [f.type for f in event.data_fields]
    got = eth_abi.decode(dtypes, bytes.fromhex(log["data"][2:]))
    for f, v in zip(event.data_fields, got):
        exp = args[f.name]
        if f.type == "bytes32" or f.type == "bytes":
            v = "0x" + v.hex()
        elif f.type == "bytes32[]":
            v = ["0x" + x.hex() for x in v]
        elif f.type.endswith("[]"):
            v = list(v)
        elif f.type == "address":
            v = v.lower()
        assert v == exp, f.name
    for f, t in zip(event.indexed, log["topics"][1:]):
        (v,) = eth_abi.decode([f.type], bytes.fromhex(t[2:]))
        v = "0x" + v.hex() if f.type == "bytes32" else (v.lower() if f.type == "address" else v)
        assert v == args[f.name], f.name
    assert len(log["topics"]) == 1 + len(event.indexed)


def expected_rows(e, args, base, ex, version=0, deleted=0) -> dict[str, list[tuple]]:
    """The table rows an event should become, written from the domain notes (independent of the decoder)."""
    a = args
    if e.key == "ctf.TransferSingle":
        return {"erc1155_transfers": [base + (0, a["operator"], a["from"], a["to"], a["id"], a["value"], version, deleted)]}
    if e.key == "ctf.TransferBatch":
        return {"erc1155_transfers": [base + (i, a["operator"], a["from"], a["to"], t, v, version, deleted)
                                      for i, (t, v) in enumerate(zip(a["ids"], a["values"]))]}
    if e.key == "ctf.ConditionPreparation":
        neg = a["oracle"] == ADAPTER
        coll = token_address("wcol") if neg else USDC
        n = a["outcomeSlotCount"]
        return {"condition_preparations": [base + (a["conditionId"], a["oracle"], a["questionId"], n, version, deleted)],
                "token_map": [(token_id(a["conditionId"], i, collateral=coll), a["conditionId"], i, 1 << i, coll,
                               int(neg), version) for i in range(n)]}
    if e.key == "ctf.ConditionResolution":
        return {"condition_resolutions": [base + (a["conditionId"], a["oracle"], a["questionId"], a["outcomeSlotCount"],
                                                  a["payoutNumerators"], version, deleted)]}
    if e.key in ("ctf.PositionSplit", "ctf.PositionsMerge"):
        act = "split" if e.key.endswith("Split") else "merge"
        return {"ctf_actions": [base + ("ctf", act, a["stakeholder"], a["collateralToken"], a["parentCollectionId"],
                                        a["conditionId"], a["partition"], [], a["amount"], 0, version, deleted)]}
    if e.key == "ctf.PayoutRedemption":
        return {"ctf_actions": [base + ("ctf", "redeem", a["redeemer"], a["collateralToken"], a["parentCollectionId"],
                                        a["conditionId"], a["indexSets"], [], 0, a["payout"], version, deleted)]}
    if e.key == "exchange.OrderFilled":
        if a["makerAssetId"] == 0:  # BUY: paid collateral, fee in shares
            side, tok, sh, us, fsh, fus = "BUY", a["takerAssetId"], a["takerAmountFilled"], a["makerAmountFilled"], a["fee"], 0
        else:
            side, tok, sh, us, fsh, fus = "SELL", a["makerAssetId"], a["makerAmountFilled"], a["takerAmountFilled"], 0, a["fee"]
        return {"trades_raw": [base + (ex, a["orderHash"], a["maker"], a["taker"], side, tok, sh, us, fsh, fus,
                                       version, deleted)]}
    if e.key == "exchange_v2.OrderFilled":
        buy = a["side"] == 0
        sh, us = (a["takerAmountFilled"], a["makerAmountFilled"]) if buy else (a["makerAmountFilled"], a["takerAmountFilled"])
        return {"trades_raw": [base + (ex, a["orderHash"], a["maker"], a["taker"], "BUY" if buy else "SELL",
                                       a["tokenId"], sh, us, 0, a["fee"], version, deleted)]}
    if e.key == "exchange.OrdersMatched":
        return {"orders_matched": [base + (ex, a["takerOrderHash"], a["takerOrderMaker"], a["makerAssetId"],
                                           a["takerAssetId"], a["makerAmountFilled"], a["takerAmountFilled"],
                                           version, deleted)]}
    if e.key == "exchange.FeeCharged":
        return {"fee_charged": [base + (ex, a["receiver"], a["tokenId"], a["amount"], version, deleted)]}
    if e.key in ("adapter.PositionSplit", "adapter.PositionsMerge"):
        act = "split" if e.key.endswith("Split") else "merge"
        return {"ctf_actions": [base + ("neg_risk_adapter", act, a["stakeholder"], USDC, ZERO32, a["conditionId"],
                                        [1, 2], [], a["amount"], 0, version, deleted)]}
    if e.key == "adapter.PayoutRedemption":
        return {"ctf_actions": [base + ("neg_risk_adapter", "redeem", a["redeemer"], USDC, ZERO32, a["conditionId"],
                                        [1, 2], a["amounts"], 0, a["payout"], version, deleted)]}
    if e.key == "adapter.PositionsConverted":
        return {"neg_risk_conversions": [base + (a["stakeholder"], a["marketId"], a["indexSet"], a["amount"],
                                                 version, deleted)]}
    if e.key == "adapter.QuestionPrepared":
        from eth_hash.auto import keccak
        cid = "0x" + keccak(bytes.fromhex(ADAPTER[2:] + a["questionId"][2:]) + (2).to_bytes(32, "big")).hex()
        return {"neg_risk_questions": [base + (a["marketId"], a["questionId"], a["index"], cid, a["data"],
                                               version, deleted)]}
    if e.key == "fee_module.FeeRefunded":
        return {"fee_refunds": [base + (ex, a["orderHash"], a["to"], a["id"], a["refund"], a["feeCharged"],
                                        version, deleted)]}
    if e.key == "safe_factory.ProxyCreation":  # ProxyCreation(address proxy, address owner): owner -> proxy link
        return {"wallet_proxies": [base + (ex, "safe", a["owner"], a["proxy"], version, deleted)]}
    if e.key == "fpmm_factory.FixedProductMarketMakerCreation":
        return {"fpmm_creations": [base + (ex, a["creator"], a["fixedProductMarketMaker"], a["conditionalTokens"],
                                           a["collateralToken"], a["conditionIds"], a["fee"], version, deleted)]}
    if e.key in ("fpmm.FPMMBuy", "fpmm.FPMMSell"):
        buy = e.key == "fpmm.FPMMBuy"
        return {"fpmm_trades": [base + (ex, a["buyer" if buy else "seller"], "BUY" if buy else "SELL",
                                        a["outcomeIndex"], a["investmentAmount" if buy else "returnAmount"],
                                        a["feeAmount"], a["outcomeTokensBought" if buy else "outcomeTokensSold"],
                                        version, deleted)]}
    if e.key == "fpmm.FPMMFundingAdded":
        return {"fpmm_funding": [base + (ex, a["funder"], "add", a["amountsAdded"], 0, a["sharesMinted"],
                                         version, deleted)]}
    if e.key == "fpmm.FPMMFundingRemoved":
        return {"fpmm_funding": [base + (ex, a["funder"], "remove", a["amountsRemoved"],
                                         a["collateralRemovedFromFeePool"], a["sharesBurnt"], version, deleted)]}
    raise AssertionError(e.key)


@pytest.mark.parametrize("event", EVENTS, ids=lambda e: e.key)
@given(data=st.data())
def test_table_rows_match_the_event(event, data):
    args = data.draw(event_args(event))
    if event.key == "ctf.ConditionPreparation" and data.draw(st.booleans()):
        args["oracle"] = ADAPTER  # negRisk: wcol collateral
    emitter = data.draw(st.sampled_from(event.emitters))
    removed = data.draw(st.booleans())
    version = data.draw(st.integers(0, 2**40))
    log = _log(event, args, address=emitter_address(emitter), removed=removed)
    got = decode_logs([log], version=version)
    exp = expected_rows(event, args, ("0x" + "ab" * 32, 7, 123, 1_700_000_000), emitter_address(emitter),
                        version, int(removed))
    if "token_map" in exp:  # token_map has no _deleted column
        pass
    for t in COLUMNS:
        assert got.rows[t] == exp.get(t, []), t
    assert got.count == 1 and not got.unknown


@given(batch=logs())
def test_streams_decode_in_order_with_counts(batch):
    got = decode_logs([lg for _e, _a, lg in batch])
    assert got.count == len(batch) and not got.unknown
    exp: dict[str, list] = {}
    for e, a, lg in batch:
        base = (lg["transactionHash"], int(lg["logIndex"], 16), int(lg["blockNumber"], 16),
                int(lg["blockTimestamp"], 16))
        for t, rows in expected_rows(e, a, base, lg["address"]).items():
            exp.setdefault(t, []).extend(rows)
    for t in COLUMNS:
        assert got.rows[t] == exp.get(t, []), t
