"""Who owns a flow: contracts never get P&L rows; V2 collateral-adapter flows belong to the user behind them.

Expected values are written by hand from what each wallet paid and holds, not read from the code under test.
"""
from __future__ import annotations

from harness.config import contracts, non_wallets
from harness.pnl.oracle import cashflow_pnl
from tests.property.pnl_stream import CTF_ADAPTER_V2, NEG_ADAPTER_V2, Stream, addr
from tests.property.sqlcheck import load, oracle_state, sql_state

U = 1_000_000
USER, SELLER, OTHER = addr(11), addr(12), addr(13)


def _wallets(client) -> dict[str, int]:
    return {w: int(t) for w, t in client.query("SELECT wallet, total_pnl FROM wallet_pnl_summary_final").result_rows}


def test_v2_buy_then_redeem_through_the_adapter_is_the_users_profit(fresh_db):
    """The issue's case: buy 10 YES at 0.50 on V2, YES wins, redeem through the V2 CTF collateral adapter.
    Before: the user showed -5 and the adapter +10. Right: +5 for the user, nothing for the adapter."""
    s = Stream()
    m = s.market()
    s.split(SELLER, m, 10 * U)  # the seller mints 10 YES + 10 NO for 10 USDC
    s.trade(USER, SELLER, m.tokens[0], 10 * U, 5 * U)  # USER pays 5 for 10 YES
    s.resolve(m, [1, 0])
    s.redeem(USER, m, [1, 0], via=CTF_ADAPTER_V2)  # the adapter redeems 10 YES, pays the user 10
    load(fresh_db, s.rows)
    got = _wallets(fresh_db)
    assert got[USER] == 5 * U  # -5 + 10
    assert got[SELLER] == -5 * U  # -10 split + 5 sale, holds 10 NO worth 0
    assert CTF_ADAPTER_V2 not in got
    assert sql_state(fresh_db) == oracle_state(cashflow_pnl(s.rows))


def test_split_and_merge_through_the_adapter(fresh_db):
    """Split 30 through the adapter (-30), merge 10 back through it (+10): -20 with 20 of each outcome; the market
    resolves 50/50, so the 20 + 20 shares are worth 20: P&L 0."""
    s = Stream()
    m = s.market()
    s.split(USER, m, 30 * U, via=CTF_ADAPTER_V2)
    s.merge(USER, m, 10 * U, via=CTF_ADAPTER_V2)
    s.resolve(m, [1, 1])
    load(fresh_db, s.rows)
    cash = {(w, c): int(v) for w, c, v in fresh_db.query(
        "SELECT wallet, condition_id, cashflow FROM trade_cashflows_v3").result_rows}
    assert cash == {(USER, m.condition_id): -20 * U}
    assert _wallets(fresh_db) == {USER: 0}


def test_negrisk_convert_through_the_v2_adapter(fresh_db):
    """Three questions; the user splits 5 on question 0 (-5), then converts its 5 NO of question 0 through the V2
    NegRisk adapter into 5 YES of questions 1 and 2 (no collateral back for one NO). Question 1 wins: the user
    holds 5 YES0 (worth 0), 5 YES1 (worth 5), 5 YES2 (worth 0): total 0."""
    s = Stream()
    nm = s.neg_risk_market(3)
    s.split(USER, nm.questions[0], 5 * U)
    s.convert(USER, nm, 0b001, 5 * U, via=NEG_ADAPTER_V2)
    for i, q in enumerate(nm.questions):
        s.resolve(q, [1, 0] if i == 1 else [0, 1])
    load(fresh_db, s.rows)
    assert _wallets(fresh_db) == {USER: 0}
    assert sql_state(fresh_db) == oracle_state(cashflow_pnl(s.rows))


def test_an_exchange_mint_routed_through_the_adapter_is_internal(fresh_db):
    """The real 2026 log: the V2 exchange's MINT match makes the CTF adapter split to itself and hand the shares to
    the exchange. No user is on the other side of the adapter, so the split's -amount belongs to nobody."""
    s = Stream()
    m = s.market()
    ex = contracts()["ctf_exchange_v2"].address
    tx = s.new_tx()
    s._ctf(tx, "split", CTF_ADAPTER_V2, m, 7 * U)
    for i, t in enumerate(m.tokens):
        s.transfer(tx, "0x" + "00" * 20, CTF_ADAPTER_V2, t, 7 * U, sub=i)
        s.transfer(tx, CTF_ADAPTER_V2, ex, t, 7 * U)
        s.transfer(tx, ex, OTHER, t, 7 * U)  # the exchange delivers to the buyers (one wallet here)
    load(fresh_db, s.rows)
    cash = fresh_db.query("SELECT count() FROM trade_cashflows_v3").result_rows[0][0]
    assert cash == 0  # no wallet paid the split's collateral through the adapter (its fills would carry it)
    assert set(_wallets(fresh_db)) == {OTHER}


def test_no_contract_ever_gets_a_row(fresh_db):
    """Every address in contracts.yaml, used as a plain sender/receiver of shares, stays out of every P&L table."""
    s = Stream()
    m = s.market()
    s.split(USER, m, 100 * U)
    for i, c in enumerate(non_wallets()):
        s.send(USER, c, m.tokens[i % 2], U)
    load(fresh_db, s.rows)
    for table in ("outcome_positions_v2", "trade_cashflows_v3", "wallet_market_pnl"):
        ws = {r[0] for r in fresh_db.query(f"SELECT DISTINCT wallet FROM {table}").result_rows}
        assert ws == {USER}, table


def test_conversion_cash_goes_to_the_questions_it_came_from(fresh_db):
    """Three questions. The user splits 10 on question 0 and 10 on question 2 (-10 each), converts both NOs (k = 2,
    10 each): 10 USDC back, 5 to each of questions 0 and 2, and 10 YES of question 1. Question 0 resolves NO first
    (its YES is worth 0); 1 and 2 stay open at 0.60 and 0.30.
    q0 realized: -10 + 5 = -5. q1 unrealized: 10 x 0.60 = +6. q2 unrealized: -10 + 5 + 10 x 0.30 = -2.
    Realized -5, unrealized +4, total -1.
    (Booked on the lowest question, q0 would show 0 realized and q2 -7: right total, wrong split.)"""
    s = Stream()
    nm = s.neg_risk_market(3)
    q0, q1, q2 = nm.questions
    s.split(USER, q0, 10 * U)
    s.split(USER, q2, 10 * U)
    s.convert(USER, nm, 0b101, 10 * U)
    s.resolve(q0, [0, 1])
    s.price(q1, 0, 600_000)
    s.price(q2, 0, 300_000)
    load(fresh_db, s.rows)
    rows = {c: (int(r), int(p)) for c, r, p in fresh_db.query(
        "SELECT condition_id, resolved, pnl FROM wallet_market_pnl WHERE wallet = {w:String}",
        parameters={"w": USER}).result_rows}
    assert rows == {q0.condition_id: (1, -5 * U), q1.condition_id: (0, 6 * U), q2.condition_id: (0, -2 * U)}
    summary = fresh_db.query("SELECT realized_pnl, unrealized_pnl, total_pnl FROM wallet_pnl_summary_final "
                             "WHERE wallet = {w:String}", parameters={"w": USER}).result_rows
    assert summary == [(-5 * U, 4 * U, -1 * U)]
    assert sql_state(fresh_db) == oracle_state(cashflow_pnl(s.rows))


def test_fee_module_refund_reduces_the_fee_paid(fresh_db):
    """SELLER sells 10 YES at 0.50 with a 0.10 collateral fee; the FeeModule refunds 0.06 of it. USER buys with a
    0.30-share fee, 0.20 of the shares refunded. SELLER: -10 (split) + 5 - 0.10 + 0.06 = -5.04, fees 0.04, and
    holds 10 NO (NO wins: +10) -> +4.96. USER: -5, holds 10 - 0.30 + 0.20 = 9.90 YES, worth 0 -> -5."""
    s = Stream()
    m = s.market()
    s.split(SELLER, m, 10 * U)
    s.trade(USER, SELLER, m.tokens[0], 10 * U, 5 * U, buyer_fee_shares=300_000, seller_fee_usdc=100_000,
            seller_refund=60_000, buyer_share_refund=200_000)
    s.resolve(m, [0, 1])
    load(fresh_db, s.rows)
    rows = {w: (int(c), int(f), int(fs)) for w, c, f, fs in fresh_db.query(
        "SELECT wallet, cashflow, fees, fee_shares FROM trade_cashflows_v3").result_rows}
    assert rows[SELLER] == (-5_040_000, 40_000, 0)
    assert rows[USER] == (-5 * U, 0, 100_000)
    assert _wallets(fresh_db) == {SELLER: 4_960_000, USER: -5 * U}
    assert sql_state(fresh_db) == oracle_state(cashflow_pnl(s.rows))


def test_the_exchanges_operator_is_a_contract_not_a_wallet(fresh_db):
    """Issue 21 item 15: the exchanges' operator receives fee shares (valued) and collateral fees (ERC20, unseen):
    as a wallet it would rank on fees alone. It is a protocol address (contracts.yaml role operator): no row."""
    from eth_hash.auto import keccak

    from harness.chain.contracts.exchange import OPERATOR
    from harness.config import addresses_with_role

    assert OPERATOR == "0x" + keccak(b"polymarket-pnl-harness operator").hex()[:40]
    assert addresses_with_role("operator") == [OPERATOR] and OPERATOR in non_wallets()
    s = Stream()
    m = s.market()
    s.split(USER, m, 100 * U)
    s.send(USER, OPERATOR, m.tokens[0], 3 * U)  # a fee share, as the exchange pays it
    load(fresh_db, s.rows)
    for table in ("outcome_positions_v2", "trade_cashflows_v3", "wallet_market_pnl", "wallet_market_pnl_avgcost"):
        ws = {r[0] for r in fresh_db.query(f"SELECT DISTINCT wallet FROM {table}").result_rows}
        assert OPERATOR not in ws, table
