"""Schemathesis against the published OpenAPI schema: generated addresses and parameters, every response checked
against the declared status codes, content types and response schemas, with a bounded example budget."""
from __future__ import annotations

import pytest
import schemathesis
from hypothesis import settings

from harness.serve import app as api
from tests.integration.test_api import api_db, fixture_world  # noqa: F401 - api_db is a fixture

# The schema is loaded at import (schemathesis.pytest.from_fixture breaks on pytest 9: Function._nodeid); the
# app only opens its warehouse client on the first request, after the fixture below has provided it.
_clients: dict[str, object] = {}
schema = schemathesis.openapi.from_asgi("/openapi.json", api.create_app(lambda: _clients["api"]))


@pytest.fixture(scope="module", autouse=True)
def _warehouse(api_db):  # noqa: F811
    fixture_world().insert(api_db)  # the schema's example wallet (0x…aa) is one of these, so 200s get checked
    api_db.insert("wallet_leaderboard", [[p, m, -v, w, v, 1_714_521_600] for p in ("1d", "7d", "30d", "all")
                                         for m in ("total", "realized", "ui_total", "volume")
                                         for w, v in (("0x" + "aa".rjust(40, "0"), 5_000_000),
                                                      ("0x" + "bb".rjust(40, "0"), -1))],
                  column_names=["period", "metric", "rank_key", "wallet", "pnl", "as_of"])  # leaderboard 200s too
    _clients["api"] = api_db
    yield
    _clients.clear()


@schema.parametrize()
@settings(max_examples=25)
def test_api_honours_its_schema(case):
    case.call_and_validate()


def test_new_endpoints_are_in_the_schema():
    """Issue 16's and issue 23's endpoints are among the operations parametrized above."""
    paths = set(schema.raw_schema["paths"])
    assert {"/leaderboard", "/wallets/{address}/pnl.csv", "/wallets/{address}/positions",
            "/wallets/{address}/pnl/history", "/wallets/{address}/activity", "/wallets/{address}/activity.csv",
            "/leaderboard/rank/{address}"} <= paths
