"""The whole path on the simulator's fixture world: ingest its logs, rebuild, create the views, serve the API over
HTTP, and every wallet's P&L from the API equals the simulator's exact ledger (truth.json). Skips until the world
exists (python -m harness simulate writes it)."""
from __future__ import annotations

import gzip
import json
import os
import secrets
from dataclasses import replace
from decimal import Decimal

import httpx
import pytest

from harness.config import PROJECT_ROOT
from harness.serve import app as api
from harness.warehouse import connect, drop_database

WORLD = PROJECT_ROOT / "fixtures" / "world"


def _truth() -> dict[str, tuple[int, int, int]]:
    raw = json.loads((WORLD / "truth.json").read_text())
    wallets = raw.get("wallets", raw) if isinstance(raw, dict) else raw
    if isinstance(wallets, list):
        wallets = {w["address"]: w for w in wallets}
    return {a.lower(): tuple(int(v[k]) for k in ("realized", "unrealized", "total")) for a, v in wallets.items()}


@pytest.fixture(scope="module")
def world_api(warehouse_settings):
    if not (WORLD / "truth.json").is_file() or not (WORLD / "logs.jsonl.gz").is_file():
        pytest.skip(f"no simulated world at {WORLD} (python -m harness simulate writes it)")
    if warehouse_settings.prod:
        pytest.skip("API tests never run against production")
    from harness.ingest import ingest_world
    from harness.pnl.build import create_views, rebuild
    from harness.warehouse.schema import apply_schema

    settings = replace(warehouse_settings, database=f"apiw_{os.getpid()}_{secrets.token_hex(4)}")
    client = connect(settings)
    try:
        apply_schema(client)
        ingest_world(client, WORLD)
        rebuild(client)
        create_views(client)
        with api.serve(lambda: client) as srv:
            yield srv.url
    finally:
        drop_database(client, settings.database)


def _micros(text: str) -> int:
    n = Decimal(text) * 1_000_000
    assert n == n.to_integral_value(), text
    return int(n)


def test_api_equals_simulator_ledger(world_api):
    truth = _truth()
    bad = []
    with httpx.Client(base_url=world_api, timeout=60) as http:
        for wallet, want in sorted(truth.items()):
            r = http.get(f"/wallets/{wallet}/pnl")
            if want == (0, 0, 0) and r.status_code == 404:
                continue  # a wallet that never touched a market has no row, and nothing to report
            if r.status_code != 200:
                bad.append((wallet, r.status_code, r.text[:200]))
                continue
            body = r.json()
            got = tuple(_micros(body[k]) for k in ("realized", "unrealized", "total"))
            if got != want:
                bad.append((wallet, got, want))
    assert bad == [], f"{len(bad)} of {len(truth)} wallets differ, e.g. {bad[:3]}"


TRANSFER_TOPICS = {"0xc3d58168c5ae7397731d063d5bbf3d657854427343f4c083240f7aacaa2d0f62",  # TransferSingle
                   "0x4a39dc06d4c0dbc64b70af90fd698a233a518aa5d07e595d983b8c0526c8f7fb"}  # TransferBatch


def test_world_health_has_the_world_watermark(world_api):
    """The API's watermark lies between the newest ERC1155 transfer (always ingested into a watermark table)
    and the newest log of any kind in the world's file (removed logs aside)."""
    with gzip.open(WORLD / "logs.jsonl.gz", "rt", encoding="utf-8") as fh:
        logs = [log for log in map(json.loads, filter(str.strip, fh)) if not log.get("removed")]
    newest = max(int(log["blockNumber"], 16) for log in logs)
    newest_transfer = max(int(log["blockNumber"], 16) for log in logs if log["topics"][0].lower() in TRANSFER_TOPICS)
    h = httpx.get(world_api + "/health", timeout=30).json()
    assert h["warehouse_reachable"] is True
    assert newest_transfer <= h["watermark"]["block"] <= newest
