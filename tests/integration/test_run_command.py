"""`python -m harness run` end to end on throwaway embedded warehouses: one test per exit code (0, 1, 2, 3),
run.json written, and alerts for the failed and the refused run received on loopback.

Each run is its own process, as cron or CI runs it; worlds are the committed fixture world (about 20 s a run).
"""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.support.receiver import Receiver

ROOT = Path(__file__).resolve().parents[2]
WORLD = ROOT / "fixtures" / "world"

pytestmark = pytest.mark.skipif(not (WORLD / "logs.jsonl.gz").is_file(), reason="fixture world not generated")


def _run(tmp_path, *args, env_extra=None):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("CLICKHOUSE_", "PYTEST_XDIST", "POLYGON_", "HARNESS_NOTIFY"))}
    env["HARNESS_WAREHOUSE_DIR"] = str(tmp_path / "wh")
    env.update(env_extra or {})
    r = subprocess.run([sys.executable, "-m", "harness", "run", "--reports", str(tmp_path / "reports"), *args],
                       cwd=ROOT, env=env, capture_output=True, text=True, timeout=900, check=False)
    runs = sorted((tmp_path / "reports").glob("*/run.json")) if (tmp_path / "reports").is_dir() else []
    return r, (json.loads(runs[-1].read_text()) if runs else None)


@pytest.mark.embedded_only("tests `harness run --target embedded`, which refuses servers by design")
def test_exit_0_all_passed_with_run_json(tmp_path):
    r, run = _run(tmp_path, "--stages", "backfill", "--database", "ok0")
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-2000:]
    assert "gate table, run" in r.stdout and f"run {run['run_id']}: passed (exit 0)" in r.stdout
    assert (run["outcome"], run["exit_code"], run["stages"], run["refused"]) == ("passed", 0, ["backfill"], {})
    checks = {c["check"]: c for c in run["checks"]}
    assert set(checks) >= {"ingest", "rebuild", "no_block_gap", "stage_complete"}
    assert all(c["stage"] == "backfill" and c["outcome"] == "passed" for c in checks.values())
    assert all(c["duration_s"] is not None and c["duration_s"] >= 0 for c in checks.values())
    assert checks["ingest"]["duration_s"] > 0 and checks["ingest"]["watermark_block"] == run["watermark"]["block"]
    meta = json.loads((WORLD / "world.json").read_text())
    (ing,) = run["ingest_runs"]
    assert (ing["command"], ing["status"]) == ("files", "done")
    assert run["watermark"]["block"] <= ing["to_block"] and ing["logs"] > 0, (ing, meta)
    (build,) = run["build"]
    assert build["check"] == "rebuild" and "trade_cashflows_v3" in build["steps"]
    assert abs(sum(build["steps"].values()) - build["seconds"]) < build["seconds"]  # steps are within the total
    page = (tmp_path / "reports" / run["run_id"] / "gate-report.html").read_text()
    assert "<h2>Build steps</h2>" in page and "<h2>Ingest runs</h2>" in page
    assert "BuildReport(" not in page and "{'" not in page  # tables, not Python reprs


@pytest.mark.embedded_only("tests `harness run --target embedded`, which refuses servers by design")
def test_exit_1_failed_check_posts_an_alert(tmp_path):
    world = tmp_path / "world"
    shutil.copytree(WORLD, world)
    wallets = yaml.safe_load((world / "wallets.yaml").read_text())
    wallets["wallets"][0]["address"] = "0x" + "5" * 40  # a reference wallet with no rows: backfill must fail
    (world / "wallets.yaml").write_text(yaml.safe_dump(wallets))
    with Receiver() as rx:
        r, run = _run(tmp_path, "--stages", "backfill", "--database", "f1", "--world", str(world),
                      env_extra={"HARNESS_NOTIFY_URL": rx.url})
    assert r.returncode == 1, r.stdout[-3000:] + r.stderr[-2000:]
    assert run["outcome"] == "failed" and run["exit_code"] == 1
    bad = [c for c in run["checks"] if c["outcome"] == "failed"]
    assert {c["check"] for c in bad} == {"reference_wallets_present", "stage_complete"}
    (alert,) = rx.bodies
    assert set(alert) >= {"run_id", "stage", "outcome", "summary", "host", "time"}
    assert (alert["run_id"], alert["stage"], alert["outcome"]) == (run["run_id"], "backfill", "failed")
    assert alert["summary"].startswith("reference_wallets_present: 7/8 reference wallets present")
    assert "s3cretToken" not in r.stdout + r.stderr + json.dumps(run)


@pytest.mark.embedded_only("tests `harness run --target embedded`, which refuses servers by design")
def test_exit_3_refused_gate_is_not_a_failed_check(tmp_path):
    with Receiver() as rx:
        r, run = _run(tmp_path, "--stages", "deploy", "--database", "r3", "--notify-url", rx.url)
    assert r.returncode == 3, r.stdout[-3000:] + r.stderr[-2000:]
    assert run["outcome"] == "refused" and list(run["refused"]) == ["deploy"]
    assert run["refused"]["deploy"].startswith("stage 'deploy' refused: missing gate backfill")
    (alert,) = rx.bodies
    assert (alert["stage"], alert["outcome"]) == ("deploy", "refused")


@pytest.mark.embedded_only("tests `harness run --target embedded`, which refuses servers by design")
def test_exit_2_usage_and_configuration(tmp_path):
    for args, env, says in [
        (["--stages", "dryrun..backfill"], {}, "--stages 'dryrun..backfill': dryrun comes after backfill"),
        (["--stages", "deploy", "--target", "prod"], {"CLICKHOUSE_URL": "https://ch.example:8443"},
         "--target prod needs CLICKHOUSE_USER, CLICKHOUSE_PASSWORD, CLICKHOUSE_DATABASE"),
        (["--stages", "sync", "--database", "bad-name!"], {}, "--database"),
    ]:
        r, _ = _run(tmp_path, *args, env_extra=env)
        assert r.returncode == 2, (args, r.stdout[-2000:], r.stderr)
        assert says in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert not (tmp_path / "wh").exists()  # nothing was touched
