"""The legacy AMM's pieces on their own: the addresses and signatures in contracts.yaml, the decoder's any-address
FPMM events, and the pool arithmetic (harness.pnl.fpmm) on hand-computed numbers."""
from __future__ import annotations

import pytest

from harness.chain.decode import COLUMNS, DecodeError, decode_logs
from harness.chain.encode import encode_log
from harness.chain.events import BY_KEY, any_address_events, topic0_of
from harness.config import _contracts_file, addresses_with_role, contracts, non_wallets
from harness.pnl.fpmm import Pool, PoolError

FPMM = "0x" + "5a" * 20
TX = "0x" + "ab" * 32
CID = "0x" + "c1" * 32


def _log(key, args, address, i=0):
    return encode_log(key, args, tx_hash=TX, log_index=i, block_number=4_100_000, block_time=1_600_000_000,
                      address=address)


def test_contracts_yaml_records_the_factory_and_every_signature():
    c = contracts()["fpmm_factory"]
    assert (c.address, c.first_block, c.role) == ("0x8b9805a2f595b6705e74f7310829f2d299d21522", 4023693,
                                                   "fpmm_factory")
    assert addresses_with_role("fpmm_factory") == [c.address] and c.address in non_wallets()
    recorded = _contracts_file()["fpmm_events"]
    keys = {"FixedProductMarketMakerCreation": "fpmm_factory.FixedProductMarketMakerCreation",
            "FPMMBuy": "fpmm.FPMMBuy", "FPMMSell": "fpmm.FPMMSell", "FPMMFundingAdded": "fpmm.FPMMFundingAdded",
            "FPMMFundingRemoved": "fpmm.FPMMFundingRemoved"}
    for name, key in keys.items():
        e = BY_KEY[key]
        sig = recorded[name]["signature"]
        # the written signature (with names and indexed) reduces to the registry's, and its keccak is the topic0
        plain = name + "(" + ",".join(p.split()[0] for p in sig[sig.index("(") + 1:-1].split(", ")) + ")"
        assert plain == e.signature and topic0_of(plain) == recorded[name]["topic0"] == e.topic0, name
        indexed = [p.split()[-1] for p in sig[sig.index("(") + 1:-1].split(", ") if " indexed " in p]
        assert indexed == [f.name for f in e.indexed], name
    assert set(any_address_events()) == {BY_KEY[k].topic0 for k in keys.values() if k.startswith("fpmm.")}


def test_fpmm_events_decode_from_any_address_the_creation_only_from_the_factory():
    factory = contracts()["fpmm_factory"].address
    create = {"creator": "0x" + "01" * 20, "fixedProductMarketMaker": FPMM, "conditionalTokens": contracts()["ctf"].address,
              "collateralToken": "0x2791bca1f2de4661ed88a30c99a7a9449aa84174", "conditionIds": [CID], "fee": 2 * 10**16}
    buy = {"buyer": "0x" + "02" * 20, "investmentAmount": 10_000_000, "feeAmount": 200_000, "outcomeIndex": 1,
           "outcomeTokensBought": 18_725_318}
    out = decode_logs([_log("fpmm_factory.FixedProductMarketMakerCreation", create, factory, 0),
                       _log("fpmm_factory.FixedProductMarketMakerCreation", create, "0x" + "77" * 20, 1),
                       _log("fpmm.FPMMBuy", buy, FPMM, 2), _log("fpmm.FPMMBuy", buy, "0x" + "66" * 20, 3)])
    assert [(r["factory"], r["fpmm"], r["condition_ids"]) for r in out.as_dicts("fpmm_creations")] == \
        [(factory, FPMM, [CID])]
    assert out.unknown == {("0x" + "77" * 20, BY_KEY["fpmm_factory.FixedProductMarketMakerCreation"].topic0): 1}
    trades = out.as_dicts("fpmm_trades")
    assert [(r["fpmm"], r["trader"], r["side"], r["outcome_index"], r["usdc"], r["fee"], r["shares"])
            for r in trades] == [(a, "0x" + "02" * 20, "BUY", 1, 10_000_000, 200_000, 18_725_318)
                                 for a in (FPMM, "0x" + "66" * 20)]
    assert list(COLUMNS["fpmm_trades"])[:4] == ["tx_hash", "log_index", "block_number", "block_time"]


def test_a_malformed_fpmm_log_is_named():
    log = _log("fpmm.FPMMBuy", {"buyer": "0x" + "02" * 20, "investmentAmount": 1, "feeAmount": 0, "outcomeIndex": 0,
                                "outcomeTokensBought": 1}, FPMM)
    log["data"] = log["data"][:-64]
    with pytest.raises(DecodeError, match=f"tx {TX} log index 0.*expected 96"):
        decode_logs([log])
    big = _log("fpmm.FPMMSell", {"seller": "0x" + "02" * 20, "returnAmount": 1, "feeAmount": 0, "outcomeIndex": 300,
                                 "outcomeTokensSold": 1}, FPMM)
    with pytest.raises(DecodeError, match="outcomeIndex 300 > 255"):
        decode_logs([big])


def test_pool_buy_sell_and_funding_by_hand():
    """Fund 100 into an even pool (hint 1:1): 100 of each outcome, 100 LP shares. Buy outcome 0 for 10 at 2%:
    fee 0.2, 9.8 split into both sides, out = 100 + 9.8 - ceil(100 x 100 / 109.8) = 109.8 - 91.074682 =
    18.725318; the pool is 91.074682 / 109.8."""
    p = Pool()
    a = p.add_funding("lp", 100_000_000, [1, 1])
    assert (a.send_back, a.amounts_added, a.minted) == ([0, 0], [100_000_000] * 2, 100_000_000)
    b = p.buy(10_000_000, 0)
    assert (b.fee, b.tokens, p.balances) == (200_000, 18_725_318, [91_074_682, 109_800_000])
    # sell back for 5: fee 5 x 0.02 / 0.98 = 0.102040; 5.102040 merged out of both sides
    s = p.sell(5_000_000, 0)
    assert s.fee == 102_040 and p.balances == [91_074_682 + s.tokens - 5_102_040, 109_800_000 - 5_102_040]
    # a second funder at the current ratio: the lighter side's shortfall comes back as shares, no hint allowed
    with pytest.raises(PoolError, match="funding must be non-zero"):
        p.add_funding("x", 0)
    before = list(p.balances)
    a2 = p.add_funding("x", 50_000_000)
    heavy = before.index(max(before))
    assert a2.send_back[heavy] == 0 and a2.amounts_added[heavy] == 50_000_000
    assert a2.send_back[1 - heavy] == 50_000_000 - 50_000_000 * before[1 - heavy] // before[heavy]
    # the first LP takes the fees collected while it was alone (0.302040), less one unit of rounding
    r = p.remove_funding("lp", 50_000_000)
    assert r.fees == 302_039 and r.burnt == 50_000_000
    with pytest.raises(PoolError):
        p.remove_funding("lp", 10**12)


def test_pool_refuses_what_the_contract_reverts_and_changes_nothing():
    p = Pool()
    with pytest.raises(PoolError):
        p.buy(1_000_000, 0)  # no liquidity
    p.add_funding("lp", 10_000_000, [1, 1])
    state = (list(p.balances), p.fee_pool_weight)
    with pytest.raises(PoolError):
        p.sell(10_000_000, 1)  # more than the pool can pay
    assert (p.balances, p.fee_pool_weight) == state


def test_the_subgraphs_own_price_vector():
    """Polymarket/polymarket-subgraph tests/fpmmPrices.test.ts: amounts [100, 200] price outcome 0 at 200/300 and
    outcome 1 at 100/300 (micro-USDC, truncated): what a funding removal of those amounts buys at."""
    from harness.pnl.avgcost import _Book, _fpmm

    book = _Book(exact=False)
    row = {"funder": "0x" + "0f" * 20, "action": "remove", "amounts": [100, 200], "collateral_removed": 0,
           "shares": 0}
    _fpmm(book, row, {0: 11, 1: 12}, lp=99, ex=set())
    assert (book.tokens[("0x" + "0f" * 20, 11)].avg, book.tokens[("0x" + "0f" * 20, 12)].avg) == (666_666, 333_333)
    assert ("0x" + "0f" * 20, 99) not in book.tokens  # no LP shares burnt: no LP sale
