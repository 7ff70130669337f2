"""Fourteen days of production: a chain-world growing day by day on anvil, `python -m harness run` each day as the
daily job runs it, the deployed views against contract-state truth after every day, and the faults of a real
operation on chosen days (issue 20).

Each day's line (exit codes, wallets equal, freshness, seconds) is written to ``days.txt`` in the test's reports
directory and printed with ``-s``. Cost: about 20-35 s per day on 2 loaded cores (each day is a full stage run).
"""
from __future__ import annotations

import json
import time

import pytest

from harness.chain.contracts.artefacts import available
from harness.chain.faultproxy import FaultPlan, FaultProxy
from harness.chain.node import free_port
from harness.worlds.chain_days import DailyWorld, Operation, Target
from harness.worlds.chain_world import start_node
from harness.worlds.model import WorldParams
from tests.support.receiver import Receiver

pytestmark = [pytest.mark.anvil, pytest.mark.timeout(3600)]

#: Small on purpose: the days, not the world, are what is tested (about 20 wallets with P&L each day). Seed 8 has
#: trades, splits, merges, conversions and resolutions over the days, and day 1 already prices 99% of open shares
#: (the backfill gate's limit); day 1 holds 45% of the world, so the first backfill finds markets resolved.
WORLD = WorldParams(seed=8, wallets=20, markets=6, fills=280)
DAYS = 14


@pytest.fixture
def target(tmp_path):
    """The warehouse standing in for production: a warehouse-server of its own (ClickHouse's HTTP interface on
    loopback), reached as production is, `run --target prod` with CLICKHOUSE_URL/USER/PASSWORD/DATABASE; embedded
    chDB (`run --target embedded`) only on a checkout without harness.warehouse.server."""
    import secrets

    try:
        from harness.warehouse import server as warehouse_server
    except ImportError:
        yield Target("embedded", "daily_prod", {"HARNESS_WAREHOUSE_DIR": str(tmp_path / "warehouse")})
        return
    password = secrets.token_hex(12)
    server = warehouse_server.start(tmp_path / "server-data", user="harness", password=password)
    try:
        yield Target("prod", "daily_prod", {"CLICKHOUSE_URL": server.url, "CLICKHOUSE_USER": "harness",
                                             "CLICKHOUSE_PASSWORD": password, "CLICKHOUSE_DATABASE": "daily_prod"})
    finally:
        server.stop()


def _kill_mid_sync(proxy: FaultProxy):
    """True (and the node frozen) once the sync's first getLogs was answered: the run is mid-ingest."""
    def ready() -> bool:
        if proxy.stats.methods["eth_getLogs"] < 1:
            return False
        proxy.gate.clear()  # every later request waits: the run stays where it is until killed
        time.sleep(1.5)
        return True
    return ready


def test_fourteen_days_of_production(anvil_bin, target, tmp_path):
    if why := available():
        pytest.skip(why)
    node = start_node(WORLD)
    receiver = Receiver().__enter__()
    dead = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    proxy = FaultProxy(node.url, FaultPlan(rate=0.0))
    reports = tmp_path / "reports"
    days = []
    try:
        op = Operation(DailyWorld(WORLD, DAYS, node, history_pct=45), target, reports, notify_url=receiver.url)
        log = lambda rep: (days.append(rep), print(rep.line()),
                           (reports / "days.txt").open("a").write(rep.line() + "\n"))
        log(op.day(node.url))                                     # 1: backfill..deploy
        log(op.day(node.url))                                     # 2, 3: the daily sync..deploy
        log(op.day(node.url))
        log(op.day(f"{dead},{node.url}", fault="first RPC URL dead"))  # 4: failover to the second URL
        log(op.day(node.url, fault="missed day", run=False))     # 5: no run at all
        log(op.day(node.url, fault="after a missed day"))        # 6: the sync fills day 5 too
        log(op.day(node.url))                                     # 7, then its last block is reorged
        op.world.reorg_last_block()
        log(op.day(node.url, fault="after a reorg"))             # 8: retracts the vanished logs
        log(op.day(proxy.url, fault="SIGKILL mid-sync", kill=_kill_mid_sync(proxy)))  # 9
        proxy.gate.set()
        log(op.day(node.url, fault="after the kill", mend=True))  # 10: refused; mended by a new backfill
        alerts_before = len(receiver.bodies)
        log(op.day(node.url, fault="table edited by hand", mend=True, before_run=lambda: op.edit_by_hand(
            "INSERT INTO winning_index (condition_id, payout_numerators, payout_denominator) "
            "VALUES ('0x" + "ab" * 32 + "', [1, 0], 1)")))        # 11: refused with an alert; mended
        alerts = receiver.bodies[alerts_before:]
        log(op.day(dead, fault="RPC down, receiver down",
                   notify_url=f"http://127.0.0.1:{free_port()}/hook"))  # 12: fails; the alert cannot go out
        log(op.day(node.url, fault="after a failed sync"))       # 13: nothing was written: the chain holds
        log(op.day(node.url))                                     # 14
    finally:
        (reports / "days.json").write_text(json.dumps([rep.__dict__ for rep in days], indent=1, default=str))
        proxy.close()
        receiver.__exit__(None, None, None)
        node.stop()

    table = "\n".join(r.line() for r in days)
    by_day = {r.day: r for r in days}
    ok_days = [1, 2, 3, 4, 6, 7, 8, 10, 11, 13, 14]
    for d in ok_days:
        r = by_day[d]
        assert r.exit_code == 0, table
        assert r.differ == [] and r.equal >= 15, f"day {d}: {r.differ[:5]}\n{table}"
        assert r.freshness == "ok", table
    # day 1 backfill..deploy, then plain sync..deploy days: none refused
    assert [s for r in days for s, _c, _t in r.runs][:4] == ["backfill..deploy"] + ["sync..deploy"] * 3, table
    assert [len(by_day[d].runs) for d in (2, 3, 4, 6, 7, 8, 13, 14)] == [1] * 8, table
    # the missed day: no run, the views still show day 4 (behind the chain)
    assert by_day[5].runs == [] and by_day[5].differ, table
    # the kill: the run died by SIGKILL; the next day's run is refused (exit 3), the new backfill gate mends it
    assert by_day[9].runs[0][1] == -9, table
    assert [(s, c) for s, c, _t in by_day[10].runs] == [("sync..deploy", 3), ("backfill..deploy", 0)], table
    # the hand edit: refused naming the backfill gate, an alert received, then mended
    assert [(s, c) for s, c, _t in by_day[11].runs] == [("sync..deploy", 3), ("backfill..deploy", 0)], table
    assert [(a["outcome"], a["stage"]) for a in alerts] == [("refused", "sync")], alerts
    assert "missing gate backfill" in alerts[0]["summary"] and "none reaches it" in alerts[0]["summary"]
    # RPC down with the alert receiver down: the run fails (exit 1, not changed by the undelivered alert)
    assert by_day[12].exit_code == 1 and by_day[12].differ, table
