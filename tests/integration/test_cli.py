"""The README's commands, end to end on a throwaway embedded warehouse, each in its own process as a user runs them."""
import json
import os
import re
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
WORLD = ROOT / "fixtures" / "world"

pytestmark = pytest.mark.skipif(not (WORLD / "logs.jsonl.gz").is_file(), reason="fixture world not generated")


def _harness(*args, wdir: Path, check: bool = True):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CLICKHOUSE_", "PYTEST_XDIST", "POLYGON_"))}
    env["HARNESS_WAREHOUSE_DIR"] = str(wdir)
    r = subprocess.run([sys.executable, "-m", "harness", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                       timeout=600)
    if check:
        assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    return r


def _usd(micros: int) -> str:
    return f"{Decimal(micros) / 1_000_000:.6f}"


@pytest.mark.embedded_only("runs the README's commands on an embedded warehouse directory of its own (the documented default)")
def test_schema_ingest_build_pnl(tmp_path):
    wdir = tmp_path / "wh"
    out = _harness("schema", "--database", "cli", wdir=wdir).stdout
    assert re.search(r"schema version \d+ applied to embedded chdb://.* database=cli", out)
    _harness("ingest-files", str(WORLD), "--database", "cli", wdir=wdir)
    _harness("build", "--no-cutoff", "--database", "cli", wdir=wdir)
    truth = json.loads((WORLD / "truth.json").read_text())["wallets"]
    wallet, t = max(truth.items(), key=lambda kv: abs(kv[1]["total"]))
    out = _harness("pnl", "--database", "cli", wallet, wdir=wdir).stdout
    assert f"realized {_usd(t['realized'])} unrealized {_usd(t['unrealized'])} total {_usd(t['total'])}" in out
    unknown = _harness("pnl", "--database", "cli", "0x" + "0" * 39 + "1", wdir=wdir, check=False)
    assert "no P&L rows for wallet" in unknown.stdout


@pytest.mark.embedded_only("runs the README's commands on an embedded warehouse directory of its own (the documented default)")
def test_pipeline_command_runs_every_stage_and_prints_the_gate_table(tmp_path):
    r = _harness("pipeline", "--reports", str(tmp_path / "reports"), wdir=tmp_path / "wh")
    table = r.stdout.split("gate table, run", 1)[1]
    stages = re.findall(r"^(\w+)\s+stage_complete\s+passed", table, re.M)
    assert stages == ["backfill", "sync", "cleanup", "validate", "dryrun", "deploy"]
    assert not re.search(r"\s(failed|error)\s", table)
    (run_dir,) = (tmp_path / "reports").iterdir()
    assert {p.name for p in run_dir.iterdir()} >= {"gate-report.md", "gate-report.html", "junit.xml"}
