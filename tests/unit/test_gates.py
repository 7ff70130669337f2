"""Stage order: a stage starts only when every earlier stage passed on the current watermark."""
import re
from datetime import UTC, datetime

import pytest

from harness import gates
from harness.gates import GateError, Watermark


def _raise_watermark(client, block):
    """Put one raw row at ``block`` so the data watermark moves (as an ingest would)."""
    client.insert(
        "erc1155_transfers",
        [["0x" + f"{block:064x}", 0, block, datetime.fromtimestamp(1_700_000_000 + block, UTC), 0,
          "0x" + "00" * 20, "0x" + "00" * 20, "0x" + "11" * 20, 1, 1, 1, 0]],
        column_names=["tx_hash", "log_index", "block_number", "block_time", "sub_index", "operator", "from_addr",
                      "to_addr", "token_id", "value", "_version", "_deleted"],
    )


def _pass_stage(client, stage, run_id=None, started_on=""):
    """One check and stage_complete, as tests/stages/conftest.py records them (``started_on``: admitted on)."""
    run_id = run_id or gates.new_run_id()
    gates.record(client, run_id=run_id, stage=stage, check="some_check", outcome="passed")
    ok, why = gates.stage_summary(client, run_id, stage)
    gates.record(client, run_id=run_id, stage=stage, check=gates.STAGE_COMPLETE,
                 outcome="passed" if ok else "failed", detail={"summary": why, "started_on": started_on})
    return run_id


def test_watermark_follows_raw_data(fresh_db):
    assert gates.watermark(fresh_db) == Watermark(0, 0)
    _raise_watermark(fresh_db, 100)
    assert gates.watermark(fresh_db) == Watermark(100, 1_700_000_100)


def test_first_stage_needs_nothing(fresh_db):
    assert gates.missing_gates(fresh_db, "backfill") == []


def test_deploy_without_any_gate_names_all_of_them(fresh_db):
    with pytest.raises(GateError) as exc:
        gates.require_previous(fresh_db, "deploy")
    msg = str(exc.value)
    for s in ("backfill", "sync", "cleanup", "validate", "dryrun"):
        assert re.search(rf"{s} \(needs a passed run on the current data, block 0 fingerprint [0-9a-f]{{16}}; "
                         r"last: never run\)", msg)


def test_full_chain_on_one_watermark_opens_deploy(fresh_db):
    _raise_watermark(fresh_db, 10)
    for s in gates.STAGES[:-1]:
        assert gates.missing_gates(fresh_db, s) == []
        _pass_stage(fresh_db, s)
    assert gates.require_previous(fresh_db, "deploy") == Watermark(10, 1_700_000_010)


def test_a_failed_check_blocks_the_next_stage(fresh_db):
    _raise_watermark(fresh_db, 10)
    _pass_stage(fresh_db, "backfill")
    run = gates.new_run_id()
    gates.record(fresh_db, run_id=run, stage="sync", check="idempotent", outcome="failed", detail="rows changed")
    ok, why = gates.stage_summary(fresh_db, run, "sync")
    assert not ok and "idempotent=failed" in why
    gates.record(fresh_db, run_id=run, stage="sync", check=gates.STAGE_COMPLETE, outcome="failed", detail=why)
    missing = gates.missing_gates(fresh_db, "cleanup")
    assert len(missing) == 1 and missing[0].startswith("sync") and "1 check(s) failed" in missing[0]


def test_new_data_invalidates_validation_but_sync_carries_backfill(fresh_db):
    _raise_watermark(fresh_db, 10)
    for s in ("backfill", "sync", "cleanup", "validate", "dryrun"):
        _pass_stage(fresh_db, s)
    start = gates.data_fingerprint(fresh_db)
    _raise_watermark(fresh_db, 20)  # a sync brought new blocks
    missing = {m.split(" ")[0] for m in gates.missing_gates(fresh_db, "deploy")}
    assert missing == {"backfill", "sync", "cleanup", "validate", "dryrun"}
    _pass_stage(fresh_db, "sync", started_on=start)  # sync re-proves coverage at the new watermark ...
    missing = {m.split(" ")[0] for m in gates.missing_gates(fresh_db, "deploy")}
    assert missing == {"cleanup", "validate", "dryrun"}  # ... but checks of the data must be redone


def test_checks_on_two_versions_of_the_data_do_not_make_a_stage(fresh_db):
    run = gates.new_run_id()
    _raise_watermark(fresh_db, 5)
    gates.record(fresh_db, run_id=run, stage="validate", check="a", outcome="passed")
    _raise_watermark(fresh_db, 6)
    gates.record(fresh_db, run_id=run, stage="validate", check="b", outcome="passed")
    ok, why = gates.stage_summary(fresh_db, run, "validate")
    assert not ok and "data changed since checks ran" in why and ": a" in why


def _tamper_same_block(client):
    """Change a row's contents without moving the highest block (what the watermark alone cannot see)."""
    client.command("ALTER TABLE erc1155_transfers UPDATE value = value + 1 WHERE 1 SETTINGS mutations_sync = 2")


def test_changed_contents_at_the_same_block_invalidate_every_gate(fresh_db):
    _raise_watermark(fresh_db, 10)
    for s in gates.STAGES[:-1]:
        _pass_stage(fresh_db, s)
    assert gates.missing_gates(fresh_db, "deploy") == []
    wm = gates.watermark(fresh_db)
    _tamper_same_block(fresh_db)
    assert gates.watermark(fresh_db) == wm
    missing = {m.split(" ")[0] for m in gates.missing_gates(fresh_db, "deploy")}
    assert missing == set(gates.STAGES[:-1])


def test_a_derived_table_change_or_an_ingest_run_invalidates(fresh_db):
    _raise_watermark(fresh_db, 10)
    for s in gates.STAGES[:-1]:
        _pass_stage(fresh_db, s)
    fp = gates.data_fingerprint(fresh_db)
    fresh_db.command("INSERT INTO winning_index (condition_id, payout_numerators, payout_denominator) "
                     "VALUES ('0x01', [1, 0], 1)")
    fp2 = gates.data_fingerprint(fresh_db)
    assert fp2 != fp
    from harness.ingest import Run

    Run(fresh_db, "file:x", "files", 0, 10).record("done")  # an ingest that changed no row still counts
    assert gates.data_fingerprint(fresh_db) != fp2
    assert len(gates.missing_gates(fresh_db, "deploy")) == 5


def test_expected_checks_that_did_not_run_fail_the_stage(fresh_db):
    run = gates.new_run_id()
    gates.record(fresh_db, run_id=run, stage="validate", check="views", outcome="passed", session="s1")
    ok, why = gates.stage_summary(fresh_db, run, "validate", ["views", "oracle", "wallet[a]"], session="s1")
    assert not ok and "oracle" in why and "wallet[a]" in why
    # rows from another session with the same run id do not complete it
    gates.record(fresh_db, run_id=run, stage="validate", check="oracle", outcome="passed", session="s2")
    gates.record(fresh_db, run_id=run, stage="validate", check="wallet[a]", outcome="passed", session="s2")
    assert not gates.stage_summary(fresh_db, run, "validate", ["views", "oracle", "wallet[a]"], session="s1")[0]
    assert gates.stage_summary(fresh_db, run, "validate", ["oracle", "wallet[a]"], session="s2")[0]


def test_record_rejects_unknown_names(fresh_db):
    with pytest.raises(ValueError):
        gates.record(fresh_db, run_id="r", stage="launch", check="x", outcome="passed")
    with pytest.raises(ValueError):
        gates.record(fresh_db, run_id="r", stage="sync", check="x", outcome="ok")


def test_gate_table_lists_every_check(fresh_db):
    run = _pass_stage(fresh_db, "backfill")
    table = gates.format_table(gates.run_rows(fresh_db, run))
    lines = table.splitlines()
    assert lines[0].split() == ["stage", "check", "outcome", "block", "detail"]
    assert any("some_check" in ln and "passed" in ln for ln in lines)
    assert any("stage_complete" in ln for ln in lines)


def test_a_table_swapped_for_a_view_or_memory_table_is_seen(fresh_db):
    _raise_watermark(fresh_db, 10)
    fp = gates.data_fingerprint(fresh_db)
    fresh_db.command("DROP TABLE winning_index")
    fresh_db.command("CREATE TABLE winning_index (condition_id String, payout_numerators Array(UInt256), "
                     "payout_denominator UInt256, winning_index Int16, resolved_block UInt64, "
                     "resolved_time DateTime('UTC')) ENGINE = Memory")
    fresh_db.command("INSERT INTO winning_index (condition_id, payout_numerators, payout_denominator) "
                     "VALUES ('0x01', [1, 0], 1)")
    fp_memory = gates.data_fingerprint(fresh_db)
    assert fp_memory != fp
    fresh_db.command("INSERT INTO winning_index (condition_id, payout_numerators, payout_denominator) "
                     "VALUES ('0x02', [0, 1], 1)")
    assert gates.data_fingerprint(fresh_db) != fp_memory  # no parts to watch: contents are re-read


def _ins(db, cid: str) -> None:
    db.command("INSERT INTO winning_index (condition_id, payout_numerators, payout_denominator) "
               "VALUES ({c:String}, [1, 0], 1)", parameters={"c": cid})


def test_only_a_changed_table_is_re_read_and_every_change_of_contents_re_reads(fresh_db, monkeypatch):
    """A table's contents are re-read only when its parts or definition changed: a merge re-reads that table alone
    (once; its fingerprint is unchanged), an insert, an UPDATE, a DELETE or a TRUNCATE re-read it and move the
    fingerprint, and a second process reuses the stored hashes."""
    for c in ("0x01", "0x02", "0x03"):
        _ins(fresh_db, c)
    reads = []
    real = gates._table_contents
    monkeypatch.setattr(gates, "_table_contents", lambda c, t: reads.append(tuple(t)) or real(c, t))
    fp = gates.data_fingerprint(fresh_db)
    assert len(reads) == 1 and "winning_index" in reads[0]
    assert gates.data_fingerprint(fresh_db) == fp and len(reads) == 1  # nothing changed: nothing re-read
    fresh_db.command("OPTIMIZE TABLE winning_index FINAL")
    assert gates.data_fingerprint(fresh_db) == fp and reads[1:] == [("winning_index",)]
    gates._cache.clear()  # another process: the hashes come back from fingerprint_cache
    assert gates.data_fingerprint(fresh_db) == fp and len(reads) == 2
    seen = {fp}
    for change in ("INSERT", "ALTER TABLE winning_index UPDATE payout_denominator = 2 WHERE condition_id = '0x01'",
                   "DELETE FROM winning_index WHERE condition_id = '0x02'", "TRUNCATE TABLE winning_index"):
        if change == "INSERT":
            _ins(fresh_db, "0x04")
        else:
            fresh_db.command(change, settings={"mutations_sync": 2})
        n = len(reads)
        new = gates.data_fingerprint(fresh_db)
        assert reads[n:] == [("winning_index",)] and new not in seen, change
        seen.add(new)
        fresh_db.command("OPTIMIZE TABLE winning_index FINAL")
        assert gates.data_fingerprint(fresh_db) == new, f"merge after {change}"


def test_a_tampered_cache_key_space_cannot_hide_a_change(fresh_db):
    """Only a key computed from the live parts is ever looked up: an insert moves the key, so no stored hash
    (however it got there) stands for the changed table."""
    _ins(fresh_db, "0x01")
    fp = gates.data_fingerprint(fresh_db)
    key_before = gates._table_keys(fresh_db, ["winning_index"])["winning_index"]
    _ins(fresh_db, "0x02")
    key_after = gates._table_keys(fresh_db, ["winning_index"])["winning_index"]
    assert key_after[0] != key_before[0] and key_after[1] == key_before[1]  # new parts, same definition
    assert gates.data_fingerprint(fresh_db) != fp


def _pnl_rows(db):
    db.insert("wallet_market_pnl", [["0x" + "a" * 40, "0x01", 1, -100, 461, 361], ["0x" + "b" * 40, "0x01", 1, 5, 0, 5]],
              column_names=["wallet", "condition_id", "resolved", "cashflow", "value", "pnl"])


def test_a_ttl_delete_applied_by_a_merge_changes_the_fingerprint(fresh_db):
    """Issue 21: a TTL delete applied by OPTIMIZE FINAL keeps the block ranges (and makes no mutation); the
    fingerprint still moves, and stays moved when the TTL is removed again (the DDL back as it was)."""
    _pnl_rows(fresh_db)
    fp = gates.data_fingerprint(fresh_db)
    fresh_db.command("ALTER TABLE wallet_market_pnl MODIFY TTL toDateTime(resolved) DELETE WHERE wallet = "
                     "{w:String}", parameters={"w": "0x" + "a" * 40}, settings={"materialize_ttl_after_modify": 0})
    fresh_db.command("OPTIMIZE TABLE wallet_market_pnl FINAL")
    assert fresh_db.query("SELECT count() FROM wallet_market_pnl").result_rows[0][0] == 1  # the merge deleted
    tampered = gates.data_fingerprint(fresh_db)
    assert tampered != fp
    fresh_db.command("ALTER TABLE wallet_market_pnl REMOVE TTL")  # the definition as it was; the rows are not
    assert gates.data_fingerprint(fresh_db) not in (fp, tampered)
    assert gates.changed_components(fresh_db, fp) == ["wallet_market_pnl"]


def test_a_column_turned_alias_changes_the_fingerprint(fresh_db):
    """MODIFY COLUMN … ALIAS rewrites what a column returns without touching a part: the DDL is in the key."""
    _pnl_rows(fresh_db)
    fp = gates.data_fingerprint(fresh_db)
    fresh_db.command("ALTER TABLE wallet_market_pnl MODIFY COLUMN pnl Int128 ALIAS cashflow * 20")
    assert gates.data_fingerprint(fresh_db) != fp
    assert gates.changed_components(fresh_db, fp) == ["wallet_market_pnl"]


# --- an operation that repeats: the backfill gate carried by a chain of passed syncs (issue 20) ------------------

def _day(client, block, *, stages=("sync", "cleanup", "validate", "dryrun")):
    """One daily run as the stage harness records it: sync admitted on the data as it is, new blocks, then the
    later stages on the new data; returns the data it ended on."""
    assert gates.missing_gates(client, "sync") == []
    start = gates.data_fingerprint(client)
    _raise_watermark(client, block)
    _pass_stage(client, "sync", started_on=start)
    for s in stages[1:]:
        assert gates.missing_gates(client, s) == []
        _pass_stage(client, s)
    assert gates.missing_gates(client, "deploy") == []
    return gates.data_fingerprint(client)


def _refused(client, stage):
    return [m.split(" ")[0] for m in gates.missing_gates(client, stage)]


def test_days_one_to_n_are_never_refused(fresh_db):
    _raise_watermark(fresh_db, 10)
    _pass_stage(fresh_db, "backfill")
    ends = [_day(fresh_db, 10 + d) for d in range(1, 6)]
    assert len(set(ends)) == 5  # every day was new data, yet each sync was admitted
    backfill, sync = gates.stage_states(fresh_db, ("backfill", "sync")).values()
    assert gates.backfill_chain(backfill, sync, ends[-1])[1:] == ends


def test_a_tampered_day_is_refused_naming_the_backfill_gate(fresh_db):
    _raise_watermark(fresh_db, 10)
    _pass_stage(fresh_db, "backfill")
    _day(fresh_db, 11)
    _tamper_same_block(fresh_db)  # a hand edit between two days
    with pytest.raises(GateError, match=r"stage 'sync' refused: missing gate backfill \(needs a passed run on the "
                                        r"current data, block 11 fingerprint [0-9a-f]{16}, or an unbroken chain of "
                                        r"passed syncs from one.*none reaches it"):
        gates.require_previous(fresh_db, "sync")
    assert _refused(fresh_db, "deploy") == ["backfill", "sync", "cleanup", "validate", "dryrun"]


def test_a_sync_admitted_elsewhere_is_not_a_link(fresh_db):
    """A passed sync that records a start no chain reaches (a bypassed gate, a forged row) carries nothing."""
    _raise_watermark(fresh_db, 10)
    _pass_stage(fresh_db, "backfill")
    _raise_watermark(fresh_db, 11)
    _pass_stage(fresh_db, "sync", started_on="0123456789abcdef")
    assert _refused(fresh_db, "sync") == ["backfill"]
    assert _refused(fresh_db, "cleanup") == ["backfill"]


def test_a_failed_day_is_refused_until_a_new_backfill_mends_it(fresh_db):
    _raise_watermark(fresh_db, 10)
    _pass_stage(fresh_db, "backfill")
    _day(fresh_db, 11)
    # day 2: the sync is admitted, writes part of its window, then a check fails (or the process is killed)
    assert gates.missing_gates(fresh_db, "sync") == []
    run = gates.new_run_id()
    _raise_watermark(fresh_db, 12)
    gates.record(fresh_db, run_id=run, stage="sync", check="no_block_gap_after_sync", outcome="failed")
    # day 3: neither the sync nor anything after it may start on data that no passed stage ended on
    assert _refused(fresh_db, "sync") == ["backfill"]
    # a sync re-run that passes from here would not mend it: its start is the failed run's leftovers
    left = gates.data_fingerprint(fresh_db)
    _raise_watermark(fresh_db, 13)
    _pass_stage(fresh_db, "sync", started_on=left)
    assert _refused(fresh_db, "cleanup") == ["backfill"]
    # the mend: a new backfill gate on the data as it is, then the days carry on
    _pass_stage(fresh_db, "backfill")
    assert gates.missing_gates(fresh_db, "sync") == []
    _day(fresh_db, 14)
    _day(fresh_db, 15)


def test_a_failed_sync_that_wrote_nothing_leaves_the_chain_whole(fresh_db):
    """A sync that failed before writing (e.g. every RPC endpoint down at planning) left the data the last passed
    stage ended on: the next day's sync starts there, which is a link like any other."""
    _raise_watermark(fresh_db, 10)
    _pass_stage(fresh_db, "backfill")
    _day(fresh_db, 11)
    gates.record(fresh_db, run_id=gates.new_run_id(), stage="sync", check="sync_window", outcome="failed")
    _day(fresh_db, 12)
