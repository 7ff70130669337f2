"""A refused stage shows its refusal on every one of its checks, never a raw SQL error from a fixture that met what
the refused stage never made (issue 20: after a refused cleanup, validate's oracle checks showed "Unknown table").
Selecting validate on an empty database refuses it (no backfill); its module-scoped cross-check would read the
_validate views that the refused first test never created."""
from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from harness.gates.pipeline import pytest_command

ROOT = Path(__file__).resolve().parents[2]


def test_every_check_of_a_refused_stage_names_the_refusal(tmp_path):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("CLICKHOUSE_", "PYTEST_", "POLYGON_", "HARNESS_RUN_ID"))}
    env["HARNESS_WAREHOUSE_DIR"] = str(tmp_path / "wh")
    env["HARNESS_RUN_ID"] = "refused-validate"
    r = subprocess.run([*pytest_command(), "tests/stages", "-m", "validate", "-p", "no:cacheprovider",
                        "-o", "addopts=-ra --strict-markers", "-q", "--database", "rv", "--reports",
                        str(tmp_path / "reports")], cwd=ROOT, env=env, capture_output=True, text=True,
                       timeout=600, check=False)
    assert r.returncode == 1, r.stdout[-3000:]
    run = json.loads((tmp_path / "reports" / "refused-validate" / "run.json").read_text())
    checks = [c for c in run["checks"] if c["stage"] == "validate"]
    assert {"sql_matches_oracle", "ui_sql_matches_oracle", "stage_complete"} <= {c["check"] for c in checks}
    for c in checks:
        assert c["outcome"] == "failed" and "stage 'validate' refused: missing gate backfill" in c["summary"], c
    assert "Unknown table" not in r.stdout and "DatabaseError" not in r.stdout, r.stdout[-3000:]
