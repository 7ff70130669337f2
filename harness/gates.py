"""Gate records, stage order and the data watermark: what may run next, and on which data.

Every check a stage makes is one row in ``gate_runs`` (run id, outcome, watermark, code version). A stage may start
only when each earlier stage has a passed run on the current watermark, so a deploy can never ride on checks made
against other data. One exception, because a daily sync moves the watermark by design: the backfill gate may sit
on an older watermark when a sync (which re-proves coverage) passed on the current one.
"""
from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timezone

from clickhouse_connect.driver.client import Client

from harness.config import code_version
from harness.sql import load

STAGES = ("backfill", "sync", "cleanup", "validate", "dryrun", "deploy")
#: rollback is not in the chain: it needs a recorded deploy, not passed gates.
OUTCOMES = ("passed", "failed", "skipped", "no_data", "error")
STAGE_COMPLETE = "stage_complete"


class GateError(RuntimeError):
    """A stage was asked to run before the gates it depends on passed."""


@dataclass(frozen=True)
class Watermark:
    """Highest block ingested and its unix time; gates only count for the watermark they ran on."""

    block: int
    time: int


def watermark(client: Client) -> Watermark:
    row = client.query(load("checks/watermark")).result_rows[0]
    return Watermark(int(row[0] or 0), int(row[1] or 0))


def new_run_id() -> str:
    return datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(3)


def record(
    client: Client, *, run_id: str, stage: str, check: str, outcome: str, wm: Watermark | None = None,
    detail: str | dict = "", started_at: datetime | None = None,
) -> Watermark:
    """Append one check outcome; returns the watermark it was recorded against."""
    if stage not in STAGES and stage != "rollback":
        raise ValueError(f"unknown stage {stage!r}")
    if outcome not in OUTCOMES:
        raise ValueError(f"unknown outcome {outcome!r}; one of {OUTCOMES}")
    wm = wm or watermark(client)
    if isinstance(detail, dict):
        detail = json.dumps(detail, sort_keys=True, default=str)
    now = datetime.now(timezone.utc)
    client.insert(
        "gate_runs",
        [[run_id, stage, check, outcome, wm.block, datetime.fromtimestamp(wm.time, timezone.utc), code_version(),
          detail, started_at or now, now]],
        column_names=["run_id", "stage", "check_name", "outcome", "watermark_block", "watermark_time",
                      "code_version", "detail", "started_at", "finished_at"],
    )
    return wm


@dataclass(frozen=True)
class StageState:
    stage: str
    passed_on: list[int]  # watermarks with a passed run, newest first
    last: str  # human summary of the newest run, any watermark


def stage_states(client: Client, stages: tuple[str, ...] = STAGES) -> dict[str, StageState]:
    rows = client.query(load("checks/gate_latest_runs"), parameters={"stages": list(stages)}).result_rows
    out = {s: StageState(s, [], "never run") for s in stages}
    for stage, run_id, wm_block, finished, bad, complete in rows:
        st = out[stage]
        ok = bad == 0 and complete > 0  # stage_complete is only written passed when every check passed
        if ok:
            st.passed_on.append(int(wm_block))
        if st.last == "never run":
            verdict = "passed" if ok else (f"{bad} check(s) failed" if bad else "incomplete")
            out[stage] = StageState(stage, st.passed_on, f"run {run_id} at block {wm_block}: {verdict}")
    return out


def missing_gates(client: Client, stage: str, wm: Watermark | None = None) -> list[str]:
    """Earlier stages lacking a passed run on the current watermark, each with why."""
    if stage not in STAGES:
        raise ValueError(f"unknown stage {stage!r}")
    wm = wm or watermark(client)
    earlier = STAGES[: STAGES.index(stage)]
    if not earlier:
        return []
    states = stage_states(client, earlier)
    missing = []
    for s in earlier:
        st = states[s]
        if wm.block in st.passed_on:
            continue
        if s == "backfill" and st.passed_on and "sync" in states and wm.block in states["sync"].passed_on:
            continue
        missing.append(f"{s} (needs a passed run at block {wm.block}; last: {st.last})")
    return missing


def require_previous(client: Client, stage: str, wm: Watermark | None = None) -> Watermark:
    """Raise GateError naming every missing gate; return the watermark the stage runs on."""
    wm = wm or watermark(client)
    missing = missing_gates(client, stage, wm)
    if missing:
        raise GateError(f"stage {stage!r} refused: missing gate " + "; ".join(missing))
    return wm


def run_rows(client: Client, run_id: str) -> list[dict]:
    res = client.query(load("checks/gate_run_rows"), parameters={"run_id": run_id})
    return [dict(zip(res.column_names, r)) for r in res.result_rows]


def stage_summary(client: Client, run_id: str, stage: str) -> tuple[bool, str]:
    """Did every check of ``stage`` in this run pass (skips and no-data allowed)? With the reason if not."""
    rows = [r for r in run_rows(client, run_id) if r["stage"] == stage and r["check_name"] != STAGE_COMPLETE]
    if not rows:
        return False, f"no checks of stage {stage} recorded in run {run_id}"
    bad = [f"{r['check_name']}={r['outcome']}" for r in rows if r["outcome"] in ("failed", "error")]
    if bad:
        return False, "failed checks: " + ", ".join(bad)
    marks = {r["watermark_block"] for r in rows}
    if len(marks) > 1:
        return False, f"checks ran on different watermarks {sorted(marks)}: data changed mid-stage"
    return True, f"{len(rows)} checks passed or skipped"


def format_table(rows: list[dict]) -> str:
    """The gate table printed at the end of a stage run."""
    if not rows:
        return "(no gate records)"
    head = ("stage", "check", "outcome", "block", "detail")
    body = [(r["stage"], r["check_name"], r["outcome"], str(r["watermark_block"]),
             _short(r["detail"])) for r in rows]
    widths = [max(len(h), *(len(b[i]) for b in body)) for i, h in enumerate(head)]
    widths[-1] = min(widths[-1], 70)
    line = lambda cells: "  ".join(c.ljust(w)[:w] for c, w in zip(cells, widths))  # noqa: E731
    return "\n".join([line(head), line(tuple("-" * w for w in widths)), *(line(b) for b in body)])


def _short(detail: str) -> str:
    try:
        d = json.loads(detail)
        if isinstance(d, dict) and "summary" in d:
            return str(d["summary"])
    except (ValueError, TypeError):
        pass
    return detail.replace("\n", " ")
