"""Stage 5, dry run: _test views, the public view contract on them, non-zero counts, wallet checks on them, and an
API spot-check."""
import json

import httpx
import pytest

from harness.gates.deploy import FINAL_VIEWS, create_test_views, wallet_values
from harness.gates.view_contract import CONTRACT_FILE, check_view_contract
from tests.stages.conftest import run_wallet_case, stage_complete

pytestmark = pytest.mark.dryrun


def test_create_test_views(pipeline, request):
    defs = create_test_views(pipeline.client)
    request.node.gate_detail = json.dumps({"summary": f"created {sorted(defs)}"})
    assert all(defs.values())


def test_view_contract(pipeline, request):
    """The _test views against harness/data/view_contract.yaml: deploy runs only after this passed."""
    violations = check_view_contract(pipeline.client, "_test")
    request.node.gate_detail = json.dumps({
        "summary": f"{len(violations)} breach(es) of {CONTRACT_FILE.name}" + (f": {violations[0]}" if violations else ""),
        "violations": [str(v) for v in violations[:50]]})
    assert not violations, "\n".join(map(str, violations))


@pytest.mark.parametrize("view", FINAL_VIEWS)
def test_test_view_has_rows(pipeline, request, view):
    n = pipeline.client.query(f"SELECT count() FROM `{view}_test`").result_rows[0][0]
    request.node.gate_detail = json.dumps({"summary": f"{view}_test: {n} rows"})
    assert n > 0


def test_wallet_on_test_views(pipeline, request, wallet_case):
    run_wallet_case(request, pipeline, wallet_case, suffix="_test")


@pytest.fixture(scope="module")
def api_url(pipeline):
    from harness.serve.app import serve

    server = serve(lambda: pipeline.client, view_suffix="_test")
    yield server.url
    server.stop()


def test_api_matches_database(pipeline, request, api_url):
    # ten wallets drawn in SQL (seeded): the spot-check reads ten rows, whatever the warehouse's size
    sample = [r[0] for r in pipeline.client.query(
        "SELECT wallet FROM wallet_pnl_summary_final_test ORDER BY cityHash64(wallet, 7), wallet LIMIT 10").result_rows]
    db = wallet_values(pipeline.client, sample, suffix="_test")
    mismatches = []
    with httpx.Client(base_url=api_url, timeout=30) as http:
        for w in sample:
            r = http.get(f"/wallets/{w}/pnl")
            assert r.status_code == 200, r.text
            body = r.json()
            got = {k: _micros(body[k]) for k in ("realized", "unrealized", "total")}
            if body.get("ui"):  # the average-cost (UI) figures served beside the cash-flow ones
                got.update(ui_realized=_micros(body["ui"]["realized"]), ui_total=_micros(body["ui"]["total"]))
            if got != db[w]:
                mismatches.append((w, got, db[w]))
    request.node.gate_detail = json.dumps({"summary": f"{len(sample)} wallets via {api_url}: "
                                                      f"{len(mismatches)} mismatch(es)"})
    assert mismatches == []


def test_api_unknown_wallet_is_404(api_url, request):
    with httpx.Client(base_url=api_url, timeout=30) as http:
        r = http.get("/wallets/0x" + "0" * 39 + "1/pnl")
        bad = http.get("/wallets/not-an-address/pnl")
    request.node.gate_detail = json.dumps({"summary": f"unknown -> {r.status_code}, malformed -> {bad.status_code}"})
    assert r.status_code == 404 and "error" in r.json()
    assert bad.status_code == 422


def _micros(text: str) -> int:
    from decimal import Decimal

    return int(Decimal(text) * 1_000_000)


def test_stage_complete(pipeline, request):
    stage_complete(pipeline, "dryrun", request)
