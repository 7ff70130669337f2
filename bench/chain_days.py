"""The daily loop for many days: a chain-world grown day by day on anvil, `python -m harness run` each day
(day 1 backfill..deploy, then sync..deploy), every wallet of the deployed views against contract-state truth.

Run: .venv/bin/python bench/chain_days.py [--days 60] [--wallets 20] [--markets 6] [--fills-per-day 20]
     [--seed 8] [--history-pct 40] [--embedded] [--out BENCHMARKS.md]
The warehouse standing in for production is a warehouse-server of its own over a temp dir (`run --target prod`),
or with --embedded chDB in a temp dir (`run --target embedded`). Writes one row per
day (exit codes, wallets equal, freshness, seconds of the run and of the whole day) and appends the table, with
the load average measured at start and end, to --out under "## The daily loop over many days".
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from harness.worlds.chain_days import DailyWorld, Operation, Target
from harness.worlds.chain_world import start_node
from harness.worlds.model import WorldParams


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--days", type=int, default=60)
    ap.add_argument("--wallets", type=int, default=20)
    ap.add_argument("--markets", type=int, default=6)
    ap.add_argument("--fills-per-day", type=int, default=20)
    ap.add_argument("--seed", type=int, default=8)
    ap.add_argument("--history-pct", type=int, default=40,
                    help="share of the world on day 1, the history the first backfill finds (default 40)")
    ap.add_argument("--embedded", action="store_true", help="embedded chDB instead of a warehouse-server")
    ap.add_argument("--out", default=str(ROOT / "BENCHMARKS.md"))
    a = ap.parse_args(argv)
    params = WorldParams(seed=a.seed, wallets=a.wallets, markets=a.markets, fills=a.fills_per_day * a.days)
    tmp = Path(tempfile.mkdtemp(prefix="h20days-bench-"))
    server = None
    if a.embedded:
        target = Target("embedded", "daily_bench", {"HARNESS_WAREHOUSE_DIR": str(tmp / "warehouse")})
    else:
        import secrets

        from harness.warehouse import server as warehouse_server

        password = secrets.token_hex(12)
        server = warehouse_server.start(tmp / "server-data", user="harness", password=password)
        target = Target("prod", "daily_bench", {"CLICKHOUSE_URL": server.url, "CLICKHOUSE_USER": "harness",
                                                 "CLICKHOUSE_PASSWORD": password, "CLICKHOUSE_DATABASE": "daily_bench"})
    load0, started = os.getloadavg(), datetime.now(UTC)
    node = start_node(params)
    rows = []
    try:
        op = Operation(DailyWorld(params, a.days, node, history_pct=a.history_pct), target, tmp / "reports")
        for _ in range(a.days):
            rep = op.day(node.url)
            rows.append(rep)
            print(rep.line(), flush=True)
    finally:
        node.stop()
        if server is not None:
            server.stop()
    load1 = os.getloadavg()
    runs = [r.runs[-1][2] for r in rows if r.runs]
    bad = [r.day for r in rows if r.exit_code != 0 or r.differ or r.freshness != "ok"]
    head = (f"{started:%Y-%m-%d %H:%M}-{datetime.now(UTC):%H:%M} UTC, {platform.node()}, {os.cpu_count()} cores, "
            f"load average {load0[0]:.1f} at start and {load1[0]:.1f} at end (shared machine: wall seconds include "
            f"waiting for CPU); target {target.kind}; world seed {a.seed}, {a.wallets} wallets, {a.markets} markets, "
            f"{params.fills} fills over {a.days} days.")
    summary = (f"Days not passing with every wallet equal and freshness ok: {bad or 'none'}. Run seconds: median "
               f"{statistics.median(runs):.1f}, min {min(runs):.1f}, max {max(runs):.1f}; first (backfill..deploy) "
               f"{runs[0]:.1f}, last {runs[-1]:.1f}.")
    lines = ["", "## The daily loop over many days (issue 20, `bench/chain_days.py`)", head, summary, "",
             "| day | stages | exit | wallets equal | freshness | run s | day s |", "|---|---|---|---|---|---|---|"]
    for r in rows:
        s, c, t = r.runs[-1] if r.runs else ("-", "-", 0.0)
        lines.append(f"| {r.day} | {s} | {c} | {r.equal}/{r.wallets} | {r.freshness} | {t:.1f} | {r.seconds:.1f} |")
    with open(a.out, "a", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    print(f"appended to {a.out}; days not passing: {bad or 'none'}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
