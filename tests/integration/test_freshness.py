"""freshness: watermark age and ingest gaps → exit 0 ok, 1 warn, 2 error; an alert reaches a loopback receiver."""
from __future__ import annotations

import json
import re
import socket
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.__main__ import main
from harness.gates import freshness
from harness.ingest import Run, write_checkpoint
from tests.support.receiver import Receiver
from tests.support.target import warehouse_args

NOW = 1_790_000_000
HOUR = 3600


def _ingested(client, *, block: int, when: int, source: str = "rpc:137", lo: int | None = None) -> None:
    """One transfer at ``block`` / ``when``, a finished run over lo..block and its checkpoint (no gap)."""
    lo = block - 10 if lo is None else lo
    client.insert("erc1155_transfers",
                  [["0x" + "ab" * 32, 0, block, datetime.fromtimestamp(when, UTC), 0, "0x" + "1" * 40,
                    "0x" + "2" * 40, "0x" + "3" * 40, 7, 5, 1]],
                  column_names=["tx_hash", "log_index", "block_number", "block_time", "sub_index", "operator",
                                "from_addr", "to_addr", "token_id", "value", "_version"])
    run = Run(client, source, "backfill", lo, block)
    write_checkpoint(client, source, lo, block, run_id=run.run_id)
    run.record("done", logs=1)


def _cli(client, settings, *args: str) -> int:
    return main(["freshness", *warehouse_args(settings, client.database), *args])


@given(age=st.integers(0, 10**8), warn=st.integers(1, 10**7), extra=st.integers(0, 10**7), gaps=st.booleans())
def test_verdict_follows_the_thresholds(age, warn, extra, gaps):
    err = warn + extra
    v = freshness.verdict(age, warn, err, gaps=gaps)
    expected = "error" if gaps or age > err else "warn" if age > warn else "ok"
    assert v == expected
    assert freshness.verdict(None, warn, err) == "error"  # nothing ingested is never fresh


def test_fresh_data_is_ok_and_stale_data_warns_then_errors(fresh_db):
    _ingested(fresh_db, block=1000, when=NOW - 2 * HOUR)
    f = freshness.check(fresh_db, warn_after=26 * HOUR, error_after=50 * HOUR, now=NOW)
    assert (f.status, f.exit_code, f.age, f.watermark_block) == ("ok", 0, 2 * HOUR, 1000)
    assert [(s.source, s.from_block, s.to_block, s.gaps) for s in f.sources] == [("rpc:137", 990, 1000, [])]
    assert freshness.check(fresh_db, warn_after=HOUR, error_after=50 * HOUR, now=NOW).exit_code == 1
    late = freshness.check(fresh_db, warn_after=HOUR, error_after=HOUR + 1, now=NOW)
    assert late.exit_code == 2 and "over --error-after" in late.reasons[0]


def test_a_gap_is_an_error_naming_its_blocks(fresh_db):
    _ingested(fresh_db, block=1000, when=NOW - 60, lo=900)
    _ingested(fresh_db, block=1200, when=NOW - 30, lo=1100)  # 1001..1099 never ingested
    f = freshness.check(fresh_db, warn_after=26 * HOUR, error_after=50 * HOUR, now=NOW)
    assert f.status == "error" and f.sources[0].gaps == [(1001, 1099)]
    assert "99 blocks never ingested (first 1001..1099)" in str(f)


def test_cli_exit_codes_json_and_alert(fresh_db, warehouse_settings, capsys):
    assert _cli(fresh_db, warehouse_settings) == 2  # nothing ingested
    capsys.readouterr()
    now = int(datetime.now(UTC).timestamp())
    _ingested(fresh_db, block=5000, when=now - 30 * HOUR)
    assert _cli(fresh_db, warehouse_settings, "--json", "--warn-after", "40h", "--error-after", "2d") == 0
    out = json.loads(capsys.readouterr().out)
    assert out["status"] == "ok" and out["watermark_block"] == 5000 and 30 * HOUR <= out["age_seconds"] < 31 * HOUR
    with Receiver() as rx:
        assert _cli(fresh_db, warehouse_settings, "--warn-after", "26h", "--error-after", "50h",
                    "--notify-url", rx.url) == 1
        assert _cli(fresh_db, warehouse_settings, "--warn-after", "1h", "--error-after", "2h",
                    "--notify-url", rx.url) == 2
    warn, err = rx.bodies
    assert set(warn) >= {"run_id", "stage", "outcome", "summary", "host", "time"}
    assert (warn["stage"], warn["outcome"], err["outcome"]) == ("freshness", "warn", "error")
    assert warn["host"] == socket.gethostname() and warn["watermark_block"] == 5000
    assert "over --warn-after" in warn["summary"] and "over --error-after" in err["summary"]
    assert "s3cretToken" not in json.dumps(rx.bodies) + capsys.readouterr().err  # the hook's token never shows


@pytest.mark.parametrize("args", [["--warn-after", "soon"], ["--warn-after", "3d", "--error-after", "1d"],
                                  ["--notify-url", "ftp://x"]])
def test_bad_options_exit_2_touching_nothing(args, fresh_db, warehouse_settings, capsys):
    assert _cli(fresh_db, warehouse_settings, *args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: --")


def test_a_failing_receiver_never_changes_the_exit_code(fresh_db, warehouse_settings, capsys):
    now = int(datetime.now(UTC).timestamp())
    _ingested(fresh_db, block=7000, when=now - 30 * HOUR)
    with Receiver(status=500) as rx:
        assert _cli(fresh_db, warehouse_settings, "--notify-url", rx.url) == 1
    assert len(rx.bodies) == 1
    err = capsys.readouterr().err
    assert re.search(r"^\S+Z WARNING harness\.ops\.notify: alert not sent to http://127\.0\.0\.1:\d+/hook/\*\*\*: "
                     r"HTTP Error 500", err, re.MULTILINE), err
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there now
    assert _cli(fresh_db, warehouse_settings, "--notify-url", f"http://127.0.0.1:{port}/x") == 1


# --- issue 21 -----------------------------------------------------------------------------------------------------


SLACK = 300  # README: a watermark up to five minutes ahead of the host clock is a clock difference, not an error


@given(ahead=st.integers(SLACK + 1, 10**9), warn=st.integers(1, 10**7), extra=st.integers(0, 10**7))
def test_a_watermark_dated_in_the_future_is_never_fresh(ahead, warn, extra):
    assert freshness.verdict(-ahead, warn, warn + extra) == "error"
    assert freshness.verdict(-SLACK, warn, warn + extra) == "ok"  # a node's clock a little ahead


def test_a_future_watermark_is_an_error_saying_so(fresh_db, warehouse_settings, capsys):
    """Item 5: a bad node or a corrupt block_time dated 1485 days ahead was reported ok."""
    _ingested(fresh_db, block=1000, when=NOW + 1485 * 86400)
    f = freshness.check(fresh_db, warn_after=26 * HOUR, error_after=50 * HOUR, now=NOW)
    assert (f.status, f.exit_code) == ("error", 2)
    assert f.reasons == [(f"watermark block 1000 is dated {freshness._iso(NOW + 1485 * 86400)}, 1485d 0h 0m in the "
                          f"future (checked at {freshness._iso(NOW)}): a bad node or a corrupt block_time, "
                          "not fresh data")]
    assert _cli(fresh_db, warehouse_settings) == 2
    assert "in the future" in capsys.readouterr().out


def test_a_backup_dropped_or_emptied_by_hand_is_an_error(fresh_db, warehouse_settings, capsys):
    """Item 7: the ledger said "verified" for an archive table that no longer existed, and nothing noticed."""
    from harness.gates import deploy
    from harness.warehouse import backup

    now = int(datetime.now(UTC).timestamp())
    _ingested(fresh_db, block=1000, when=now - 60)
    kept = deploy.backup_table(fresh_db, "erc1155_transfers", backup_id="b_kept", reason="test")
    gone = deploy.backup_table(fresh_db, "erc1155_transfers", backup_id="b_gone", reason="test")
    emptied = deploy.backup_table(fresh_db, "erc1155_transfers", backup_id="b_emptied", reason="test")
    adb = backup.archive_database(fresh_db)
    try:
        assert freshness.check(fresh_db, warn_after=26 * HOUR, error_after=50 * HOUR).status == "ok"
        fresh_db.command(f"DROP TABLE `{adb}`.`{gone.archive_table}`")
        fresh_db.command(f"TRUNCATE TABLE `{adb}`.`{emptied.archive_table}`")
        broken = backup.missing_backups(fresh_db)
        assert [(b.backup_id, b.rows_now) for b in broken] == [("b_gone", None), ("b_emptied", 0)]
        f = freshness.check(fresh_db, warn_after=26 * HOUR, error_after=50 * HOUR)
        assert f.status == "error" and kept.archive_table not in " ".join(f.reasons)
        assert f.broken_backups == [
            (f"backup b_gone of erc1155_transfers: {adb}.{gone.archive_table} is gone (the ledger says 1 rows, "
             "verified)"),
            f"backup b_emptied of erc1155_transfers: {adb}.{emptied.archive_table} holds 0 rows, the ledger says 1"]
        with Receiver() as rx:
            assert _cli(fresh_db, warehouse_settings, "--notify-url", rx.url) == 2
        assert gone.archive_table in rx.bodies[0]["summary"]
        # the RUNBOOK's way to retire a backup on purpose: its archive table and its ledger rows together
        fresh_db.command("DELETE FROM backups WHERE archive_table = {t:String}", parameters={"t": gone.archive_table})
        assert [b.backup_id for b in backup.missing_backups(fresh_db)] == ["b_emptied"]
    finally:
        fresh_db.command(f"DROP DATABASE IF EXISTS `{adb}`")


def test_a_world_only_warehouse_is_measured_on_the_worlds_clock(fresh_db, warehouse_settings, capsys):
    """The demo (file sources only, data from 2024) answers ok on its own clock, not 'error: 800 days old'; its
    gaps still count; --now measures at a given instant; one RPC source brings the wall clock back."""
    _ingested(fresh_db, block=1000, when=NOW - 900 * 86_400, source="file:world", lo=1)
    f = freshness.check(fresh_db, warn_after=26 * HOUR, error_after=50 * HOUR)
    assert (f.status, f.clock, f.age, f.checked_at) == ("ok", "world", 0, NOW - 900 * 86_400)
    assert "the world's own clock" in str(f)
    assert _cli(fresh_db, warehouse_settings, "--json") == 0
    assert json.loads(capsys.readouterr().out)["clock"] == "world"
    given = NOW - 900 * 86_400 + 30 * HOUR
    assert _cli(fresh_db, warehouse_settings, "--now", str(given)) == 1  # 30 h after the world's end: warn
    assert "given by --now" in capsys.readouterr().out
    assert _cli(fresh_db, warehouse_settings, "--now", "2024-13-01") == 2
    assert capsys.readouterr().err.startswith("error: --now:")
    _ingested(fresh_db, block=1010, when=NOW - 899 * 86_400, source="rpc:137", lo=1001)
    f = freshness.check(fresh_db, warn_after=26 * HOUR, error_after=50 * HOUR)
    assert f.clock == "wall" and f.status == "error" and f.age > 800 * 86_400


def test_gaps_without_source_checks_every_source_the_warehouse_has(fresh_db, warehouse_settings, capsys):
    """`gaps` on the demo answers for its own source; an unknown --source names the ones there are."""
    def gaps_cli(*args):
        return main(["gaps", *warehouse_args(warehouse_settings, fresh_db.database), *args])

    assert gaps_cli() == 2
    assert "no finished ingest run" in capsys.readouterr().err
    _ingested(fresh_db, block=1000, when=NOW, source="file:world", lo=1)
    assert gaps_cli() == 0
    assert "file:world 1..1000: 0 gap(s)" in capsys.readouterr().err
    _ingested(fresh_db, block=2000, when=NOW, source="rpc:137", lo=1900)
    _ingested(fresh_db, block=2200, when=NOW, source="rpc:137", lo=2101)  # 2001..2100 never ingested
    assert gaps_cli() == 1
    out, err = capsys.readouterr()
    assert out.splitlines() == ["rpc:137\t2001\t2100\t100 blocks"]
    assert "file:world 1..1000: 0 gap(s)" in err and "rpc:137 1900..2200: 1 gap(s), 100 blocks missing" in err
    assert gaps_cli("--source", "file:world") == 0
    assert gaps_cli("--source", "rpc:80002") == 2
    assert "sources here: file:world, rpc:137" in capsys.readouterr().err
