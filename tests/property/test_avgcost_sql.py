"""The average-cost (UI) P&L built in SQL equals harness.pnl.avgcost.avg_cost_pnl (subgraph rounding) to the micro-dollar,
per wallet and condition, on random chain-consistent streams (fills, splits, merges, redemptions, negRisk
conversions, transfers, prices, reorg noise, cutoffs), and reproduces the domain notes' worked vectors."""
from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from harness.pnl.avgcost import avg_cost_pnl
from tests.property.pnl_ops import Markets, ops, packed, play_all
from tests.property.pnl_stream import T0, Stream, addr
from tests.property.sqlcheck import load
from tests.property.test_pnl_sql import DB, _noise

U = 1_000_000


def sql_avgcost(client) -> dict:
    return {(w, c): (int(r), int(u)) for w, c, r, u in client.query(
        "SELECT wallet, condition_id, realized, unrealized FROM wallet_market_pnl_avgcost").result_rows}


def oracle_avgcost(rows, cutoff=None) -> dict:
    return {k: (int(m.realized), int(m.unrealized)) for k, m in avg_cost_pnl(rows, cutoff=cutoff).markets.items()}


def same(a: dict, b: dict) -> bool:
    """Equal, a missing (wallet, condition) counting as (0, 0): the oracle keeps a row for every token a wallet
    merely touched (a redemption visits every outcome), the SQL only for tokens with events."""
    return all(a.get(k, (0, 0)) == b.get(k, (0, 0)) for k in set(a) | set(b))


@DB
@given(packed(ops()), st.randoms(use_true_random=False), st.booleans())
def test_avgcost_sql_equals_oracle(warehouse, op_lists, rnd, with_cutoff):
    s = play_all(op_lists)
    rows = _noise(s.rows, rnd)
    cutoff = rnd.randint(T0, s.time) if with_cutoff else None
    load(warehouse, rows, cutoff=cutoff)
    sql, oracle = sql_avgcost(warehouse), oracle_avgcost(rows, cutoff)
    assert same(sql, oracle), {k: (sql.get(k), oracle.get(k)) for k in set(sql) | set(oracle)
                               if sql.get(k, (0, 0)) != oracle.get(k, (0, 0))}
    ui = {w: (int(r), int(t)) for w, r, t in warehouse.query(
        "SELECT wallet, ui_realized_pnl, ui_total_pnl FROM ui_wallet_pnl_summary").result_rows}
    want: dict[str, list[int]] = {}
    for (w, _c), (r, u) in oracle.items():
        acc = want.setdefault(w, [0, 0])
        acc[0] += r
        acc[1] += r + u
    assert all(ui.get(w, (0, 0)) == tuple(v) for w, v in want.items())


A, B, C = addr(1), addr(2), addr(3)


def _run(client, s: Stream) -> dict:
    load(client, s.rows)
    return sql_avgcost(client)


def test_domain_vectors_in_sql(warehouse):
    """../shared/domain/polymarket.md: buy 100@0.40, buy 100@0.60, sell 50@0.70 -> realized 10, then redeem
    (1, 0) -> 85; split 100, sell YES 100@0.80, NO resolves 0 -> -20; buy YES 100@0.30 and NO 100@0.60, merge
    100 -> +10; buy 50@0.50, sell 80@0.80 -> 15 (30 shares clamped)."""
    s = Stream()
    m = s.market()
    s.split(B, m, 300 * U)
    s.trade(A, B, m.tokens[0], 100 * U, 40 * U)
    s.trade(A, B, m.tokens[0], 100 * U, 60 * U)
    s.trade(C, A, m.tokens[0], 50 * U, 35 * U)
    assert _run(warehouse, s)[(A, m.condition_id)][0] == 10 * U
    s.resolve(m, [1, 0])
    s.redeem(A, m, [1, 0])
    assert _run(warehouse, s)[(A, m.condition_id)] == (85 * U, 0)

    s = Stream()
    m = s.market()
    s.split(A, m, 100 * U)
    s.trade(B, A, m.tokens[0], 100 * U, 80 * U)
    s.resolve(m, [1, 0])
    s.redeem(A, m, [1, 0])
    assert sum(_run(warehouse, s)[(A, m.condition_id)]) == -20 * U

    s = Stream()
    m = s.market()
    s.split(B, m, 100 * U)
    s.trade(A, B, m.tokens[0], 100 * U, 30 * U)
    s.trade(A, B, m.tokens[1], 100 * U, 60 * U)
    s.merge(A, m, 100 * U)
    assert _run(warehouse, s)[(A, m.condition_id)][0] == 10 * U

    s = Stream()
    m = s.market()
    s.split(B, m, 100 * U)
    s.trade(A, B, m.tokens[0], 50 * U, 25 * U)
    s.send(B, A, m.tokens[0], 30 * U)  # untracked shares: the sell of 80 is clamped to the 50 bought
    s.trade(C, A, m.tokens[0], 80 * U, 64 * U)
    assert _run(warehouse, s)[(A, m.condition_id)][0] == 15 * U
    assert warehouse.query("SELECT clamped_shares FROM wallet_market_pnl_avgcost WHERE wallet = {w:String}",
                           parameters={"w": A}).result_rows == [(30 * U,)]


def test_conversion_yes_price_in_sql(warehouse):
    """yesPrice(noPrice 0.75, 5 questions, 3 NO) = 0.125: three NO bought at 0.75 converted into two YES."""
    s = Stream()
    nm = s.neg_risk_market(5)
    for q in nm.questions[:3]:
        s.split(B, q, 10 * U)
        s.trade(A, B, q.tokens[1], 10 * U, 7_500_000)
    s.convert(A, nm, 0b00111, 10 * U)
    got = _run(warehouse, s)
    avg = {tuple(r[:2]): int(r[2]) for r in warehouse.query(
        "SELECT condition_id, outcome_index, avg_price FROM wallet_token_avgcost WHERE wallet = {w:String}",
        parameters={"w": A}).result_rows}
    assert avg[(nm.questions[3].condition_id, 0)] == avg[(nm.questions[4].condition_id, 0)] == 125_000
    assert all(got[(A, q.condition_id)][0] == 0 for q in nm.questions[:3])


@DB
@given(packed(ops(max_size=15)), packed(ops(max_size=15)))
def test_incremental_avgcost_equals_full(warehouse, first, second):
    """A range rebuild walks again only the tokens of the conditions the range touched and copies the rest; the
    book must equal a full rebuild's, row for row."""
    from harness.pnl.build import rebuild, rebuild_range
    from tests.property.pnl_stream import insert

    states = [Markets() for _ in first]  # the second part continues each history, on its markets too
    s = play_all(first, states=states)
    load(warehouse, s.rows)
    seen = {t: len(v) for t, v in s.rows.items()}
    s.next_block()
    start = s.block
    play_all(second, s, states)
    insert(warehouse, {t: v[seen.get(t, 0):] for t, v in s.rows.items()})
    q = ("SELECT * FROM wallet_token_avgcost ORDER BY wallet, token_id",
         "SELECT * FROM wallet_market_pnl_avgcost ORDER BY wallet, condition_id")
    rebuild_range(warehouse, start, s.block)
    incremental = [warehouse.query(x).result_rows for x in q]
    rebuild(warehouse)
    assert incremental == [warehouse.query(x).result_rows for x in q]


def test_a_later_range_on_a_converted_yes_token_keeps_its_conversion_price(warehouse):
    """A conversion's YES legs are priced from the NO legs' averages on the market's other questions, so a range
    that touches only the YES token's question (a sale of it, days after the conversion) must recompute it with
    the NO questions' rows too: affected_conditions widens the touched question to its whole negRisk market. (The
    random range test above missed it while its second part played only markets of its own.)"""
    from harness.pnl.build import rebuild, rebuild_range
    from tests.property.pnl_stream import insert

    s = Stream()
    nm = s.neg_risk_market(5)
    for q in nm.questions[:3]:
        s.split(B, q, 10 * U)
        s.trade(A, B, q.tokens[1], 10 * U, 7_500_000)
    s.convert(A, nm, 0b00111, 10 * U)  # yesPrice(0.75, 5 questions, 3 NO) = 0.125 for each of the two YES
    load(warehouse, s.rows)
    seen = {t: len(v) for t, v in s.rows.items()}
    s.next_block()
    start = s.block
    s.trade(C, A, nm.questions[3].tokens[0], 4 * U, 2 * U)  # A sells 4 of its YES on question 3 at 0.5
    insert(warehouse, {t: v[seen.get(t, 0):] for t, v in s.rows.items()})
    q = ("SELECT * FROM wallet_token_avgcost ORDER BY wallet, token_id",
         "SELECT * FROM wallet_market_pnl_avgcost ORDER BY wallet, condition_id")
    rebuild_range(warehouse, start, s.block)
    incremental = [warehouse.query(x).result_rows for x in q]
    book = {(r[0], r[2], r[3]): r for r in warehouse.query(
        "SELECT wallet, token_id, condition_id, outcome_index, avg_price, realized FROM wallet_token_avgcost "
        "WHERE wallet = {w:String}", parameters={"w": A}).result_rows}
    yes3 = book[(A, nm.questions[3].condition_id, 0)]
    assert (yes3[4], yes3[5]) == (125_000, 4 * (500_000 - 125_000))  # avg 0.125 kept; realized 4 x (0.5 - 0.125)
    rebuild(warehouse)
    assert incremental == [warehouse.query(x).result_rows for x in q]
