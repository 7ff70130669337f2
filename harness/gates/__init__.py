"""Gate records, stage order and the data fingerprint: what may run next, and on which data.

Every check a stage makes is one row in ``gate_runs`` (run id, outcome, data fingerprint, watermark, code version).
A stage passed only when every check it defines ran and passed in the same run (``stage_summary``), and it counts
only for the fingerprint its checks ran on: the content of every raw and derived table, the ingest runs, the
schema and the code. Any ingest, rebuild or edit after a gate changes the fingerprint and so invalidates every later
gate; the highest block alone (the watermark, kept for display) cannot tell a tampered table from a clean one.
One exception, because a daily sync changes the data by design: the backfill gate carries forward through an
unbroken chain of passed syncs, each admitted on exactly the data the link before it left behind (``backfill_chain``).
A failed or killed sync that wrote anything, a hand edit or an ingest outside sync breaks the chain: no later check
can tell their writes apart, so only a new backfill gate mends it.
"""
from __future__ import annotations

import hashlib
import json
import logging
import secrets
import threading
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from clickhouse_connect.driver.client import Client

from harness.config import PROJECT_ROOT, code_version
from harness.errors import CheckFailed, redact
from harness.warehouse.sql import load

log = logging.getLogger(__name__)

STAGES = ("backfill", "sync", "cleanup", "validate", "dryrun", "deploy")
#: rollback is not in the chain: it needs a recorded deploy, not passed gates.
OUTCOMES = ("passed", "failed", "skipped", "no_data", "error")
STAGE_COMPLETE = "stage_complete"
#: Stages whose own checks change the data (ingest, rebuild): only their last check must be on the final data.
MUTATING_STAGES = ("backfill", "sync")


class GateError(CheckFailed, RuntimeError):
    """A stage was asked to run before the gates it depends on passed."""


@dataclass(frozen=True)
class Watermark:
    """Highest block ingested and its unix time; gates only count for the watermark they ran on."""

    block: int
    time: int


def watermark(client: Client) -> Watermark:
    row = client.query(load("checks/watermark")).result_rows[0]
    return Watermark(int(row[0] or 0), int(row[1] or 0))


# --- the data fingerprint ------------------------------------------------------------------------------------------

def fingerprint_tables() -> tuple[str, ...]:
    """Raw tables (every table the decoder fills), imported and derived prices, every derived table, and the
    market metadata (the backfill gate checks its token ids, and the per-market view shows its names)."""
    from harness.chain.decode import COLUMNS
    from harness.pnl.build import DERIVED_TABLES

    return tuple(dict.fromkeys((*COLUMNS, "market_prices", "imported_prices", *DERIVED_TABLES, "market_metadata")))


_CODE_GLOBS = ("harness/**/*.py", "harness/data/**/*", "sql/**/*.sql", "tests/stages/*.py", "wallets.yaml")
_cache: dict[str, str] = {}
_cache_lock = threading.Lock()


_code_digests: dict[tuple, str] = {}


def source_files(root: Path, patterns: tuple[str, ...]) -> list[Path]:
    """The files under ``root`` matching the glob patterns, in pattern then path order (no __pycache__)."""
    return [p for pattern in patterns for p in sorted(root.glob(pattern))
            if "__pycache__" not in p.parts and p.is_file()]


def files_digest(root: Path, files: list[Path], seed: bytes = b"") -> str:
    """sha256 (16 hex digits) of ``seed`` and each file's path relative to ``root`` and contents."""
    h = hashlib.sha256(seed)
    for path in files:
        h.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()[:16]


def code_fingerprint() -> str:
    """Hash of the code and SQL that judge and build (a dirty checkout with other edits is other code).

    The files are re-read only when one's name, size, inode, modification or change time changed since this
    process last hashed them: every check records it, and reading ~200 files each time was a fifth of a check's
    bookkeeping.
    """
    files = source_files(PROJECT_ROOT, _CODE_GLOBS)
    stats = tuple((str(p), st.st_size, st.st_mtime_ns, st.st_ino, st.st_ctime_ns)
                  for p, st in ((p, p.stat()) for p in files))
    if stats not in _code_digests:
        if len(_code_digests) > 64:
            _code_digests.clear()
        _code_digests[stats] = files_digest(PROJECT_ROOT, files)
    return _code_digests[stats]


def _table_contents(client: Client, tables: list[str]) -> dict[str, str]:
    """Per table, (rows, sum and xor of row hashes) hashed, bookkeeping columns aside, through FINAL where it
    dedups. Every column the table returns is hashed as it returns it (an ALIAS column as its expression)."""
    engines = dict(client.query(
        "SELECT name, engine FROM system.tables WHERE database = currentDatabase() AND name IN {t:Array(String)}",
        parameters={"t": tables}).result_rows)
    out = {}
    for t in tables:
        if t not in engines:
            out[t] = "absent"
            continue
        cols = [r[0] for r in client.query(
            "SELECT name FROM system.columns WHERE database = currentDatabase() AND table = {t:String} "
            "AND name NOT IN ('_version', '_deleted') ORDER BY position", parameters={"t": t}).result_rows]
        final = " FINAL" if engines[t].startswith("Replacing") else ""
        expr = "cityHash64(" + ", ".join(f"`{c}`" for c in cols) + ")"
        n, total, xor = client.query(
            f"SELECT count(), sum({expr}), groupBitXor({expr}) FROM `{t}`{final}").result_rows[0]
        out[t] = hashlib.sha256(f"{t}:{n}:{total}:{xor}".encode()).hexdigest()[:32]
    return out


def _table_keys(client: Client, tables: list[str]) -> dict[str, tuple[str | None, str]]:
    """Per table, (cache key, definition digest).

    The definition digest covers what the table's definition makes of its rows or will make of them at the next
    merge: engine clause (TTL included) and every column's type and expression (ALIAS, DEFAULT), so it is part of
    the fingerprint itself. The cache key adds the uuid, the whole CREATE statement and the active parts by name
    and checksum (checks/fingerprint_parts); None for a table with no parts to watch (a view, a Memory table, an
    absent one): those are re-read every time. Why parts and not the block ranges they cover: a merge may delete
    rows (a TTL), so only a part never rewritten is known to hold what it held. A merge therefore re-reads its own
    table once, never the others.
    """
    ddl = {r[0]: r for r in client.query(load("checks/fingerprint_ddl"), parameters={"tables": tables}).result_rows}
    parts = dict(client.query(load("checks/fingerprint_parts"), parameters={"tables": tables}).result_rows)
    db = client.query("SELECT currentDatabase()").result_rows[0][0]
    keys: dict[str, tuple[str | None, str]] = {}
    for t in tables:
        if t not in ddl:
            keys[t] = (None, "absent")
            continue
        _, engine, uuid, create, engine_full, columns = ddl[t]
        definition = repr((engine_full, [tuple(map(str, c)) for c in columns]))
        digest = hashlib.sha256(definition.encode()).hexdigest()[:32]
        if "MergeTree" not in engine:
            keys[t] = (None, digest)
            continue
        key = repr((str(db), t, engine, uuid, create, definition, [tuple(map(str, p)) for p in parts.get(t, [])]))
        keys[t] = (hashlib.sha256(key.encode()).hexdigest(), digest)
    return keys


def _cached_contents(client: Client, keys: list[str]) -> dict[str, str]:
    """The stored content digests of these keys (this process's, then fingerprint_cache's)."""
    with _cache_lock:
        found = {k: _cache[k] for k in keys if k in _cache}
    rest = [k for k in keys if k not in found]
    if rest:
        try:
            found.update(client.query(
                "SELECT key, argMax(contents, computed_at) FROM fingerprint_cache WHERE key IN {k:Array(String)} "
                "GROUP BY key", parameters={"k": rest}).result_rows)
        except Exception as exc:  # noqa: BLE001 -- a warehouse without the cache table (older schema) re-reads
            log.debug("fingerprint cache not read: %s", redact(str(exc)).splitlines()[0])
    return found


def _remember(client: Client, fresh: dict[str, str]) -> None:
    with _cache_lock:
        if len(_cache) > 10_000:
            _cache.clear()
        _cache.update(fresh)
    try:
        client.insert("fingerprint_cache", [[k, v] for k, v in fresh.items()], column_names=["key", "contents"])
    except Exception as exc:  # noqa: BLE001 -- the in-process cache still holds it
        log.debug("fingerprint cache not stored: %s", redact(str(exc)).splitlines()[0])


def fingerprint_components(client: Client) -> dict[str, str]:
    """Each part of the data fingerprint by name: one digest per fingerprinted table, the ingest runs, the schema
    files applied and the code.

    A table's contents are re-read only when its key (definition and active parts, see _table_keys) has no stored
    digest, so a gate re-reads only the tables that changed since any process last read them.
    """
    tables = list(fingerprint_tables())
    keyed = _table_keys(client, tables)
    keys = {t: k for t, (k, _) in keyed.items()}
    cached = _cached_contents(client, [k for k in keys.values() if k is not None])
    stale = [t for t in tables if keys[t] is None or keys[t] not in cached]
    read = _table_contents(client, stale) if stale else {}
    fresh = {keys[t]: read[t] for t in stale if keys[t] is not None}
    if fresh:
        _remember(client, fresh)
    out = {t: hashlib.sha256(f"{read[t] if t in read else cached[keys[t]]}/{keyed[t][1]}".encode()).hexdigest()[:32]
           for t in tables}
    ingests, schema = client.query(load("checks/fingerprint_meta")).result_rows[0]
    out.update({"ingest_runs": str(ingests), "schema": str(schema), "code": code_fingerprint()})
    return out


_recorded: set[tuple[str, str]] = set()


def data_fingerprint(client: Client) -> str:
    """What a gate judged, as 16 hex digits: table contents, ingest runs, schema checksums and code.

    Its components are kept in fingerprint_components, so a refusal can name what changed (changed_components).
    """
    comps = fingerprint_components(client)
    fp = hashlib.sha256("|".join(f"{k}={v}" for k, v in comps.items()).encode()).hexdigest()[:16]
    mark = (str(getattr(client, "database", "")), fp)
    if mark not in _recorded:
        try:
            client.insert("fingerprint_components", [[fp, k, v] for k, v in comps.items()],
                          column_names=["fingerprint", "component", "digest"])
            _recorded.add(mark)
        except Exception as exc:  # noqa: BLE001 -- an older schema: refusals just cannot name the change
            log.debug("fingerprint components not stored: %s", redact(str(exc)).splitlines()[0])
    return fp


def changed_components(client: Client, fingerprint: str, now: dict[str, str] | None = None) -> list[str] | None:
    """What differs between a recorded fingerprint and the data now (tables by name, ingest_runs, schema, code);
    None when that fingerprint's components were never recorded."""
    try:
        then = dict(client.query(
            "SELECT component, argMax(digest, recorded_at) FROM fingerprint_components "
            "WHERE fingerprint = {f:String} GROUP BY component", parameters={"f": fingerprint}).result_rows)
    except Exception:  # noqa: BLE001 -- an older schema without the table
        return None
    if not then:
        return None
    now = now if now is not None else fingerprint_components(client)
    return sorted(k for k in set(then) | set(now) if then.get(k) != now.get(k))


def new_run_id() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(3)


def record(
    client: Client, *, run_id: str, stage: str, check: str, outcome: str, wm: Watermark | None = None,
    detail: str | dict = "", started_at: datetime | None = None, fingerprint: str | None = None,
    session: str = "",
) -> Watermark:
    """Append one check outcome on the current data (fingerprint); returns the watermark it was recorded against.

    The detail is redacted here, so no secret reaches gate_runs or the reports made from it.
    """
    if stage not in STAGES and stage != "rollback":
        raise ValueError(f"unknown stage {stage!r}")
    if outcome not in OUTCOMES:
        raise ValueError(f"unknown outcome {outcome!r}; one of {OUTCOMES}")
    if isinstance(detail, dict):
        detail = json.dumps(detail, sort_keys=True, default=str)
    fingerprint = fingerprint or data_fingerprint(client)
    wm = wm or _watermark_of(client, fingerprint)
    now = datetime.now(UTC)
    client.insert(
        "gate_runs",
        [[run_id, stage, redact(check), outcome, wm.block, datetime.fromtimestamp(wm.time, UTC),
          code_version(), redact(detail), started_at or now, now, fingerprint, session]],
        column_names=["run_id", "stage", "check_name", "outcome", "watermark_block", "watermark_time",
                      "code_version", "detail", "started_at", "finished_at", "fingerprint", "session"],
    )
    return wm


_watermarks: dict[tuple[str, str], Watermark] = {}


def _watermark_of(client: Client, fingerprint: str) -> Watermark:
    """The watermark of the data a fingerprint names, read once per process: the fingerprint covers every raw
    table's contents, and the watermark query reads those tables through FINAL."""
    key = (str(getattr(client, "database", "")), fingerprint)
    if key not in _watermarks:
        if len(_watermarks) > 1024:
            _watermarks.clear()
        _watermarks[key] = watermark(client)
    return _watermarks[key]


@dataclass(frozen=True)
class StageState:
    stage: str
    passed_on: list[str]  # data fingerprints with a passed run, newest first
    last: str  # human summary of the newest run, on any data
    #: (started on, ended on) fingerprints of each passed run that recorded where it started, newest first
    links: list[tuple[str, str]] = field(default_factory=list)


def stage_states(client: Client, stages: tuple[str, ...] = STAGES) -> dict[str, StageState]:
    rows = client.query(load("checks/gate_latest_runs"), parameters={"stages": list(stages)}).result_rows
    out = {s: StageState(s, [], "never run") for s in stages}
    for stage, run_id, fp, wm_block, finished, bad, complete, started_on in rows:
        st = out[stage]
        ok = bad == 0 and complete > 0  # stage_complete is only written passed when every check passed
        if ok:
            st.passed_on.append(fp)
            if started_on:
                st.links.append((started_on, fp))
        if st.last == "never run":
            verdict = "passed" if ok else (f"{bad} check(s) failed" if bad else "incomplete")
            out[stage] = StageState(stage, st.passed_on,
                                    f"run {run_id} at block {wm_block}, data {fp or '?'}: {verdict}", st.links)
    return out


def backfill_chain(backfill: StageState, sync: StageState, fp: str) -> list[str] | None:
    """The chain that carries the backfill gate to data ``fp``: [backfill's data, sync 1's end, ..., fp], or None.

    Each link is a passed sync admitted on exactly the data the link before it ended on (its recorded
    ``started_on``), so every change since the backfill gate was made and judged by a passed sync. Any other change
    (a sync that failed after writing, a hand edit, an ingest outside sync) leaves data no passed stage ended on,
    and the chain breaks there. Walks at most one step per passed sync (one a day).
    """
    if fp in backfill.passed_on:
        return [fp]
    starts: dict[str, list[str]] = {}
    for start, end in sync.links:
        starts.setdefault(end, []).append(start)
    seen = {fp}
    todo = [[fp]]
    while todo:
        path = todo.pop()
        for start in starts.get(path[0], []):
            if start in seen:
                continue
            if start in backfill.passed_on:
                return [start, *path]
            seen.add(start)
            todo.append([start, *path])
    return None


def missing_gates(client: Client, stage: str, wm: Watermark | None = None, *,
                  fingerprint: str | None = None) -> list[str]:
    """Earlier stages lacking a passed run on the current data (fingerprint), each with why."""
    if stage not in STAGES:
        raise ValueError(f"unknown stage {stage!r}")
    earlier = STAGES[: STAGES.index(stage)]
    if not earlier:
        return []
    fp = fingerprint or data_fingerprint(client)
    wm = wm or _watermark_of(client, fp)
    states = stage_states(client, tuple(dict.fromkeys((*earlier, "sync"))))
    missing = []
    for s in earlier:
        st = states[s]
        if fp in st.passed_on:
            continue
        if s == "backfill":
            if backfill_chain(st, states["sync"], fp) is not None:
                continue
            if st.passed_on:  # a backfill passed once: say why no chain of syncs reaches the data now
                missing.append(f"backfill (needs a passed run on the current data, block {wm.block} fingerprint "
                               f"{fp}, or an unbroken chain of passed syncs from one, each started on the data the "
                               f"one before left: none reaches it, so the data changed outside a passed sync; "
                               f"last: {st.last}; last sync: {states['sync'].last})")
                continue
        missing.append(f"{s} (needs a passed run on the current data, block {wm.block} fingerprint {fp}; "
                       f"last: {st.last}{_what_changed(client, st.passed_on)})")
    return missing


def _what_changed(client: Client, passed_on: list[str]) -> str:
    """'; changed since it passed on <fp>: <components>' for the newest fingerprint the stage passed on."""
    if not passed_on:
        return ""
    changed = changed_components(client, passed_on[0])
    return f"; changed since it passed on {passed_on[0]}: {', '.join(changed)}" if changed else ""


def require_previous(client: Client, stage: str, wm: Watermark | None = None) -> Watermark:
    """Raise GateError naming every missing gate; return the watermark the stage runs on."""
    fp = data_fingerprint(client)
    wm = wm or _watermark_of(client, fp)
    missing = missing_gates(client, stage, wm, fingerprint=fp)
    if missing:
        raise GateError(f"stage {stage!r} refused: missing gate " + "; ".join(missing))
    return wm


def run_rows(client: Client, run_id: str) -> list[dict]:
    res = client.query(load("checks/gate_run_rows"), parameters={"run_id": run_id})
    return [dict(zip(res.column_names, r)) for r in res.result_rows]


def stage_summary(client: Client, run_id: str, stage: str, expected: Collection[str] | None = None, *,
                  fingerprint: str | None = None, session: str | None = None) -> tuple[bool, str]:
    """Did every check of ``stage`` in this run pass (skips and no-data allowed), on the current data?

    ``expected`` names every check the stage defines: one that did not run in this run (deselected with -k, or
    a crash) fails the stage. Read-only stages must have run every check on the current data; a stage that
    changes the data itself (backfill, sync) must have run its last check on it. With ``session``, only checks
    recorded by that pytest session count (a run id given again to a later session does not add to it).
    With the reason if not.
    """
    rows = [r for r in run_rows(client, run_id) if r["stage"] == stage and r["check_name"] != STAGE_COMPLETE
            and (session is None or r.get("session") == session)]
    if not rows:
        return False, f"no checks of stage {stage} recorded in run {run_id}"
    bad = [f"{r['check_name']}={r['outcome']}" for r in rows if r["outcome"] in ("failed", "error")]
    if bad:
        return False, "failed checks: " + ", ".join(bad)
    if expected is not None:
        ran = {r["check_name"] for r in rows}
        absent = sorted(set(expected) - ran)
        if absent:
            return False, (f"checks of stage {stage} that did not run in run {run_id}: {', '.join(absent)} "
                           "(a stage passes only when all its checks run in the same run)")
    fp = fingerprint or data_fingerprint(client)
    judged = rows[-1:] if stage in MUTATING_STAGES else rows
    stale = sorted({r["check_name"] for r in judged if r.get("fingerprint") != fp})
    if stale:
        return False, f"data changed since checks ran (now {fp}): {', '.join(stale[:10])}"
    return True, f"{len(rows)} checks passed or skipped on data {fp}"


def format_table(rows: list[dict]) -> str:
    """The gate table printed at the end of a stage run."""
    if not rows:
        return "(no gate records)"
    head = ("stage", "check", "outcome", "block", "detail")
    body = [(r["stage"], r["check_name"], r["outcome"], str(r["watermark_block"]),
             _short(r["detail"])) for r in rows]
    widths = [max(len(h), *(len(b[i]) for b in body)) for i, h in enumerate(head)]
    widths[-1] = min(widths[-1], 70)
    line = lambda cells: "  ".join(c.ljust(w)[:w] for c, w in zip(cells, widths))
    return "\n".join([line(head), line(tuple("-" * w for w in widths)), *(line(b) for b in body)])


def _short(detail: str) -> str:
    try:
        d = json.loads(detail)
        if isinstance(d, dict) and "summary" in d:
            return str(d["summary"])
    except (ValueError, TypeError):
        pass
    return detail.replace("\n", " ")
