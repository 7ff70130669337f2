"""One writer at a time: two rebuilds (or ingests) on one warehouse never interleave.

Two threads with their own clients in one process reproduce on the embedded backend what two processes do on a
server: before the lease, winning_index doubled and wallet_market_pnl grew 2.4x.
"""
from __future__ import annotations

import threading
from dataclasses import replace
from pathlib import Path

import pytest

from harness.ingest import ingest_world
from harness.pnl import build
from harness.warehouse import connect, lease

WORLD = Path(__file__).resolve().parents[2] / "fixtures" / "world"
pytestmark = pytest.mark.skipif(not (WORLD / "logs.jsonl.gz").is_file(), reason="fixture world not generated")


def _snapshot(client) -> dict:
    return {t: sorted(map(tuple, client.query(f"SELECT * FROM `{t}`").result_rows)) for t in build.DERIVED_TABLES}


def _together(fns):
    """Run each fn in its own thread, started at the same moment; (results, errors) in order."""
    gate = threading.Barrier(len(fns))
    results, errors = [None] * len(fns), [None] * len(fns)

    def run(i, fn):
        gate.wait()
        try:
            results[i] = fn()
        except Exception as exc:  # noqa: BLE001 - collected and asserted on below
            errors[i] = exc

    threads = [threading.Thread(target=run, args=(i, fn)) for i, fn in enumerate(fns)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    return results, errors


@pytest.fixture
def world_db(fresh_db, warehouse_settings):
    ingest_world(fresh_db, WORLD)
    build.rebuild(fresh_db)
    db = fresh_db.query("SELECT currentDatabase()").result_rows[0][0]
    return fresh_db, replace(warehouse_settings, database=db)


def test_two_concurrent_rebuilds_leave_correct_tables(world_db):
    client, settings = world_db
    expected = _snapshot(client)
    clients = [connect(settings, create_database=False) for _ in range(3)]
    results, errors = _together([lambda c=c: build.rebuild(c) for c in clients])
    for e in errors:  # a second writer either waited its turn or was refused naming the holder
        assert e is None or (isinstance(e, lease.LeaseHeld) and "is being written by" in str(e)), repr(e)
    assert any(r is not None for r in results)
    assert _snapshot(client) == expected
    names = [r[0] for r in client.query("SELECT name FROM system.tables WHERE database = currentDatabase() "
                                        "AND (name LIKE '%\\_new%' OR name LIKE 'writer\\_lease%')").result_rows]
    assert names == []


def test_a_writer_that_cannot_wait_is_refused_naming_the_holder(world_db):
    client, settings = world_db
    other = connect(settings, create_database=False)
    with lease.writer_lease(client, "rebuild by the first operator"):
        with pytest.raises(lease.LeaseHeld) as exc:
            with lease.writer_lease(other, "second rebuild", wait=0.2):
                pass
        assert "rebuild by the first operator" in str(exc.value)
        with pytest.raises(lease.LeaseHeld):
            build.rebuild(other, lease_wait=0.2)
        with pytest.raises(lease.LeaseHeld):
            ingest_world(other, WORLD, lease_wait=0.2)
        from harness.gates.deploy import Guard, cleanup_broken_tables, rollback

        with pytest.raises(lease.LeaseHeld):  # destructive steps are writers too
            cleanup_broken_tables(other, Guard("embedded"), lease_wait=0.2)
        with pytest.raises(lease.LeaseHeld):
            rollback(other, Guard("embedded"), lease_wait=0.2)
    with lease.writer_lease(other, "after release", wait=0):
        pass


def test_an_expired_or_dead_holder_is_taken_over(world_db):
    client, settings = world_db
    other = connect(settings, create_database=False)
    held = lease.acquire(client, "crashed rebuild", ttl=0.5)
    with pytest.raises(lease.LeaseHeld):
        lease.acquire(other, "second", wait=0)
    import time

    time.sleep(0.7)  # expired: the next writer takes it over, and the old holder finds out when it renews
    taken = lease.acquire(other, "second", wait=0)
    with pytest.raises(lease.LeaseLost):
        held.renew()
    taken.release()
    # a holder on this host whose process is gone is dead at once, whatever its expiry
    client.command(
        "CREATE TABLE writer_lease ENGINE = MergeTree ORDER BY tuple() AS SELECT 'dead run' AS owner, "
        "'t0' AS token, toUInt32(2147483646) AS pid, hostName() AS host, now64(3) AS started, "
        "now64(3) + INTERVAL 1 HOUR AS expires")
    lease.acquire(other, "after a dead holder", wait=0).release()


def test_a_build_run_only_touches_its_own_new_tables(world_db):
    """Build tables carry the run id: a leftover of another run is not a table this run writes or reads."""
    client, _ = world_db
    client.command("CREATE TABLE winning_index_new AS winning_index")
    client.command("INSERT INTO winning_index_new SELECT * FROM winning_index")  # a crashed run's leftovers
    expected = _snapshot(client)
    build.rebuild(client)
    assert _snapshot(client) == expected
