"""A full disk during an ingest and during a backup (issue 21, "not yet tried"): one clear line, nothing lost, and
the same command finishes the job once space is freed.

The warehouse lives on a small tmpfs mounted in a private mount namespace (``unshare -r -m``: no root needed, and
nothing is visible outside the child), filled with a filler file up to a few hundred KB before the step under
test. Skipped where user namespaces are not allowed. Cost: ~40 s (several chDB child processes).
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
WORLD = ROOT / "fixtures" / "world"

#: The harness's raw tables and the ingest bookkeeping: their content must equal an ingest on a roomy disk.
READ = """
import json, sys
from harness.warehouse import connect, resolve_settings
c = connect(resolve_settings(database=sys.argv[1]), create_database=False)
raw = ("erc1155_transfers", "trades_raw", "ctf_actions", "condition_resolutions")
out = {t: c.query(f"SELECT count(), toString(groupBitXor(cityHash64(* EXCEPT (_version)))) FROM {t} FINAL"
                  ).result_rows[0] for t in raw}
out["ingest_checkpoints"] = c.query("SELECT count(), toString(groupBitXor(cityHash64(* EXCEPT (run_id, written_at))))"
                                    " FROM ingest_checkpoints").result_rows[0]
out["runs"] = c.query("SELECT argMax(status, updated_at) AS s, count() FROM ingest_runs GROUP BY run_id "
                      "ORDER BY min(started_at)").result_rows
print(json.dumps(out, default=str))
"""


def _namespace_ok() -> bool:
    if not shutil.which("unshare"):
        return False
    probe = 'd=$(mktemp -d) && mount -t tmpfs -o size=1m tmpfs "$d" && umount "$d" && rmdir "$d"'
    done = subprocess.run(["unshare", "-r", "-m", "sh", "-c", probe], capture_output=True, timeout=30, check=False)
    return done.returncode == 0


pytestmark = pytest.mark.skipif(not _namespace_ok(), reason="no user+mount namespaces here (unshare -r -m tmpfs)")


def _in_namespace(tmp_path: Path, script: str, **programs: str) -> list[str]:
    """Run a bash ``script`` in a private mount namespace with a 64 MB tmpfs at $M; its stdout lines. Each of
    ``programs`` is written to tmp_path/<name>.py for the script to run."""
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    for name, code in programs.items():
        (tmp_path / f"{name}.py").write_text(code)
    body = (f"set -u\nM={mnt}\nPY={sys.executable}\nmount -t tmpfs -o size=64m tmpfs \"$M\" || exit 99\n"
            "export HARNESS_WAREHOUSE_DIR=$M/wh\n"
            "fill() {  # leave $1 KB free on $M\n"
            "  free=$(df -k --output=avail \"$M\" | tail -1)\n"
            "  dd if=/dev/zero of=\"$M/filler\" bs=1k count=$((free - $1)) 2>/dev/null; }\n" + script)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("CLICKHOUSE_", "PYTEST_", "POLYGON_", "HARNESS_"))}
    done = subprocess.run(["unshare", "-r", "-m", "bash", "-c", body], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done.stdout.splitlines()


def test_a_full_disk_stops_an_ingest_with_one_line_and_a_rerun_loses_nothing(tmp_path):
    out = _in_namespace(tmp_path, f"""
$PY -m harness schema --database w >/dev/null 2>&1 || exit 98
fill 1500
$PY -m harness ingest-files {WORLD} --database w >/dev/null 2>"$M/../first.err"; echo "first=$?"
rm -f "$M/filler"
$PY -m harness ingest-files {WORLD} --database w >/dev/null 2>&1; echo "second=$?"
$PY {tmp_path}/read.py w
export HARNESS_WAREHOUSE_DIR=$M/../roomy
$PY -m harness ingest-files {WORLD} --database w >/dev/null 2>&1; echo "reference=$?"
$PY {tmp_path}/read.py w
""", read=READ)
    first_err = (tmp_path / "first.err").read_text().strip().splitlines()
    assert out[0] == "first=2", out
    assert first_err[-1].startswith("error: ") and "not enough space" in first_err[-1].lower(), first_err[-3:]
    assert "Traceback" not in "\n".join(first_err)
    assert out[1] == "second=0" and out[3] == "reference=0", out
    after, reference = json.loads(out[2]), json.loads(out[4])
    runs = after.pop("runs")
    reference.pop("runs")
    assert after == reference  # same rows, same content: nothing lost, nothing doubled
    # the run the full disk stopped could not record its own end; the next writer marks it failed
    assert [s for s, _ in runs] == ["failed", "done"], runs


def test_a_full_disk_during_a_backup_drops_nothing_and_records_nothing(tmp_path):
    code = """
import json, sys
from harness.gates import deploy
from harness.warehouse import backup
from harness.warehouse import connect, resolve_settings
c = connect(resolve_settings(database="w"), create_database=False)
step = sys.argv[1]
if step == "make":
    c.command("CREATE TABLE trades_enriched (id UInt64, s String) ENGINE = MergeTree ORDER BY id")
    c.command("INSERT INTO trades_enriched SELECT number, randomPrintableASCII(200) FROM numbers(60000)")
    print(json.dumps({"rows": c.query("SELECT count() FROM trades_enriched").result_rows[0][0]}))
    sys.exit()
try:
    res = deploy.cleanup_broken_tables(c, deploy.Guard("embedded"), ("trades_enriched",), backup_id="b1")
    outcome = f"dropped {[b.archive_table for b in res.dropped]}"
except Exception as exc:
    outcome = "error: " + str(exc).splitlines()[0][:300]
adb = backup.archive_database(c)
print(json.dumps({
    "outcome": outcome,
    "source": c.query("SELECT count() FROM system.tables WHERE database = currentDatabase() "
                      "AND name = 'trades_enriched'").result_rows[0][0],
    "archives": c.query("SELECT name, total_rows FROM system.tables WHERE database = {d:String} ORDER BY name",
                        parameters={"d": adb}).result_rows,
    "ledger": c.query("SELECT archive_table, archive_rows, verified FROM backups").result_rows,
    "broken": [str(b) for b in backup.missing_backups(c)]}))
"""
    out = _in_namespace(tmp_path, f"""
$PY -m harness schema --database w >/dev/null 2>&1 || exit 98
$PY {tmp_path}/step.py make || exit 97
fill 2000
$PY {tmp_path}/step.py cleanup
rm -f "$M/filler"
$PY {tmp_path}/step.py cleanup
""", step=code)
    rows = json.loads(out[0])["rows"]
    full, freed = json.loads(out[1]), json.loads(out[2])
    assert full["outcome"].startswith("error: ") and "space" in full["outcome"].lower(), full
    assert full["source"] == 1, "the table was dropped without a verified backup"
    assert full["archives"] == [] and full["ledger"] == [] and full["broken"] == [], full
    assert freed["outcome"] == "dropped ['trades_enriched__b1']" and freed["source"] == 0, freed
    assert freed["archives"] == [["trades_enriched__b1", rows]] and freed["ledger"] == [
        ["trades_enriched__b1", rows, 1]] and freed["broken"] == [], freed
