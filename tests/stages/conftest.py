"""The stage harness: gate order, one gate_runs row per stage test, reports and the gate table at the end.

Stage tests run on one xdist worker, in file order (the scheduler in the root conftest keeps tests/stages/
together), so order holds under ``-n auto``.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from harness import gates
from harness.config import PROJECT_ROOT
from harness.gates.deploy import Guard
from harness.gates.pipeline import DEFAULT_WORLD, World
from harness.gates.wallets import ReferenceWallet, WalletsFileError, load_wallets

STAGE_MARKS = gates.STAGES + ("rollback",)


def stage_of(item: pytest.Item) -> str | None:
    for m in item.iter_markers():
        if m.name in STAGE_MARKS:
            return m.name
    return None


@dataclass
class Pipeline:
    """Everything a stage needs, resolved once per session from the options."""

    client: object
    settings: object
    run_id: str
    guard: Guard
    world: World | None
    rpc_url: str | None
    options: pytest.Config
    refusals: dict[str, str | None] = field(default_factory=dict)
    notes: dict[str, object] = field(default_factory=dict)
    started: datetime = field(default_factory=lambda: datetime.now(UTC))  # ingest runs since then are this run's

    @property
    def cutoff(self) -> int | None:
        return self.options.getoption("--cutoff")

    @property
    def deploy_allowed(self) -> bool:
        return bool(self.options.getoption("--prod") or self.options.getoption("--throwaway-prod"))


def _rpc_url(config: pytest.Config) -> str | None:
    import os

    return config.getoption("--rpc-url") or os.environ.get("POLYGON_RPC_URL")


@pytest.fixture(scope="session")
def pipeline(warehouse, warehouse_settings, pytestconfig):
    rpc = _rpc_url(pytestconfig)
    world = None
    if not rpc:
        world = World(Path(pytestconfig.getoption("--world") or DEFAULT_WORLD))
        if not world.exists():
            pytest.fail(f"no data source: --rpc-url not given and no simulated world at {world.path} "
                        f"(generate one with: python -m harness simulate --out {world.path})", pytrace=False)
    p = Pipeline(
        client=warehouse, settings=warehouse_settings, run_id=pytestconfig._harness_run_id,
        # the session's own local-server holds nothing but this session's scratch data, like an embedded one
        guard=Guard(warehouse_settings.backend, prod=warehouse_settings.prod,
                    throwaway=bool(pytestconfig.getoption("--throwaway-prod"))
                    or getattr(pytestconfig, "_harness_local_server", None) is not None),
        world=world, rpc_url=rpc, options=pytestconfig,
    )
    pytestconfig._harness_pipeline = p
    p.notes["ddl"] = ddl = []  # every CREATE/ALTER the stages send, for test_8_engines (replicated-safe tables)
    original = warehouse.command

    def recording(cmd, *args, **kwargs):
        if isinstance(cmd, str) and _DDL.match(cmd):
            ddl.append(cmd)
        return original(cmd, *args, **kwargs)

    warehouse.command = recording
    try:
        yield p
    finally:
        del warehouse.command
    _write_reports(p)
    pytestconfig._harness_pipeline = None


_DDL = __import__("re").compile(r"^\s*(?:--[^\n]*\n\s*)*(?:CREATE|ALTER|ATTACH|REPLACE)\b", __import__("re").I)


def _write_reports(p: Pipeline) -> None:
    from harness.gates.report import write_reports, write_run_json

    out = Path(p.options.getoption("--reports"))
    if not out.is_absolute():
        out = PROJECT_ROOT / out
    out = out / p.run_id
    refused = {s: why for s, why in p.refusals.items() if why}
    write_run_json(p.client, p.run_id, out, refused=refused, since=p.started)  # read by `python -m harness run`
    rows = gates.run_rows(p.client, p.run_id)
    if not rows:
        return
    md, page = write_reports(p.client, p.run_id, out, since=p.started)
    (out / "gate-table.txt").write_text(
        gates.format_table(rows) + f"\n\nreports: {md}\n         {page}\n", encoding="utf-8")


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    table = Path(config.getoption("--reports"))
    if not table.is_absolute():
        table = PROJECT_ROOT / table
    table = table / config._harness_run_id / "gate-table.txt"
    if table.is_file():
        terminalreporter.write_sep("=", f"gate table, run {config._harness_run_id}")
        terminalreporter.write_line(table.read_text(encoding="utf-8").rstrip())


def _refusal(p: Pipeline, stage: str) -> str | None:
    """Why ``stage`` may not run (asked once per stage and session), or None."""
    if stage not in p.refusals:
        if stage == "rollback":
            from harness.gates.deploy import last_deploy_id

            p.refusals[stage] = None if last_deploy_id(p.client) else "rollback refused: no deploy to roll back"
        else:
            fp = gates.data_fingerprint(p.client)
            missing = gates.missing_gates(p.client, stage, fingerprint=fp)
            p.refusals[stage] = f"stage {stage!r} refused: missing gate " + "; ".join(missing) if missing else None
            p.notes[f"started_on:{stage}"] = fp  # a passed sync records it: the link of the backfill chain
    return p.refusals[stage]


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Refuse before any fixture is set up: a refused stage's module fixtures (validate's cross-check reads the
    _validate views) would otherwise meet what the refused stage never made and show a raw SQL error, such as
    "Unknown table", instead of the refusal. The session's first stage test makes the pipeline; it is not refused
    here (the fixture below still checks it)."""
    stage = stage_of(item)
    p = getattr(item.config, "_harness_pipeline", None)
    if stage is None or p is None or (stage in ("deploy", "rollback") and not p.deploy_allowed):
        return
    why = _refusal(p, stage)
    if why:
        pytest.fail(why, pytrace=False)


@pytest.fixture(autouse=True)
def _gate_order(request):
    """Refuse a stage at once, naming the missing gate, unless every earlier stage passed on this watermark."""
    stage = stage_of(request.node)
    if stage is None:
        return
    p: Pipeline = request.getfixturevalue("pipeline")
    if stage in ("deploy", "rollback") and not p.deploy_allowed:
        why = f"{stage} needs --prod (CI exercises it with the test-only --throwaway-prod)"
        if getattr(request.config, "_harness_deploy_only", False):
            pytest.fail(f"{why}: nothing was deployed", pytrace=False)  # asked for deploy: never a quiet skip
        pytest.skip(why)
    why = _refusal(p, stage)
    if why:
        pytest.fail(why, pytrace=False)


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(session, config, items) -> None:
    """A run that selected only deploy/rollback was asked to deploy: without --prod it fails instead of skipping."""
    stages = {stage_of(i) for i in items}
    config._harness_deploy_only = bool(items) and stages <= {"deploy", "rollback"}


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call):
    outcome = yield
    rep = outcome.get_result()
    stage = stage_of(item)
    p = getattr(item.config, "_harness_pipeline", None)
    if stage is None or p is None:
        return
    if rep.when == "call" or (rep.when == "setup" and not rep.passed):
        if rep.passed:
            result = "passed"
        elif rep.skipped:
            reason = rep.longrepr[2] if isinstance(rep.longrepr, tuple) else str(rep.longrepr)
            result = "no_data" if "no data" in reason else "skipped"
        else:
            result = "failed"
        detail = getattr(item, "gate_detail", None)
        if detail is None:
            detail = "" if rep.passed else _reason(rep)
        finished = datetime.now(UTC)
        gates.record(p.client, run_id=p.run_id, stage=stage, check=check_name(item), outcome=result, detail=detail,
                     session=item.config._harness_session, started_at=finished - timedelta(seconds=rep.duration))


def check_name(item: pytest.Item) -> str:
    """The gate_runs check name of a stage test (its name without ``test_``)."""
    return item.name.removeprefix("test_")


def _reason(rep) -> str:
    if isinstance(rep.longrepr, tuple):
        return str(rep.longrepr[2])[:500]
    text = getattr(rep, "longreprtext", "") or str(rep.longrepr)
    lines = [ln for ln in text.splitlines() if ln.startswith("E ")] or text.splitlines()[-1:]
    return " ".join(ln[2:].strip() if ln.startswith("E ") else ln for ln in lines)[:500]


def stage_checks(request: pytest.FixtureRequest, stage: str) -> list[str]:
    """Every check the stage's module defines (each parametrization), whatever this run selected.

    Collected afresh from the module, so -k, --deselect or a node id cannot shrink the list.
    """
    module = request.node.getparent(pytest.Module)
    names = []
    for node in module.collect():
        items = [node] if isinstance(node, pytest.Function) else list(getattr(node, "collect", list)())
        for it in items:
            if isinstance(it, pytest.Function) and stage_of(it) == stage and it.name != request.node.name:
                names.append(check_name(it))
    return names


def stage_complete(p: Pipeline, stage: str, request: pytest.FixtureRequest) -> None:
    """The last test of each stage module: the stage passed only if every check it defines ran and passed in
    this run, on the data as it is now."""
    ok, why = gates.stage_summary(p.client, p.run_id, stage, stage_checks(request, stage),
                                  session=request.config._harness_session)
    # the data the stage was admitted on: a passed sync is a link of the backfill chain from there to here
    request.node.gate_detail = json.dumps({"summary": why, "started_on": p.notes.get(f"started_on:{stage}", "")})
    assert ok, why


# --- reference wallets ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class WalletCase:
    wallet: ReferenceWallet | None
    real: bool  # from the real-data file: "no data" unless the warehouse holds real chain data
    error: str | None = None


def _wallet_files(config: pytest.Config) -> list[tuple[Path, bool]]:
    given = config.getoption("--wallets")
    if given:
        return [(Path(f), True) for f in given]
    files = [(PROJECT_ROOT / "wallets.yaml", True)]
    if not _rpc_url(config):
        world = World(Path(config.getoption("--world") or DEFAULT_WORLD))
        files.append((world.wallets_file, False))
    return files


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "wallet_case" not in metafunc.fixturenames:
        return
    cases, ids = [], []
    for path, real in _wallet_files(metafunc.config):
        try:
            for w in load_wallets(path):
                cases.append(WalletCase(w, real))
                ids.append(w.name)
        except WalletsFileError as exc:
            cases.append(WalletCase(None, real, str(exc)))
            ids.append(f"wallets-file-error:{path.name}")
    metafunc.parametrize("wallet_case", cases, ids=ids)


@pytest.fixture(scope="session")
def wallet_addresses(pytestconfig) -> list[str]:
    """Every reference wallet address of the run's wallets files (a malformed file is the wallet checks' to report)."""
    out = []
    for path, _real in _wallet_files(pytestconfig):
        try:
            out += [w.address for w in load_wallets(path)]
        except WalletsFileError:
            continue
    return sorted(set(out))


def wallet_gate_detail(check) -> str:
    w = check.wallet
    return json.dumps({
        "name": w.name, "address": w.address, "metric": w.metric, "target_micros": w.target_micros,
        "computed_micros": check.computed_micros,
        "variance_pct": None if check.variance_pct is None else str(check.variance_pct),
        "tolerance_pct": str(w.tolerance_pct), "expected_bias_pct": str(w.expected_bias_pct),
        "source": w.source, "level": w.level, "summary": check.describe(),
    })


def run_wallet_case(request, p: Pipeline, case: WalletCase, *, suffix: str = "", check_wallet: bool = False) -> None:
    """One reference wallet against the (suffixed) summary view; no data is reported, never passed. With
    ``check_wallet`` and a node (--rpc-url), a wallet without rows in the warehouse is computed from its own logs on
    a scratch database instead (harness.gates.checkwallet); the gate detail's ``path`` says which was used, and a
    wallet's ``positions`` file is compared per position on either path."""
    from harness.gates.checkwallet.reference import check_reference_wallet, warehouse_positions
    from harness.gates.deploy import check_wallets

    if case.error:
        pytest.fail(case.error, pytrace=False)
    w = case.wallet
    if case.real and p.world is not None:
        request.node.gate_detail = json.dumps({"name": w.name, "address": w.address, "variance_pct": None,
                                               "tolerance_pct": str(w.tolerance_pct),
                                               "summary": f"{w.name}: no data (warehouse holds simulated data)"})
        pytest.skip(f"no data: {w.name} is a real Polygon wallet and this warehouse holds the simulated world")
    (check,) = check_wallets(p.client, [w], suffix=suffix)
    extra: dict = {"path": "warehouse"}
    positions = None
    if check.outcome == "no_data" and check_wallet and p.rpc_url:
        ref = check_reference_wallet(p.settings, p.rpc_url, w)
        check, positions, extra = ref.check, ref.positions, ref.detail()
    elif check_wallet and check.outcome != "no_data" and w.positions:
        positions = warehouse_positions(p.client, w, suffix=suffix)
        extra["positions"] = [c.ok for c in positions]
    detail = {**json.loads(wallet_gate_detail(check)), **extra}
    if extra["path"] == "check-wallet":  # shown in the gate table: this figure did not come from the warehouse
        detail["summary"] = (f"[check-wallet: {extra.get('logs_fetched', 0)} logs, proxy {extra.get('proxy')}] "
                             + detail["summary"])
    request.node.gate_detail = json.dumps(detail)
    if positions is not None and not all(c.ok for c in positions):
        bad = [f"{c.position.condition_id[:12]}..: {'; '.join(c.problems)}" for c in positions if not c.ok]
        pytest.fail(f"{w.name}: {len(bad)} of {len(positions)} Polymarket positions differ: {bad[:3]}",
                    pytrace=False)
    if check.outcome == "no_data":
        if not case.real:
            pytest.fail(f"{w.name} {w.address} missing from the warehouse", pytrace=False)
        pytest.skip(f"no data: {check.describe()}")
    if check.outcome == "failed" and w.level == "nice":
        pytest.skip(f"nice-to-have wallet outside tolerance (not blocking): {check.describe()}")
    assert check.outcome == "passed", check.describe()
