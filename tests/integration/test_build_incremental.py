"""Incremental rebuild without copying: rows carried over from the live tables' parts stay exact when prices and
resolutions change outside the block range, and a failure mid-way leaves the live tables unchanged."""
from __future__ import annotations

import pytest

from harness.pnl import build
from harness.pnl.build import BuildError, rebuild, rebuild_range
from harness.warehouse import sql
from tests.property.pnl_stream import Stream, addr, insert, token
from tests.property.sqlcheck import load

U = 1_000_000
A, B, C = addr(1), addr(2), addr(3)


def _snapshot(client) -> dict:
    return {t: sorted(map(tuple, client.query(f"SELECT * FROM {t}").result_rows)) for t in build.DERIVED_TABLES}


def _world() -> tuple[Stream, list]:
    s = Stream()
    ms = [s.market() for _ in range(4)]
    for i, m in enumerate(ms):
        s.split(A, m, (5 + i) * U)
        s.trade(B, A, token(m.condition_id, 0), 2 * U, (i + 1) * 300_000)
        s.next_block()
    s.price(ms[0], 0, 400_000)
    s.price(ms[0], 1, 600_000)
    return s, ms


def _new_rows(s: Stream, seen: dict) -> dict:
    return {t: v[seen.get(t, 0):] for t, v in s.rows.items() if len(v) > seen.get(t, 0)}


def _a_day(client, s: Stream, ms: list, *, reprice: bool = False) -> int:
    """A new block range in which C buys outcome 1 of ms[1] from B (with ``reprice``, ms[2] gets a first import
    too), inserted; returns the range's first block."""
    seen = {t: len(v) for t, v in s.rows.items()}
    s.next_block()
    start = s.block
    s.trade(C, B, token(ms[1].condition_id, 1), U, 250_000)
    if reprice:
        s.price(ms[2], 1, 900_000)
    insert(client, _new_rows(s, seen))
    return start


def test_incremental_equals_full_when_prices_and_resolutions_change_outside_the_range(fresh_db):
    s, ms = _world()
    load(fresh_db, s.rows)
    seen = {t: len(v) for t, v in s.rows.items()}
    s.next_block()
    start = s.block
    s.trade(C, B, token(ms[1].condition_id, 1), U, 250_000)  # the only market the range touches
    s.price(ms[0], 0, 450_000)  # a newer import for an untouched, priced condition
    s.price(ms[2], 1, 900_000)  # a first import for an untouched condition priced by its fills
    insert(fresh_db, _new_rows(s, seen))
    rep = rebuild_range(fresh_db, start, s.block)
    assert rep.conditions == 1
    incremental = _snapshot(fresh_db)
    rebuild(fresh_db)
    assert incremental == _snapshot(fresh_db)


def test_incremental_picks_up_a_resolution_and_a_retraction(fresh_db):
    s, ms = _world()
    load(fresh_db, s.rows)
    seen = {t: len(v) for t, v in s.rows.items()}
    s.next_block()
    start = s.block
    s.resolve(ms[3], [1, 0])
    new = _new_rows(s, seen)
    gone = s.rows["erc1155_transfers"][-1]  # a reorg retracts an older transfer: its block is outside the range
    new["erc1155_transfers"] = [{**gone, "_version": gone["_version"] + 1, "_deleted": 1}]
    insert(fresh_db, new)
    rebuild_range(fresh_db, start, s.block)
    rebuild_range(fresh_db, gone["block_number"], gone["block_number"])
    incremental = _snapshot(fresh_db)
    rebuild(fresh_db)
    assert incremental == _snapshot(fresh_db)


#: Two condition ids (of the real form) with one xxHash32, so one condition_key (schema 160-166): found by a birthday
#: search over sha256('clash-<n>'), n < 400,000, in the engine. A real clash, not a simulated one.
CLASH = ("0x624e5e989184e1cd618c4d0b2a7a2dd2c027efd63c93d30ff533ba367a5b455d",
         "0xb734807d79b18b0e9f1f5e7d4fa1a2b10e1e86e0101c5b2606a1081189c5b34f")


def _rows_of(client, condition_id: str) -> int:
    return sum(client.query(f"SELECT count() FROM {t} WHERE condition_id = {{c:String}}",
                            parameters={"c": condition_id}).result_rows[0][0] for t in build._DELTA)


def test_a_condition_whose_key_clashes_with_a_recomputed_one_keeps_its_rows(fresh_db, monkeypatch):
    """The range rebuild masks the recomputed conditions' rows by condition_key, a 32-bit hash of the id. Two
    markets whose ids share a key; a day touches the first only. Were the clash not reported, the second's rows would
    be masked and lost (shown first, so the clash is known to bite); reported, the second is recomputed too, and
    the result equals a full rebuild."""
    s = Stream()
    touched, other = (s.market(cid=c) for c in CLASH)
    for i, m in enumerate((touched, other)):
        s.split(A, m, (5 + i) * U)
        s.trade(B, A, token(m.condition_id, 0), 2 * U, (i + 1) * 300_000)
        s.next_block()
    load(fresh_db, s.rows)
    k = build.condition_keys(fresh_db, list(CLASH))
    assert k[0] == k[1]
    assert build.key_clashes(fresh_db, [touched.condition_id]) == [other.condition_id]
    assert build.key_clashes(fresh_db, list(CLASH)) == []
    held = _rows_of(fresh_db, other.condition_id)
    assert held > 0

    def day(buyer: str, outcome: int) -> build.BuildReport:
        seen = {t: len(v) for t, v in s.rows.items()}
        s.next_block()
        start = s.block
        s.trade(buyer, B, token(touched.condition_id, outcome), U, 250_000)
        insert(fresh_db, _new_rows(s, seen))
        rep = rebuild_range(fresh_db, start, s.block)
        assert rep.conditions == 1
        return rep

    with monkeypatch.context() as mp:
        mp.setattr(build, "key_clashes", lambda client, conds: [])
        day(C, 1)
    assert _rows_of(fresh_db, other.condition_id) == 0
    rebuild(fresh_db)
    assert _rows_of(fresh_db, other.condition_id) == held
    rep = day(A, 0)
    assert (rep.recomputed, rep.key_clashes) == (2, 1)
    assert "(1 conditions; 2 recomputed with the re-priced and re-resolved ones, 1 of them sharing a condition key)" \
        in str(rep)
    incremental = _snapshot(fresh_db)
    assert _rows_of(fresh_db, other.condition_id) == held
    rebuild(fresh_db)
    assert incremental == _snapshot(fresh_db)


def test_condition_keys_are_the_stored_ones(fresh_db):
    """The keys the build masks by are the ones the tables materialized (were they another hash, the mask would hit
    nothing and the range rebuild would keep the old rows beside the new)."""
    s, ms = _world()
    load(fresh_db, s.rows)
    ids = sorted(m.condition_id for m in ms)
    assert build.key_clashes(fresh_db, ids[:2]) == []
    keys = dict(zip(ids, build.condition_keys(fresh_db, ids)))
    for t in build._DELTA:
        stored = fresh_db.query(f"SELECT DISTINCT condition_id, condition_key FROM {t}").result_rows
        assert stored and all(keys[c] == k for c, k in stored), t


def test_parts_written_before_the_key_existed_are_masked_by_the_computed_key(fresh_db):
    """A warehouse upgraded to schema 160-166 keeps its derived parts without a stored condition_key: the ALTER adds
    the column, and the engine computes it on read for the old parts. The first range rebuild after the upgrade
    masks those parts by that computed key, and equals a full rebuild."""
    from harness.config import SQL_DIR

    alters = [f.read_text() for f in sorted((SQL_DIR / "schema").glob("16[0-6]_*_condition_key.sql"))]
    assert len(alters) == len(build._DELTA)
    for t in build._DELTA:
        fresh_db.command(f"ALTER TABLE {t} DROP COLUMN condition_key")
    s, ms = _world()
    load(fresh_db, s.rows)  # every derived part written without the column
    for text in alters:
        fresh_db.command(text)
    parts = fresh_db.query("SELECT count() FROM system.parts_columns WHERE database = currentDatabase() AND active "
                           "AND column = 'condition_key' AND table IN {t:Array(String)}",
                           parameters={"t": list(build._DELTA)}).result_rows[0][0]
    assert parts == 0  # no part stores the key yet
    start = _a_day(fresh_db, s, ms)
    assert rebuild_range(fresh_db, start, s.block).conditions == 1
    incremental = _snapshot(fresh_db)
    rebuild(fresh_db)
    assert incremental == _snapshot(fresh_db)


def test_the_range_build_command_equals_a_full_build(fresh_db, warehouse_settings, monkeypatch, capsys):
    """`harness build --from-block A --to-block B`, the RUNBOOK's command after a re-fetch, in process as a user runs
    it, on this pass's warehouse (embedded, or the local ClickHouse endpoint): it says what it recomputed, and its
    tables equal a full rebuild's."""
    from harness.__main__ import main

    s, ms = _world()
    load(fresh_db, s.rows)
    start = _a_day(fresh_db, s, ms, reprice=True)  # an untouched condition re-priced too
    db = fresh_db.query("SELECT currentDatabase()").result_rows[0][0]
    if warehouse_settings.backend == "embedded":
        dsn = f"chdb://{warehouse_settings.path}"
    else:
        dsn = warehouse_settings.url
        monkeypatch.setenv("CLICKHOUSE_USER", warehouse_settings.user)
        monkeypatch.setenv("CLICKHOUSE_PASSWORD", warehouse_settings.password)
    assert main(["build", "--clickhouse", dsn, "--database", db, "--no-cutoff", "--from-block", str(start),
                 "--to-block", str(s.block)]) == 0
    out = capsys.readouterr().out
    assert f"range rebuild of blocks {start}..{s.block} (1 conditions touched, 2 recomputed, 0 of them sharing a " \
           "condition key)" in out, out
    incremental = _snapshot(fresh_db)
    rebuild(fresh_db)
    assert incremental == _snapshot(fresh_db)


@pytest.mark.parametrize("failing", ["build/wallet_market_pnl", "build/delta_insert"])
def test_failed_incremental_leaves_live_tables_and_no_build_tables(fresh_db, monkeypatch, failing):
    s, ms = _world()
    load(fresh_db, s.rows)
    before = _snapshot(fresh_db)
    start = _a_day(fresh_db, s, ms)
    real = sql.load

    def broken(name):  # fails after the deltas were filled (and, for delta_insert, a build table attached and masked)
        return "SELECT throwIf(1, 'injected failure')" if name == failing else real(name)

    monkeypatch.setattr(build.sql, "load", broken)
    with pytest.raises(BuildError, match="injected failure"):
        rebuild_range(fresh_db, start, s.block)
    assert _snapshot(fresh_db) == before
    assert not _build_tables(fresh_db)


def test_incremental_leaves_no_build_or_delta_tables(fresh_db, monkeypatch):
    s, ms = _world()
    load(fresh_db, s.rows)
    start = _a_day(fresh_db, s, ms)
    made = []
    command = fresh_db.command

    def watch(cmd, *args, **kwargs):  # the build and delta tables made while it ran, with their engines
        out = command(cmd, *args, **kwargs)
        text = "\n".join(ln for ln in str(cmd).splitlines() if not ln.lstrip().startswith("--")).strip()
        if text.upper().startswith("CREATE TABLE"):
            name = text.split()[2].strip("`")
            made.append((name, command("SELECT engine FROM system.tables WHERE database = currentDatabase() "
                                       "AND name = {n:String}", parameters={"n": name})))
        return out

    monkeypatch.setattr(fresh_db, "command", watch)
    rep = rebuild_range(fresh_db, start, s.block)
    assert not _build_tables(fresh_db)
    assert {"check unmapped", "affected conditions", "wallet_market_pnl (delta)", "swap"} <= set(rep.steps)
    # issue 20: on a replicated server each request may reach another replica, where a Memory table is empty
    deltas = {n: e for n, e in made if "_delta_" in n}
    assert len(deltas) == len(build._DELTA) and set(deltas.values()) == {"MergeTree"}, made


def _build_tables(client) -> list:
    return client.query("SELECT name FROM system.tables WHERE database = currentDatabase() "
                        "AND (name LIKE '%\\_new\\_%' OR name LIKE '%\\_delta\\_%')").result_rows
