"""``python -m harness run``: the operator's one entry point to the stages.

Why: a real run was a raw pytest invocation with many flags, and its exit code could not tell a failed check from
a gate that refused to start. This builds the invocation (stages chosen by marker, a range or a list), runs it with
a known run id, completes ``reports/<run id>/run.json`` and maps the outcome to one exit code:
0 every check passed, 1 a check failed, 3 a gate refused to start (and nothing else failed), 2 usage or
configuration. Failed and refused runs post an alert (``--notify-url`` / HARNESS_NOTIFY_URL).
"""
from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from harness.config import PROJECT_ROOT
from harness.errors import EXIT_CHECK_FAILED, EXIT_ERROR, EXIT_OK, UsageError, register_secret
from harness.gates import STAGE_COMPLETE, STAGES, new_run_id

log = logging.getLogger(__name__)

EXIT_REFUSED = 3
ALL_STAGES = STAGES + ("rollback",)
TARGETS = ("embedded", "prod")
PROD_ENV = ("CLICKHOUSE_URL", "CLICKHOUSE_USER", "CLICKHOUSE_PASSWORD", "CLICKHOUSE_DATABASE")
#: pytest's own exit codes other than 0/1 (interrupted, internal error, usage error, nothing collected).
_PYTEST_TROUBLE = {2: "interrupted", 3: "pytest internal error", 4: "pytest usage error", 5: "no tests collected"}


def parse_stages(text: str) -> list[str]:
    """'backfill..dryrun', 'validate,dryrun', 'backfill..sync,deploy' or one name → stages in pipeline order."""
    chosen: set[str] = set()
    for part in (p.strip() for p in (text or "").split(",")):
        if not part:
            raise UsageError(f"--stages {text!r}: empty item (expected e.g. backfill..dryrun or sync,validate)")
        lo, sep, hi = part.partition("..")
        ends = [lo.strip(), hi.strip()] if sep else [lo.strip()]
        for e in ends:
            if e not in ALL_STAGES:
                raise UsageError(f"--stages {text!r}: unknown stage {e!r}; stages are {', '.join(ALL_STAGES)}")
        if sep:
            if "rollback" in ends:
                raise UsageError(f"--stages {text!r}: rollback is not in the stage chain; list it on its own")
            a, b = STAGES.index(ends[0]), STAGES.index(ends[1])
            if a > b:
                raise UsageError(f"--stages {text!r}: {ends[0]} comes after {ends[1]} (order: {'..'.join(STAGES)})")
            chosen.update(STAGES[a:b + 1])
        else:
            chosen.add(ends[0])
    return [s for s in ALL_STAGES if s in chosen]


@dataclass
class RunPlan:
    """What ``run`` will execute: the pytest argv, its environment, and where the reports land."""

    run_id: str
    stages: list[str]
    target: str
    argv: list[str]
    env: dict[str, str] = field(repr=False)
    report_dir: Path
    database: str | None

    @property
    def run_json(self) -> Path:
        return self.report_dir / "run.json"


def plan_run(*, stages: list[str], target: str = "embedded", database: str | None = None,
             world: Path | None = None, rpc_url: str | None = None, reports: Path = PROJECT_ROOT / "reports",
             extra: list[str] | None = None, env: dict[str, str] | None = None, run_id: str | None = None
             ) -> RunPlan:
    """Check the options against the target and build the pytest invocation; touches nothing.

    Embedded: CLICKHOUSE_* are removed from the child's environment, so an embedded run can never reach (let alone
    deploy to) a server; deploy and rollback run with the embedded-only ``--throwaway-prod`` stand-in.
    Prod: ``--prod`` (CLICKHOUSE_URL/USER/PASSWORD/DATABASE required); never fed by a simulated world.
    """
    from harness.gates.pipeline import STAGE_PLUGINS, pytest_command
    from harness.warehouse import WarehouseError, check_database_name, resolve_settings

    if target not in TARGETS:
        raise UsageError(f"--target {target!r}: expected one of {', '.join(TARGETS)}")
    base = dict(os.environ if env is None else env)
    rpc_url = rpc_url or base.get("POLYGON_RPC_URL") or None
    register_secret(rpc_url)
    if database is not None:
        try:
            check_database_name(database)
        except WarehouseError as exc:
            raise UsageError(f"--database: {exc}") from None
    run_id = run_id or new_run_id()
    reports = reports if reports.is_absolute() else Path.cwd() / reports
    args = ["tests/stages", "-m", " or ".join(stages), "-p", "no:cacheprovider", "-o", "addopts=-ra --strict-markers",
            "-q", "--reports", str(reports)]
    if target == "embedded":
        _refuse_server_options(extra or [])
        child = {k: v for k, v in base.items() if not k.startswith("CLICKHOUSE_")}
        args += ["--database", database or "polymarket"]
        if {"deploy", "rollback"} & set(stages):
            args.append("--throwaway-prod")
    else:
        missing = [k for k in PROD_ENV if not base.get(k)
                   and not (k == "CLICKHOUSE_URL" and base.get("CLICKHOUSE_HOST"))]  # or HOST/PORT/SECURE
        if missing:
            raise UsageError(f"--target prod needs {', '.join(missing)} in the environment; nothing was touched")
        if world is not None:
            raise UsageError("--target prod takes its data from --rpc-url / POLYGON_RPC_URL, never from --world")
        if {"backfill", "sync"} & set(stages) and not rpc_url:
            raise UsageError("--target prod with backfill or sync needs --rpc-url or POLYGON_RPC_URL "
                             "(a production warehouse is never fed the simulated world)")
        try:
            resolve_settings(prod=True, database=database, env=base)
        except WarehouseError as exc:
            raise UsageError(str(exc)) from None
        child = dict(base)
        args.append("--prod")
        if database:
            args += ["--database", database]
    if world is not None:
        args += ["--world", str(world)]
    if rpc_url:
        child["POLYGON_RPC_URL"] = rpc_url  # through the environment: never on a command line others can read
    child["HARNESS_RUN_ID"] = run_id
    return RunPlan(run_id=run_id, stages=stages, target=target,
                   argv=[*pytest_command(*STAGE_PLUGINS), *args, *(extra or [])], env=child,
                   report_dir=reports / run_id, database=database)


def _refuse_server_options(extra: list[str]) -> None:
    """An embedded run never reaches a server, not even through pytest options after ``--``: a server address
    (``--clickhouse http(s)://…``), a non-embedded ``--backend`` or ``--prod`` there is a usage error (exit 2)."""
    for i, a in enumerate(extra):
        name, eq, value = a.partition("=")
        if not eq:
            value = extra[i + 1] if i + 1 < len(extra) else ""
        if name == "--clickhouse" and not value.startswith("chdb:"):
            from harness.errors import redact_url

            raise UsageError(f"run --target embedded cannot reach a server: '--clickhouse {redact_url(value)}' after "
                             "-- names one; use --target prod (CLICKHOUSE_URL/USER/PASSWORD/DATABASE) for a server; "
                             "nothing was touched")
        if name == "--backend" and value not in ("embedded", ""):
            raise UsageError(f"run --target embedded cannot use '--backend {value}' after --; use --target prod "
                             "for a server; nothing was touched")
        if a == "--prod":
            raise UsageError("run --target embedded cannot take --prod after --; use --target prod; nothing was "
                             "touched")


def classify(pytest_rc: int, result: dict | None, stages: list[str] | tuple[str, ...] = ()
             ) -> tuple[int, str, str, str]:
    """(exit code, outcome, stage, summary) from pytest's exit status, the run's run.json and the stages asked for.

    A refused stage's checks are recorded as failed with the refusal as detail; they make the run "refused" (3)
    only when nothing else failed, since a refusal after a failed check is that failure's consequence. Exit 0 needs
    more than pytest's 0: every stage asked for must have recorded its completion check (rollback, which has none,
    at least one check), so a run that executed nothing (``-- --co``) or left a stage's completion out is an error.
    """
    if pytest_rc in _PYTEST_TROUBLE:
        return EXIT_ERROR, "error", "run", f"{_PYTEST_TROUBLE[pytest_rc]} (pytest exit {pytest_rc})"
    checks = (result or {}).get("checks", [])
    refused = (result or {}).get("refused", {})
    failed = [c for c in checks if c["outcome"] in ("failed", "error") and c["stage"] not in refused]
    if failed:
        c = failed[0]
        more = f" (+{len(failed) - 1} more)" if len(failed) > 1 else ""
        return EXIT_CHECK_FAILED, "failed", c["stage"], f"{c['check']}: {c['summary']}{more}"
    if refused:
        stage, why = next(iter(refused.items()))
        return EXIT_REFUSED, "refused", stage, why
    if pytest_rc == 0:
        if not checks:
            return EXIT_ERROR, "error", "run", ("the run executed no check (pytest exit 0, 0 checks recorded; "
                                                "collect-only or a selection that matched nothing?): not a pass")
        done = {c["stage"] for c in checks
                if c["stage"] == "rollback" or (c["check"] == STAGE_COMPLETE and c["outcome"] == "passed")}
        for s in stages:
            if s not in done:
                return EXIT_ERROR, "error", s, (f"stage {s} did not record its {STAGE_COMPLETE} check in this "
                                                "run (not run, or deselected): not a pass")
        return EXIT_OK, "passed", "run", f"{len(checks)} checks passed or skipped"
    if result is None:
        return EXIT_ERROR, "error", "run", f"pytest exit {pytest_rc} and no run.json was written"
    return EXIT_CHECK_FAILED, "failed", "run", f"pytest exit {pytest_rc}; no failed stage check recorded"


def run(plan: RunPlan, *, notify: str | None = None, fresh: bool = False, notify_format: str = "json") -> int:
    """Execute the plan, complete run.json, print the verdict, alert on failure (in ``notify_format``: json,
    slack or teams); the exit code."""
    from harness.ops import notify as alerts
    from harness.ops.notify_format import render

    plan.report_dir.mkdir(parents=True, exist_ok=True)
    if fresh:
        drop_embedded(plan)
    log.info("run %s: stages %s on %s", plan.run_id, ",".join(plan.stages), plan.target,
             extra={"run_id": plan.run_id})
    rc = subprocess.call(plan.argv, cwd=PROJECT_ROOT, env=plan.env)
    result = None
    if plan.run_json.is_file():
        result = json.loads(plan.run_json.read_text(encoding="utf-8"))
    code, outcome, stage, summary = classify(rc, result, plan.stages)
    merged = dict(result or {"run_id": plan.run_id, "checks": [], "refused": {}})
    merged.update({"run_id": plan.run_id, "target": plan.target, "stages": plan.stages, "pytest_exit": rc,
                   "exit_code": code, "outcome": outcome, "summary": summary})
    from harness.errors import redact

    plan.run_json.write_text(redact(json.dumps(merged, indent=2, default=str)) + "\n", encoding="utf-8")
    print(f"run {plan.run_id}: {outcome} (exit {code}): {redact(summary)}")
    print(f"reports: {plan.report_dir}")
    if code != EXIT_OK:
        alerts.post(notify, render(alerts.message(run_id=plan.run_id, stage=stage, outcome=outcome,
                                                  summary=summary, target=plan.target, stages=plan.stages,
                                                  exit_code=code), notify_format))
    return code


def drop_embedded(plan: RunPlan) -> None:
    """Drop the embedded database (and its archive) first, in a child process (chDB: one process per directory)."""
    from harness.warehouse import WarehouseError

    if plan.target != "embedded":
        raise UsageError("--fresh only drops an embedded database, never a server's")
    db = plan.database or "polymarket"
    code = ("import os, sys\nfrom harness.errors import HarnessError\nfrom harness.warehouse import *\n"
            "try:\n    s = resolve_settings(backend='embedded', database=sys.argv[1], env=os.environ)\n"
            "    c = connect(s); drop_database(c, sys.argv[1]); drop_database(c, sys.argv[1] + '_archive')\n"
            "except HarnessError as exc:\n    sys.exit(str(exc).splitlines()[0])\n")
    done = subprocess.run([sys.executable, "-c", code, db], env=plan.env, cwd=PROJECT_ROOT, capture_output=True,
                          text=True, check=False)
    if done.returncode != 0:
        lines = (done.stderr.strip() or f"exit status {done.returncode}").splitlines()
        raise WarehouseError(f"run: cannot prepare database {db!r}: {lines[-1]}")
