"""The file source (a simulator-style world directory) and the shared insert path: counts, checkpoints, prices,
retraction of removed logs, and errors that name the file and line or the tx hash and log index."""
from __future__ import annotations

import gzip
import io
import itertools
import json

import pytest

from harness import ingest
from harness.chain.decode import decode_logs
from harness.gates.pipeline import RAW_TABLES, fingerprint, table_counts
from tests.support.chainlogs import make_logs


def _world(tmp_path, logs, prices="condition_id,outcome_index,price_micros\n", meta=None):
    d = tmp_path / "w"
    d.mkdir()
    with gzip.open(d / "logs.jsonl.gz", "wt", encoding="utf-8") as fh:
        for lg in logs:
            fh.write(json.dumps(lg) + "\n")
    (d / "prices.csv").write_text(prices, encoding="utf-8")
    if meta is not None:
        (d / "world.json").write_text(json.dumps(meta), encoding="utf-8")
    return d


def _live_keys(logs):
    """Oracle: distinct (tx, log index) of known logs per table, from a plain decode."""
    rows = decode_logs(logs).rows
    return {t: len({(r[0], r[1]) + ((r[4],) if t == "erc1155_transfers" else ()) for r in rows[t]})
            for t in RAW_TABLES}


def test_world_ingest_counts_checkpoints_and_prices(fresh_db, tmp_path):
    logs = make_logs(seed=5, blocks=50)
    cid = "0x" + "ab" * 32
    d = _world(tmp_path, logs, f"condition_id,outcome_index,price_micros\n{cid},0,250000\n{cid.upper()[2:]},1,750000\n",
               meta={"block_range": [990, 1100]})
    stats = ingest.ingest_world(fresh_db, d, batch_logs=20)
    assert table_counts(fresh_db, RAW_TABLES) == _live_keys(logs)
    assert ingest.expected_world_rows(d) == {t: n for t, n in _live_keys(logs).items()}
    assert sum(stats.unknown.values()) == sum(1 for lg in logs if lg["topics"][0] == "0x" + "ee" * 32)
    src = ingest.world_source(d)
    assert ingest.gaps(fresh_db, src, 990, 1100) == []
    assert ingest.gaps(fresh_db, src, 980, 1110) == [(980, 989), (1101, 1110)]
    assert stats.prices == 2
    assert fresh_db.query("SELECT outcome_index, price_micros FROM imported_prices FINAL WHERE condition_id = "
                          "{c:String} ORDER BY 1", parameters={"c": cid}).result_rows == [(0, 250000), (1, 750000)]


def test_world_sync_and_reingest_change_nothing(fresh_db, tmp_path):
    d = _world(tmp_path, make_logs(seed=6, blocks=30))
    ingest.ingest_world(fresh_db, d)
    before = fingerprint(fresh_db, RAW_TABLES)
    s = ingest.sync_world(fresh_db, d, since_seconds=20)  # the world's last 20 s: 10 blocks of 2 s
    assert 0 < s.logs < sum(1 for _ in make_logs(seed=6, blocks=30))
    ingest.ingest_world(fresh_db, d)
    assert fingerprint(fresh_db, RAW_TABLES) == before


def test_removed_logs_are_retracted(fresh_db):
    logs = make_logs(seed=7, blocks=20, unknown=False)
    ingest.ingest_logs(fresh_db, logs, source="t")
    assert sum(table_counts(fresh_db, RAW_TABLES).values()) > 0
    gone = logs[: len(logs) // 2]
    ingest.ingest_logs(fresh_db, [{**lg, "removed": True} for lg in gone], source="t")
    assert table_counts(fresh_db, RAW_TABLES) == _live_keys(logs[len(logs) // 2:])


def test_a_bad_line_names_the_file_and_line(fresh_db, tmp_path):
    d = _world(tmp_path, make_logs(seed=8, blocks=5))
    with gzip.open(d / "logs.jsonl.gz", "rt") as fh:
        raw = fh.read().splitlines()
    raw.insert(3, '{"address": "0x1", "topics": [')
    with gzip.open(d / "logs.jsonl.gz", "wt") as fh:
        fh.write("\n".join(raw) + "\n")
    with pytest.raises(ingest.IngestError, match=r"logs\.jsonl\.gz:4: not a JSON log"):
        ingest.ingest_world(fresh_db, d)


def test_a_malformed_log_names_its_tx_and_index(fresh_db, tmp_path):
    logs = make_logs(seed=9, blocks=10, unknown=False)
    bad = next(i for i, lg in enumerate(logs) if len(lg["data"]) > 66)
    logs[bad] = {**logs[bad], "data": logs[bad]["data"][:-8]}
    d = _world(tmp_path, logs)
    with pytest.raises(ingest.IngestError) as exc:
        ingest.ingest_world(fresh_db, d)
    assert logs[bad]["transactionHash"] in str(exc.value)
    assert f"log index {int(logs[bad]['logIndex'], 16)}" in str(exc.value)


def test_logs_out_of_chain_order_are_refused(fresh_db, tmp_path):
    logs = make_logs(seed=10, blocks=10)
    d = _world(tmp_path, list(reversed(logs)))
    with pytest.raises(ingest.IngestError, match="chain order"):
        ingest.ingest_world(fresh_db, d)


@pytest.mark.parametrize("body, match", [
    ("cond,outcome,price\n", "header"),
    ("condition_id,outcome_index,price_micros\n0x12,0,5\n", "prices.csv:2: out of range"),
    ("condition_id,outcome_index,price_micros\n" + "0x" + "1" * 64 + ",0,0.5\n", "prices.csv:2: bad price row"),
    ("condition_id,outcome_index,price_micros\n" + "0x" + "1" * 64 + ",0,1000001\n", "out of range"),
])
def test_bad_prices_name_the_file_and_line(tmp_path, body, match):
    p = tmp_path / "prices.csv"
    p.write_text(body, encoding="utf-8")
    with pytest.raises(ingest.IngestError, match=match):
        ingest.read_prices(p)


def test_progress_is_quiet_off_a_terminal_and_reports_on_one():
    quiet, loud = io.StringIO(), io.StringIO()
    p = ingest.Progress("backfill", 100, stream=quiet)
    p.update(50, 10)
    p.close()
    assert quiet.getvalue() == ""
    p = ingest.Progress("backfill", 100, stream=loud, enabled=True)
    p.last -= 1
    p.update(50, 1000)
    p.close()
    assert "50/100 blocks (50%)" in loud.getvalue() and "logs/s" in loud.getvalue() and "ETA" in loud.getvalue()


def test_progress_off_a_terminal_is_logged_every_few_seconds_and_at_the_end(caplog):
    """cron's stderr is a file: no bar, but a log line every ``every`` seconds (blocks, logs, rate, ETA)."""
    now = [0.0]
    caplog.set_level("INFO", logger="harness.ingest.progress")
    p = ingest.Progress("backfill rpc:137", 1000, stream=io.StringIO(), every=5, clock=lambda: now[0])
    for _ in range(10):
        now[0] += 2
        p.update(100, 50)
    p.close()
    lines = [r.getMessage() for r in caplog.records if r.name == "harness.ingest.progress"]
    progress = [ln for ln in lines if " progress " in ln]
    assert len(progress) == 3  # at 6 s, 12 s and 18 s: every 5 s at most, not every update
    assert progress[0] == "backfill rpc:137: progress 300/1,000 blocks (30%), 150 logs, 25 logs/s, elapsed 0:00:06, " \
                          "ETA 0:00:14"
    assert lines[-1].startswith("backfill rpc:137: finished 1,000/1,000 blocks (100%), 500 logs")


def test_summary_is_one_line():
    s = ingest.IngestStats(source="rpc:137", logs=10, from_block=1, to_block=5, seconds=2.0)
    s.rows["trades_raw"] = 4
    assert "\n" not in str(s) and "rpc:137: blocks 1..5, 10 logs, 4 rows, 5 logs/s" in str(s)


@pytest.fixture(scope="module")
def stream():
    return make_logs(seed=12, blocks=25, unknown=True)


def test_any_batching_order_and_repetition_gives_one_ingest(fresh_db, stream):
    """Property: chunks in any order, some twice, insert the same live rows as one ingest of the stream."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    ingest.ingest_logs(fresh_db, stream, source="once")
    want = fingerprint(fresh_db, RAW_TABLES)

    @settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(st.lists(st.integers(1, len(stream) - 1), max_size=6, unique=True), st.randoms(use_true_random=False),
           st.lists(st.integers(0, 6), max_size=3))
    def run(cuts, rnd, repeats):
        for t in RAW_TABLES:
            fresh_db.command(f"TRUNCATE TABLE `{t}`")
        bounds = [0, *sorted(cuts), len(stream)]
        chunks = [stream[a:b] for a, b in itertools.pairwise(bounds)]
        chunks += [chunks[i % len(chunks)] for i in repeats]
        rnd.shuffle(chunks)
        for ch in chunks:
            ingest.ingest_logs(fresh_db, ch, source="chunks")
        assert fingerprint(fresh_db, RAW_TABLES) == want

    run()
