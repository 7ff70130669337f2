"""The final views' public contract: the built views keep it, exact USD over the whole Int128 range, every kind of
breach is named, and a breach in the _test views fails the dry run so that deploy refuses."""
from __future__ import annotations

from datetime import UTC, datetime
from decimal import Context, Decimal, localcontext
from string import Template

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness import gates
from harness.gates.deploy import (
    DEPLOYED_VIEWS,
    FINAL_VIEWS,
    Guard,
    create_test_views,
    deploy,
    view_definition,
)
from harness.gates.view_contract import (
    CONTRACT_FILE,
    ViewContractError,
    Violation,
    check_view_contract,
    load_contract,
)
from harness.pnl import build
from harness.warehouse import sql
from tests.property.pnl_stream import Stream, addr, h
from tests.property.sqlcheck import load

U = 1_000_000
A, B, C = addr(1), addr(2), addr(3)
INT128 = st.integers(-(2**127), 2**127 - 1)
HALF = st.integers(-(2**126), 2**126 - 1)  # two of these sum inside Int128 (a wallet's total)


def usd(micro: int) -> Decimal:
    """micro / 10^6 as Python computes it: a decimal string is exact, whatever the context precision."""
    return Decimal(f"{micro}E-6")


def _scenario(client) -> dict:
    """A plain market resolved, a negRisk question resolved, an open priced market; the figures by hand."""
    s = Stream()
    m = s.market()
    s.split(A, m, 10 * U)  # A: -10, holds 10 YES + 10 NO
    s.trade(B, A, m.tokens[0], 10 * U, 6 * U)  # A sells its 10 YES for 6; B pays 6 for them
    s.next_block(60)
    t_plain = s.time
    s.resolve(m, [1, 0])  # YES wins: A -10 + 6 + 0 = -4; B -6 + 10 = +4
    nm = s.neg_risk_market(2)
    q0 = nm.questions[0]
    s.split(C, q0, 3 * U)  # C: -3, holds 3 of each outcome
    s.next_block(60)
    t_neg = s.time
    s.resolve(q0, [0, 1])  # C: -3 + 3 = 0
    m2 = s.market()
    s.split(A, m2, 4 * U)
    s.price(m2, 0, 250_000)
    s.price(m2, 1, 800_000)  # A open: -4 + 4 * 1.05 = +0.2
    load(client, s.rows)
    return {"plain": (m.condition_id, t_plain), "neg": (q0.condition_id, t_neg, nm.market_id)}


def test_contract_file_declares_exactly_the_final_views():
    c = load_contract()
    assert {v.view for v in c.views} == set(FINAL_VIEWS) == set(build.VIEWS)
    assert "Float64" in c.forbidden_types and "Float32" in c.forbidden_types
    money = [col for v in c.views for col in v.columns if col.name.endswith("_usd")]
    assert money and all(col.type.startswith("Decimal(") and col.micro for col in money)


def test_built_views_keep_the_contract_with_the_plan_columns(fresh_db):
    sc = _scenario(fresh_db)
    create_test_views(fresh_db)
    assert check_view_contract(fresh_db, "_test") == []
    assert check_view_contract(fresh_db) == []
    floats = fresh_db.query("SELECT table, name, type FROM system.columns WHERE database = currentDatabase() "
                            "AND table IN {v:Array(String)} AND type ILIKE '%float%'",
                            parameters={"v": [v + x for v in FINAL_VIEWS for x in ("", "_test")]}).result_rows
    assert floats == []

    rows = fresh_db.query("SELECT wallet, condition_id_norm, market_id, realized_pnl_usd, resolved_at, realized_pnl "
                          "FROM realized_pnl_by_market_final_test ORDER BY wallet").result_rows
    plain, t_plain = sc["plain"]
    neg, t_neg, market = sc["neg"]
    at = lambda t: datetime.fromtimestamp(t, UTC).replace(tzinfo=None)
    assert sorted(rows) == sorted([
        (A, plain[2:], None, Decimal(-4), at(t_plain), -4 * U),
        (B, plain[2:], None, Decimal(4), at(t_plain), 4 * U),
        (C, neg[2:], market, Decimal(0), at(t_neg), 0),
    ])
    summary = {r[0]: r[1:] for r in fresh_db.query(
        "SELECT wallet, realized_pnl_usd, unrealized_pnl_usd, total_pnl_usd FROM wallet_pnl_summary_final_test"
    ).result_rows}
    assert summary[A] == (Decimal(-4), Decimal("0.2"), Decimal("-3.8"))
    assert summary[B] == (Decimal(4), Decimal(0), Decimal(4))
    realized = dict(fresh_db.query("SELECT wallet, realized_pnl_usd FROM wallet_realized_pnl_final_test").result_rows)
    assert realized == {A: Decimal(-4), B: Decimal(4), C: Decimal(0)}


@pytest.fixture(scope="module")
def money_db(module_db):
    return module_db()


@settings(max_examples=max(20, settings.default.max_examples // 2))
@given(st.lists(st.one_of(st.tuples(INT128, st.none()), st.tuples(st.none(), INT128), st.tuples(HALF, HALF)),
                min_size=1, max_size=12))
def test_usd_columns_equal_micro_over_ten_to_the_sixth_exactly(money_db, wallets):
    """Any Int128 micro-USDC figure reaches every *_usd column as exactly micro / 10^6 (compared with Python's
    exact decimal arithmetic), and realized + unrealized = total exactly."""
    db = money_db
    db.command("TRUNCATE TABLE wallet_market_pnl")
    db.command("TRUNCATE TABLE winning_index")
    rows, wins, want = [], [], {}
    for i, (r, u) in enumerate(wallets):
        w = addr(1000 + i)
        if r is not None:
            cid = h("money", i)
            rows.append([w, cid, 1, 0, 0, r])
            wins.append([cid, [1, 0], 1, 0, 1, 1_700_000_000])
        if u is not None:
            rows.append([w, h("money open", i), 0, 0, 0, u])
        want[w] = (r or 0, u or 0)
    db.insert("wallet_market_pnl", rows, column_names=["wallet", "condition_id", "resolved", "cashflow", "value", "pnl"])
    if wins:
        db.insert("winning_index", wins, column_names=["condition_id", "payout_numerators", "payout_denominator",
                                                       "winning_index", "resolved_block", "resolved_time"])
    build.create_views(db)
    got = {w: (ru, uu, tu) for w, ru, uu, tu in db.query(
        "SELECT wallet, realized_pnl_usd, unrealized_pnl_usd, total_pnl_usd FROM wallet_pnl_summary_final").result_rows}
    assert got == {w: (usd(r), usd(u), usd(r + u)) for w, (r, u) in want.items()}
    with localcontext(Context(prec=100)):
        assert all(ru + uu == tu for ru, uu, tu in got.values())
    by_market = dict(db.query("SELECT wallet, realized_pnl_usd FROM realized_pnl_by_market_final").result_rows)
    per_wallet = dict(db.query("SELECT wallet, realized_pnl_usd FROM wallet_realized_pnl_final").result_rows)
    resolved = {w: usd(r) for w, (r, _u) in want.items() if any(x[0] == w and x[2] == 1 for x in rows)}
    assert by_market == resolved and per_wallet == resolved


def _render(view: str, old: str, new: str) -> str:
    """The real _test definition of ``view`` with one expression changed (the test fails if it is not there)."""
    text = Template(sql.load(f"views/{view}")).substitute(suffix="_test")
    assert old in text, f"{old!r} not in views/{view}.sql"
    return text.replace(old, new)


BREACHES = {
    "float money": (
        "wallet_pnl_summary_final",
        "toDecimal256(realized_pnl, 6) / 1000000 AS realized_pnl_usd", "realized_pnl / 1e6 AS realized_pnl_usd",
        [Violation("wallet_pnl_summary_final_test", "realized_pnl_usd", "no Float32/Float64/BFloat16 column",
                   "Float64"),
         Violation("wallet_pnl_summary_final_test", "realized_pnl_usd", "Decimal(76, 6)", "Float64")]),
    "0x condition id": (
        "realized_pnl_by_market_final",
        "replaceRegexpOne(lower(p.condition_id), '^0x', '') AS condition_id_norm", "p.condition_id AS condition_id_norm",
        [("realized_pnl_by_market_final_test", "condition_id_norm", "values matching ^[0-9a-f]{64}$",
          "3 of 3 sampled rows not, e.g. '0x")]),
    "wrong scale": (
        "wallet_realized_pnl_final",
        "toDecimal256(realized_pnl, 6) / 1000000", "toDecimal256(realized_pnl, 6) / 1000",
        [("wallet_realized_pnl_final_test", "realized_pnl_usd", "= realized_pnl / 1000000",
          "2 of 3 sampled rows not, e.g. '")]),  # A and B; C's 0 is 0 at any scale
    "renamed column": (
        "realized_pnl_by_market_final",
        "AS market_id,", "AS negrisk_market_id,",
        [Violation("realized_pnl_by_market_final_test", "market_id", "Nullable(String)", "no such column")]),
}


@pytest.mark.parametrize("case", list(BREACHES))
def test_each_breach_is_named(fresh_db, case):
    view, old, new, expected = BREACHES[case]
    _scenario(fresh_db)
    create_test_views(fresh_db)
    fresh_db.command(_render(view, old, new))
    got = check_view_contract(fresh_db, "_test")
    if isinstance(expected[0], Violation):
        assert got == expected
    else:  # a sampled breach: the finding says how many sampled rows broke it and shows one
        assert [(v.view, v.column, v.expected) for v in got] == [e[:3] for e in expected]
        assert got[0].found.startswith(expected[0][3]), got[0]
    assert check_view_contract(fresh_db) == []  # the deployed names were not touched


def test_a_missing_view_and_a_bounded_sample(fresh_db):
    _scenario(fresh_db)
    create_test_views(fresh_db)
    fresh_db.command("DROP VIEW wallet_realized_pnl_final_test")
    (v,) = check_view_contract(fresh_db, "_test", sample=1)
    assert (v.view, v.column, v.found) == ("wallet_realized_pnl_final_test", "", "no such view")
    fresh_db.command(_render("realized_pnl_by_market_final",
                             "replaceRegexpOne(lower(p.condition_id), '^0x', '') AS condition_id_norm",
                             "p.condition_id AS condition_id_norm"))
    found = {x.column: x.found for x in check_view_contract(fresh_db, "_test", sample=1)}
    assert found["condition_id_norm"].startswith("1 of 1 sampled rows not")
    with pytest.raises(ValueError, match="sample=0"):
        check_view_contract(fresh_db, "_test", sample=0)
    with pytest.raises(ValueError, match="suffix"):
        check_view_contract(fresh_db, "; DROP TABLE x")


def test_a_view_that_cannot_answer_is_one_finding(fresh_db):
    _scenario(fresh_db)
    create_test_views(fresh_db)
    fresh_db.command("RENAME TABLE neg_risk_questions TO neg_risk_questions_away")
    try:
        got = check_view_contract(fresh_db, "_test")
    finally:
        fresh_db.command("RENAME TABLE neg_risk_questions_away TO neg_risk_questions")
    assert [(v.view, v.column, v.expected) for v in got] == [
        ("realized_pnl_by_market_final_test", "", "a view that answers a query")]
    assert got[0].found.startswith("an error: ") and "neg_risk_questions" in got[0].found
    assert check_view_contract(fresh_db, "_test") == []


@pytest.mark.parametrize("text, problem", [
    ("views: []\n", "views: a mapping"),
    ("views: {v: {columns: {a: {pattern: x}}}}\n", "views.v.columns.a: type is required"),
    ("views: {v: {columns: {a: {type: String, pattern: '('}}}}\n", "views.v.columns.a.pattern: '(' is not a"),
    ("views: {v: {columns: {a: {type: String, micro: b}}}}\n", "views.v.columns.a.micro: 'b' is not a column of v"),
    ("views: {v: {columns: {a: {type: String, unit: usd}}}}\n", "unknown keys ['unit']"),
    ("views: {v: [\n", "not YAML"),
])
def test_a_malformed_contract_file_is_one_line_naming_it(tmp_path, text, problem):
    f = tmp_path / "contract.yaml"
    f.write_text(text, encoding="utf-8")
    with pytest.raises(ViewContractError) as exc:
        load_contract(f)
    assert str(exc.value).startswith(f"{f}: ") and problem in str(exc.value) and "\n" not in str(exc.value)
    assert CONTRACT_FILE.name == "view_contract.yaml"


def _pass(client, stage):
    run = gates.new_run_id()
    gates.record(client, run_id=run, stage=stage, check="some_check", outcome="passed")
    gates.record(client, run_id=run, stage=stage, check=gates.STAGE_COMPLETE, outcome="passed")


def _dryrun(client) -> list[Violation]:
    """What tests/stages/test_5_dryrun.py records: the contract check's outcome, then the stage's verdict."""
    run = gates.new_run_id()
    violations = check_view_contract(client, "_test")
    gates.record(client, run_id=run, stage="dryrun", check="view_contract",
                 outcome="failed" if violations else "passed", detail="; ".join(map(str, violations)))
    ok, why = gates.stage_summary(client, run, "dryrun", ["view_contract"])
    gates.record(client, run_id=run, stage="dryrun", check=gates.STAGE_COMPLETE, outcome="passed" if ok else "failed",
                 detail=why)
    return violations


def test_a_breach_in_the_test_views_fails_dryrun_and_deploy_refuses(fresh_db):
    _scenario(fresh_db)
    for s in ("backfill", "sync", "cleanup", "validate"):
        _pass(fresh_db, s)
    create_test_views(fresh_db)
    fresh_db.command(_render("wallet_pnl_summary_final", "toDecimal256(total_pnl, 6) / 1000000 AS total_pnl_usd",
                             "toFloat64(total_pnl) / 1e6 AS total_pnl_usd"))
    assert _dryrun(fresh_db)
    assert gates.missing_gates(fresh_db, "deploy")[0].startswith("dryrun ")
    before = {v: view_definition(fresh_db, v) for v in FINAL_VIEWS}
    with pytest.raises(gates.GateError, match="stage 'deploy' refused: missing gate dryrun"):
        deploy(fresh_db, Guard("embedded", throwaway=True), [])
    assert {v: view_definition(fresh_db, v) for v in FINAL_VIEWS} == before
    assert fresh_db.query("SELECT count() FROM deploy_log").result_rows == [(0,)]

    create_test_views(fresh_db)  # the views as the SQL files define them keep the contract: dryrun passes
    assert _dryrun(fresh_db) == []
    res = deploy(fresh_db, Guard("embedded", throwaway=True), [])
    assert sorted(res.views) == sorted(DEPLOYED_VIEWS)
    assert check_view_contract(fresh_db) == []
