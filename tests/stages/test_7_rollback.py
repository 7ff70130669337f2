"""Rollback (`-m rollback`): restore the view definitions the last deploy replaced."""
import json

import pytest

from harness.gates.deploy import last_deploy_id, rollback, view_definition

pytestmark = pytest.mark.rollback


def test_rollback(pipeline, request):
    deploy_id = last_deploy_id(pipeline.client)
    expected = dict(pipeline.client.query(
        "SELECT view_name, previous_definition FROM deploy_log WHERE deploy_id = {d:String} AND action = 'deploy'",
        parameters={"d": deploy_id}).result_rows)
    rollback(pipeline.client, pipeline.guard, deploy_id=deploy_id)
    # Judged on the warehouse itself: each view is back to its recorded definition (or gone if it was new),
    # and every restored view still answers a query.
    for view, prev in expected.items():
        assert view_definition(pipeline.client, view) == prev
        if prev:
            pipeline.client.query(f"SELECT count() FROM `{view}`")
    # An earlier deploy may be live again now (that is what rolling back to it means); this one must not be.
    assert last_deploy_id(pipeline.client) != deploy_id, "the deploy is still listed as live after its rollback"
    request.node.gate_detail = json.dumps({"summary": f"rolled back {deploy_id}: "
                                                      f"{sum(bool(p) for p in expected.values())} restored, "
                                                      f"{sum(not p for p in expected.values())} dropped"})
