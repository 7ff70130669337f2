"""The checks the stages make, as plain functions (the main job that runs them is harness.gates.run).

Stage tests in ``tests/stages/`` call these; an operator can too, from Python or ``python -m harness``.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from clickhouse_connect.driver.client import Client

from harness.config import PROJECT_ROOT
from harness.pnl.build import DERIVED_TABLES  # the build owns the list of what it writes

RAW_TABLES = (
    "trades_raw", "erc1155_transfers", "ctf_actions", "condition_preparations", "condition_resolutions",
    "neg_risk_conversions", "neg_risk_questions", "orders_matched", "fee_charged", "fee_refunds",
    "wallet_proxies",
    "fpmm_creations", "fpmm_trades", "fpmm_funding",
)
DEFAULT_WORLD = PROJECT_ROOT / "fixtures" / "world"
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _q(name: str) -> str:
    if not _IDENT.match(name):
        raise ValueError(f"{name!r} is not a plain identifier")
    return f"`{name}`"


def table_counts(client: Client, tables: tuple[str, ...] = RAW_TABLES + DERIVED_TABLES) -> dict[str, int]:
    """Live rows per table (raw tables through FINAL, so duplicates and retractions don't count)."""
    out = {}
    for t in tables:
        final = " FINAL" if t in RAW_TABLES else ""
        out[t] = int(client.query(f"SELECT count() FROM {_q(t)}{final}").result_rows[0][0])
    return out


def fingerprint(client: Client, tables: tuple[str, ...] = RAW_TABLES) -> dict[str, tuple[int, int]]:
    """(rows, order-independent hash of row contents) per table, ignoring ingest bookkeeping columns.

    Two ingests of the same logs must give equal fingerprints: that is what "idempotent" means here.
    """
    out = {}
    for t in tables:
        cols = [r[0] for r in client.query(
            "SELECT name FROM system.columns WHERE database = currentDatabase() AND table = {t:String} "
            "AND name NOT IN ('_version', '_deleted') ORDER BY position", parameters={"t": t}).result_rows]
        final = " FINAL" if t in RAW_TABLES else ""
        expr = "cityHash64(" + ", ".join(_q(c) for c in cols) + ")"
        n, h = client.query(f"SELECT count(), groupBitXor({expr}) FROM {_q(t)}{final}").result_rows[0]
        out[t] = (int(n), int(h))
    return out


def wallets_present(client: Client, addresses: list[str]) -> set[str]:
    """Which of these wallets have any position or cashflow row after the build."""
    res = client.query(
        "SELECT DISTINCT wallet FROM (SELECT wallet FROM outcome_positions_v2 WHERE wallet IN {ws:Array(String)} "
        "UNION ALL SELECT wallet FROM trade_cashflows_v3 WHERE wallet IN {ws:Array(String)})",
        parameters={"ws": [a.lower() for a in addresses]},
    )
    return {r[0] for r in res.result_rows}


@dataclass(frozen=True)
class World:
    """A simulated world on disk: its logs, prices, ground truth and reference wallets."""

    path: Path

    @property
    def meta(self) -> dict:
        from harness.ingest.world_files import read_meta

        return read_meta(self.path)

    @property
    def wallets_file(self) -> Path:
        return self.path / "wallets.yaml"

    def exists(self) -> bool:
        from harness.ingest.world_files import LOGS_FILE

        return (self.path / LOGS_FILE).is_file()


def parse_age(text: str) -> int:
    """'24h', '3d', '90m', '3600s' or plain seconds → seconds; a clear error otherwise."""
    m = re.fullmatch(r"\s*(\d+)\s*([smhdw]?)\s*", text or "")
    if not m:
        from harness.errors import UsageError

        raise UsageError(f"--since {text!r}: expected a number with unit s, m, h, d or w (e.g. 24h)")
    mult = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}[m.group(2)]
    return int(m.group(1)) * mult


ORACLE_TABLES = RAW_TABLES + ("token_map", "imported_prices")


FORMULA_TESTS = ("tests/unit/test_pnl_oracle.py", "tests/property/test_pnl_properties.py")


def pytest_command(*plugins: str) -> list[str]:
    """``python -m pytest`` loading only pytest-timeout (the project's ``timeout`` setting) and the plugins named,
    not every installed one: autoloading schemathesis, anyio and the rest cost about 1.4 s of CPU per stage run
    (BENCHMARKS.md, "Suite and CI, second pass"), and a day's run starts two pytest processes."""
    argv = [sys.executable, "-m", "pytest", "--disable-plugin-autoload"]
    for name in ("timeout", *plugins):
        argv += ["-p", name]
    return argv


#: What a stage run loads: xdist, so that ``-n`` after ``harness run ... --`` still works.
STAGE_PLUGINS = ("xdist",)


def run_formula_tests() -> tuple[bool, str]:
    """The P&L formula's worked vectors and hypothesis properties, run as their own pytest process."""
    missing = [t for t in FORMULA_TESTS if not (PROJECT_ROOT / t).is_file()]
    if missing:
        return False, f"formula tests not found: {missing} (run from a source checkout)"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_XDIST", "CLICKHOUSE_"))}
    env.pop("HARNESS_WAREHOUSE_DIR", None)
    r = subprocess.run(
        [*pytest_command("hypothesispytest"), *FORMULA_TESTS, "-q", "-p", "no:cacheprovider",
         "-o", "addopts=--strict-markers"],
        cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=900, check=False,
    )
    last = (r.stdout.strip().splitlines() or ["(no output)"])[-1]
    return r.returncode == 0, last
