"""The checks the stages make, as plain functions, and the main job that runs every stage in order.

Stage tests in ``tests/stages/`` call these; an operator can too, from Python or ``python -m harness``.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from clickhouse_connect.driver.client import Client

from harness.build import DERIVED_TABLES  # the build owns the list of what it writes
from harness.config import PROJECT_ROOT

RAW_TABLES = (
    "trades_raw", "erc1155_transfers", "ctf_actions", "condition_preparations", "condition_resolutions",
    "neg_risk_conversions", "neg_risk_questions", "orders_matched", "fee_charged", "fee_refunds",
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
        return json.loads((self.path / "world.json").read_text(encoding="utf-8"))

    @property
    def wallets_file(self) -> Path:
        return self.path / "wallets.yaml"

    def exists(self) -> bool:
        return (self.path / "logs.jsonl.gz").is_file()


def parse_age(text: str) -> int:
    """'24h', '3d', '90m', '3600s' or plain seconds → seconds; a clear error otherwise."""
    m = re.fullmatch(r"\s*(\d+)\s*([smhdw]?)\s*", text or "")
    if not m:
        from harness.errors import UsageError

        raise UsageError(f"--since {text!r}: expected a number with unit s, m, h, d or w (e.g. 24h)")
    mult = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}[m.group(2)]
    return int(m.group(1)) * mult


ORACLE_TABLES = RAW_TABLES + ("token_map", "imported_prices")


def _tables_or_sample(client: Client, tables: dict | None, wallets: list[str] | None, cutoff: int | None
                      ) -> tuple[dict, list[str] | None]:
    """The oracle's input: the caller's ``tables`` (a small world loaded whole by a test), or only ``wallets``'
    rows read from the warehouse. No gate reads a whole table into Python."""
    if tables is not None:
        return tables, wallets
    if not wallets:
        raise ValueError("name the wallets to check (or pass tables=): the oracle never reads whole tables")
    from harness.asof import wallet_tables
    from harness.crosscheck import NO_CUTOFF

    ws = [w.lower() for w in wallets]
    return wallet_tables(client, ws, NO_CUTOFF if cutoff is None else int(cutoff)), ws


def _every_wallet(client: Client, view: tuple[str, str], oracle: dict, wallets: list[str] | None) -> list[str]:
    """``wallets``, or (tables given whole) every wallet the oracle or the view knows."""
    if wallets is not None:
        return wallets
    return sorted(set(oracle) | {r[0] for r in client.query(f"SELECT wallet FROM {view[0]}").result_rows})


def compare_warehouse_to_oracle(client: Client, *, suffix: str = "", cutoff: int | None = None,
                                tables: dict[str, list[dict]] | None = None, wallets: list[str] | None = None
                                ) -> tuple[list, int]:
    """Cash-flow P&L recomputed in pure Python against the summary view: every wallet of ``tables``, or the given
    ``wallets`` from their own rows. Returns (differences, wallets compared)."""
    from harness.crosscheck import cashflow_oracle, compare, summary_view

    tables, ws = _tables_or_sample(client, tables, wallets, cutoff)
    oracle, view = cashflow_oracle(tables, cutoff), summary_view(suffix)
    ws = _every_wallet(client, view, oracle, ws)
    return compare(client, view, oracle, ws), len(ws)


def compare_ui_to_oracle(client: Client, *, cutoff: int | None = None,
                         tables: dict[str, list[dict]] | None = None, wallets: list[str] | None = None
                         ) -> tuple[list, int]:
    """The average-cost (UI) view against harness.pnl.avg_cost_pnl, as compare_warehouse_to_oracle."""
    from harness.crosscheck import avgcost_oracle, compare, ui_view

    tables, ws = _tables_or_sample(client, tables, wallets, cutoff)
    oracle, view = avgcost_oracle(tables, cutoff), ui_view()
    ws = _every_wallet(client, view, oracle, ws)
    return compare(client, view, oracle, ws), len(ws)


FORMULA_TESTS = ("tests/unit/test_pnl_oracle.py", "tests/property/test_pnl_properties.py")


def run_formula_tests() -> tuple[bool, str]:
    """The P&L formula's worked vectors and hypothesis properties, run as their own pytest process."""
    missing = [t for t in FORMULA_TESTS if not (PROJECT_ROOT / t).is_file()]
    if missing:
        return False, f"formula tests not found: {missing} (run from a source checkout)"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_XDIST", "CLICKHOUSE_"))}
    env.pop("HARNESS_WAREHOUSE_DIR", None)
    r = subprocess.run(
        [sys.executable, "-m", "pytest", *FORMULA_TESTS, "-q", "-p", "no:cacheprovider", "-p", "no:xdist",
         "-o", "addopts=--strict-markers"],
        cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=900, check=False,
    )
    last = (r.stdout.strip().splitlines() or ["(no output)"])[-1]
    return r.returncode == 0, last


# --- the main job ---------------------------------------------------------------------------------------------

def run_stages(
    *, world: Path = DEFAULT_WORLD, database: str = "pipeline_demo", warehouse_dir: Path | None = None,
    reports: Path = PROJECT_ROOT / "reports", extra: list[str] | None = None, fresh: bool = True,
) -> int:
    """Run every stage in order (backfill → deploy) on the embedded warehouse, fed by a simulated world.

    Deploy runs with the test-only ``--throwaway-prod`` stand-in, which is allowed only on the embedded warehouse.
    The gate table is printed by the stage run itself at the end.
    """
    from harness.warehouse import WarehouseError, check_database_name

    check_database_name(database)
    # The main job is embedded-only: never let a CLICKHOUSE_URL in the environment point the drop below at a server.
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLICKHOUSE_")}
    if warehouse_dir is not None:
        env["HARNESS_WAREHOUSE_DIR"] = str(warehouse_dir)
    if fresh:
        # A separate process opens the warehouse for the stages; drop any earlier demo database first. It reports
        # a failure (a locked directory, a bad path) as one line, which becomes this command's one line.
        done = subprocess.run(
            [sys.executable, "-c",
             ("import os, sys\nfrom harness.errors import HarnessError\nfrom harness.warehouse import *\n"
             "try:\n    s = resolve_settings(backend='embedded', database=sys.argv[1], env=os.environ)\n"
             "    c = connect(s); drop_database(c, sys.argv[1]); drop_database(c, sys.argv[1] + '_archive')\n"
             "except HarnessError as exc:\n    sys.exit(str(exc).splitlines()[0])\n"), database],
            env=env, cwd=PROJECT_ROOT, capture_output=True, text=True, check=False,
        )
        if done.returncode != 0:
            lines = (done.stderr.strip() or f"exit status {done.returncode}").splitlines()
            raise WarehouseError(f"pipeline: cannot prepare database {database!r}: {lines[-1]}")
    cmd = [sys.executable, "-m", "pytest", "tests/stages", "-m", "not rollback", "-p", "no:cacheprovider",
           "--database", database, "--throwaway-prod", "--world", str(world), "--reports", str(reports),
           "-o", "addopts=-ra --strict-markers", "-q", *(extra or [])]
    return subprocess.call(cmd, cwd=PROJECT_ROOT, env=env)


def add_commands(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("pipeline", help="run every stage in order on the embedded warehouse, fed by a world")
    p.add_argument("--world", type=Path, default=DEFAULT_WORLD, help="simulated world dir (default fixtures/world)")
    p.add_argument("--database", default="pipeline_demo", help="embedded database to (re)create")
    p.add_argument("--reports", type=Path, default=PROJECT_ROOT / "reports")
    p.add_argument("--keep", action="store_true", help="do not drop the database first")
    p.add_argument("--adopt-legacy", action="store_true",
                   help="with --keep: archive and replace tables of the harness's names with other columns")
    p.set_defaults(func=lambda a: run_stages(world=a.world, database=a.database, reports=a.reports, fresh=not a.keep,
                                             extra=["--adopt-legacy"] if a.adopt_legacy else None))
