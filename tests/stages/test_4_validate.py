"""Stage 4, validate: reference wallets against computed P&L, and the formula against its oracle."""
import json

import pytest

from harness.pnl.build import create_views
from tests.stages.conftest import run_wallet_case, stage_complete

pytestmark = pytest.mark.validate


def test_views_for_validation(pipeline):
    """Validation reads the same view definitions the deploy will install, under a _validate suffix."""
    create_views(pipeline.client, suffix="_validate")


def test_wallet(pipeline, request, wallet_case):
    run_wallet_case(request, pipeline, wallet_case, suffix="_validate", check_wallet=True)


@pytest.fixture(scope="module")
def cross_check(pipeline, wallet_addresses):
    """One bounded cross-check for the stage: reference wallets plus a seeded sample, only their rows read."""
    from harness.pnl.crosscheck import DEFAULT_SAMPLE, cross_check

    k = pipeline.options.getoption("--oracle-sample")
    return cross_check(pipeline.client, wallets=wallet_addresses, sample=DEFAULT_SAMPLE if k is None else k,
                       seed=pipeline.options.getoption("--oracle-seed"), suffix="_validate", cutoff=pipeline.cutoff)


def _detail(check, diffs) -> str:
    return json.dumps({"summary": check.summary(), "seed": check.seed, "wallets": list(check.wallets),
                       "first": [str(d) for d in diffs[:5]]})


def test_sql_matches_oracle(request, cross_check):
    """The reference wallets and a seeded sample: cash-flow P&L recomputed in pure Python from only their rows must
    equal the SQL views to the micro-dollar, and no contract may hold a P&L row. The wallets checked are recorded."""
    request.node.gate_detail = _detail(cross_check, cross_check.cashflow)
    assert cross_check.wallets, "no wallet to check: the warehouse names none and no reference wallet is given"
    assert cross_check.cashflow == [] and cross_check.contracts_with_rows == [], cross_check.summary()


def test_ui_sql_matches_oracle(request, cross_check):
    """The same wallets' average-cost (UI) P&L in SQL against the pure-Python pnl-subgraph oracle."""
    request.node.gate_detail = _detail(cross_check, cross_check.avgcost)
    assert cross_check.wallets and cross_check.avgcost == [], cross_check.summary()


def test_reconcile_with_node(pipeline, request, wallet_addresses):
    """With a node (--rpc-url): the reference wallets' and a seeded sample's net shares per position id equal
    balanceOfBatch on the ConditionalTokens contract at the watermark: contract state, not a reading of events."""
    from harness.gates.reconcile import DEFAULT_SAMPLE, reconcile_gate

    if not pipeline.rpc_url:
        request.node.gate_detail = json.dumps({"summary": "no node given (--rpc-url): nothing to reconcile with"})
        pytest.skip("no data: no --rpc-url, so no contract state to reconcile with")
    res = reconcile_gate(pipeline.client, pipeline.rpc_url, wallet_addresses, sample=DEFAULT_SAMPLE)
    request.node.gate_detail = json.dumps({"summary": str(res).splitlines()[0], "wallets": res.wallets[:50],
                                           "first": [str(m) for m in res.mismatches[:5]]})
    assert res.ok, str(res)[:2000]


def test_formula_properties(request):
    """The domain notes' worked vectors and the hypothesis properties of the formula (their own pytest run)."""
    from harness.gates.pipeline import run_formula_tests

    ok, summary = run_formula_tests()
    request.node.gate_detail = json.dumps({"summary": summary})
    assert ok, summary


def test_stage_complete(pipeline, request):
    from harness.gates.deploy import table_exists

    for v in ("realized_pnl_by_market_final", "wallet_realized_pnl_final", "wallet_pnl_summary_final"):
        if table_exists(pipeline.client, v + "_validate"):
            pipeline.client.command(f"DROP VIEW `{v}_validate`")
    stage_complete(pipeline, "validate", request)
