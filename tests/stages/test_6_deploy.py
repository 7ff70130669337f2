"""Stage 6, deploy (needs --prod): backup, real views, final validation, a recorded deploy."""
import json

import pytest

from harness.gates.deploy import DEPLOYED_VIEWS, deploy, view_definition
from harness.gates.wallets import load_wallets
from tests.stages.conftest import _wallet_files, stage_complete

pytestmark = pytest.mark.deploy


def test_deploy(pipeline, request):
    wallets = []
    for path, real in _wallet_files(pipeline.options):
        if not (real and pipeline.world is not None):  # real wallets have no data in a simulated warehouse
            wallets.extend(load_wallets(path))
    res = deploy(pipeline.client, pipeline.guard, wallets)
    pipeline.notes["deploy"] = res
    request.node.gate_detail = json.dumps({
        "summary": f"deploy {res.deploy_id}: {len(res.backups)} tables backed up, views {list(res.views)}, "
                   f"{sum(c.outcome == 'passed' for c in res.checks)}/{len(res.checks)} wallets passed"})


def test_deploy_recorded(pipeline, request):
    res = pipeline.notes["deploy"]
    rows = pipeline.client.query(
        "SELECT view_name, new_definition FROM deploy_log WHERE deploy_id = {d:String} AND action = 'deploy' "
        "AND new_definition != ''",
        parameters={"d": res.deploy_id}).result_rows
    assert sorted(v for v, _ in rows) == sorted(DEPLOYED_VIEWS)
    for v, new in rows:
        assert new == view_definition(pipeline.client, v)
    assert not any(view_definition(pipeline.client, v + "_test") for v in DEPLOYED_VIEWS)
    request.node.gate_detail = json.dumps({"summary": f"deploy_log holds {len(rows)} view changes"})


def test_stage_complete(pipeline, request):
    stage_complete(pipeline, "deploy", request)
