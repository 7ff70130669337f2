"""Issue 22 goals 1 and 2: the full rebuild and the daily incremental against a one-statement floor.

The floor (bench/floor_pnl.sql) computes every wallet's cash-flow P&L (realized, unrealized) and average-cost P&L
(realized, unrealized) in one SQL statement over the raw tables, written from the protocol rules, not from
sql/build/. Per size: generate the bench data (bench_build.generate), rebuild, check that the floor's four figures
equal the project's views (wallet_pnl_summary_final, ui_wallet_pnl_summary) for every wallet to the micro-dollar,
then time full rebuild and floor in turn (A B A B, in-process CPU: chDB runs in this process), then append a day on
1% of the conditions (scale.append_day), time the incremental rebuild, check the floor again against the views
after it, and time the floor on the grown data.

CPU = process CPU seconds (all threads) of the call, and "+merges" = until the background merges it started have
finished (the build's parts are merged in this process too; a daily run meets a settled warehouse).

    .venv/bin/python bench/bench_floor.py --fills 1000000 5000000 --pairs 2 --dir /tmp/floor [--baseline-sql OLD/sql]
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_build import generate
from scale import append_day

from harness.pnl.build import NO_CUTOFF, create_views, rebuild, rebuild_range
from harness.pnl.rows import excluded_addresses
from harness.warehouse import connect, resolve_settings
from harness.warehouse.schema import apply_schema

FLOOR = (Path(__file__).resolve().parent / "floor_pnl.sql").read_text(encoding="utf-8")
#: tables the floor does not read: they must be empty for its totals to be the project's
UNCOVERED = ("fee_refunds", "neg_risk_conversions", "neg_risk_questions", "fpmm_creations", "fpmm_trades",
             "fpmm_funding")
COMPARE = """
SELECT count(), countIf(f.wallet = ''), countIf(v.wallet = ''),
       countIf(f.realized != v.realized OR f.unrealized != v.unrealized OR f.ui_realized != v.ui_realized
               OR f.ui_unrealized != v.ui_unrealized),
       groupArrayIf(10)((coalesce(nullIf(f.wallet, ''), v.wallet), f.realized, v.realized, f.unrealized,
                         v.unrealized, f.ui_realized, v.ui_realized, f.ui_unrealized, v.ui_unrealized),
                        f.realized != v.realized OR f.unrealized != v.unrealized OR f.ui_realized != v.ui_realized
                        OR f.ui_unrealized != v.ui_unrealized)
FROM floor_wallet_pnl AS f
FULL OUTER JOIN
(
    SELECT wallet, sum(r) AS realized, sum(u) AS unrealized, sum(ur) AS ui_realized, sum(uu) AS ui_unrealized
    FROM (SELECT wallet, toInt128(realized_pnl) AS r, toInt128(unrealized_pnl) AS u, toInt128(0) AS ur,
                 toInt128(0) AS uu FROM wallet_pnl_summary_final
          UNION ALL
          SELECT wallet, 0, 0, toInt128(ui_realized_pnl), toInt128(ui_unrealized_pnl) FROM ui_wallet_pnl_summary)
    GROUP BY wallet
) AS v ON f.wallet = v.wallet
"""


def settle(client, limit: float = 900.0) -> None:
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < limit:
        if not client.query("SELECT count() FROM system.merges WHERE database = currentDatabase()").result_rows[0][0]:
            return
        time.sleep(0.5)


def timed(client, fn) -> tuple[float, float, float, object]:
    """(call CPU, call + its merges CPU, wall) of fn()."""
    settle(client)
    c0, t0 = time.process_time(), time.perf_counter()
    out = fn()
    c1, wall = time.process_time(), time.perf_counter() - t0
    settle(client)
    return c1 - c0, time.process_time() - c0, wall, out


def floor(client) -> None:
    client.command("TRUNCATE TABLE floor_wallet_pnl")
    client.command(FLOOR, parameters={"cutoff": NO_CUTOFF, "excluded": excluded_addresses()})


def check(client) -> dict:
    """The floor's figures against the views, every wallet (a wallet missing on one side counts as a difference)."""
    floor(client)
    n, only_views, only_floor, diff, first = client.query(COMPARE, settings={"join_use_nulls": 0}).result_rows[0]
    out = {"wallets": int(n), "only_in_views": int(only_views), "only_in_floor": int(only_floor),
           "differ": int(diff), "first": [list(map(str, r)) for r in first]}
    # a wallet without any average-cost event shows 0 there; it may be missing from ui_wallet_pnl_summary only
    if diff or only_views or only_floor:
        raise SystemExit(f"floor != project: {out}")
    return out


def sql_from(folder: Path | None):
    """Make harness.warehouse.sql read its statements from ``folder`` (another checkout's sql/, for an old-vs-new pair on
    the same data in one process) or, with None, from this checkout again."""
    from harness import config
    from harness.warehouse import sql
    sql.SQL_DIR = config.SQL_DIR if folder is None else folder
    sql.load.cache_clear()


def run(fills: int, d: Path, pairs: int, seed: int, baseline: Path | None = None) -> dict:
    shutil.rmtree(d, ignore_errors=True)
    d.mkdir(parents=True)
    client = connect(resolve_settings(clickhouse=f"chdb://{d}", database="bench"))
    apply_schema(client)
    shape = generate(client, fills, seed)
    for t in UNCOVERED:
        if client.query(f"SELECT count() FROM {t}").result_rows[0][0]:
            raise SystemExit(f"{t} has rows: the floor does not read it")
    if client.query("SELECT count() FROM ctf_actions WHERE source != 'ctf'").result_rows[0][0]:
        raise SystemExit("ctf_actions has adapter rows: the floor does not read them")
    client.command("CREATE TABLE floor_wallet_pnl (wallet String, realized Int128, unrealized Int128, "
                   "ui_realized Int128, ui_unrealized Int128) ENGINE = MergeTree ORDER BY wallet")
    res: dict = {"fills": fills, "wallets": shape["wallets"], "conditions": shape["conditions"], "pairs": [],
                 "load": [os.getloadavg()[0]]}
    for i in range(pairs):
        a = timed(client, lambda: rebuild(client))
        if i == 0:  # the first timed rebuild is the one checked
            create_views(client)
            res["check_full"] = check(client)
            say(fills, f"floor == project for all {res['check_full']['wallets']:,} wallets")
        b = timed(client, lambda: floor(client))
        rep = a[3]
        if baseline is not None:  # the same rebuild with the baseline checkout's SQL, in turn
            sql_from(baseline)
            try:
                o = timed(client, lambda: rebuild(client))
            finally:
                sql_from(None)
            res.setdefault("baseline", []).append({"full_cpu": o[0], "steps_cpu": o[3].step_cpu})
            say(fills, f"pair {i + 1}: baseline SQL full {o[0]:.1f} CPU-s, this one {a[0]:.1f}: {a[0] / o[0]:.2f}x; "
                f"baseline steps {fmt(o[3].step_cpu)}")
        res["pairs"].append({"full_cpu": a[0], "full_cpu_merges": a[1], "full_s": a[2], "floor_cpu": b[0],
                             "floor_cpu_merges": b[1], "floor_s": b[2], "steps_cpu": rep.step_cpu})
        res["load"].append(os.getloadavg()[0])
        say(fills, f"pair {i + 1}: full {a[0]:.1f} CPU-s (+merges {a[1]:.1f}, {a[2]:.1f} s wall), floor {b[0]:.1f} "
            f"CPU-s (+merges {b[1]:.1f}, {b[2]:.1f} s): {a[0] / b[0]:.2f}x ({a[1] / b[1]:.2f}x with merges); "
            f"steps {fmt(rep.step_cpu)}")
    lo, hi, n = append_day(client, fills, {"conditions": shape["conditions"], "wallets": shape["wallets"],
                                           "blocks": shape["blocks"]}, seed, 1)
    c = timed(client, lambda: rebuild_range(client, lo, hi))
    rng = c[3]
    res["incr"] = {"cpu": c[0], "cpu_merges": c[1], "s": c[2], "conditions": rng.conditions, "fills": n,
                   "steps_cpu": rng.step_cpu, "steps": rng.steps}
    res["check_incr"] = check(client)
    b = timed(client, lambda: floor(client))
    res["floor_after_day"] = {"cpu": b[0], "cpu_merges": b[1], "s": b[2]}
    res["load"].append(os.getloadavg()[0])
    full = statistics.median(p["full_cpu"] for p in res["pairs"])
    say(fills, f"incremental ({rng.conditions} conditions, {n:,} fills) {c[0]:.2f} CPU-s (+merges {c[1]:.2f}) = "
        f"{100 * c[0] / full:.1f}% of the full rebuild's median CPU; floor on the grown data {b[0]:.2f} CPU-s; "
        f"floor == project after it for {res['check_incr']['wallets']:,} wallets; steps {fmt(rng.step_cpu)}")
    return res


def fmt(steps: dict[str, float]) -> str:
    return ", ".join(f"{k} {v:.2f}" for k, v in steps.items())


def say(fills: int, text: str) -> None:
    print(f"[{fills:,}] {time.strftime('%H:%M:%S')} load {os.getloadavg()[0]:.1f} {text}", flush=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fills", type=int, nargs="+", default=[1_000_000, 5_000_000])
    ap.add_argument("--pairs", type=int, default=2, help="A B pairs of full rebuild and floor")
    ap.add_argument("--seed", type=int, default=5)
    ap.add_argument("--dir", type=Path, required=True, help="warehouse directories go under it (deleted after)")
    ap.add_argument("--json", type=Path, help="append each size's result as one JSON line here")
    ap.add_argument("--baseline-sql", type=Path, help="another checkout's sql/ folder: each pair also times the full "
                    "rebuild with its statements (old vs new on the same data)")
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    for fills in args.fills:
        d = args.dir / f"w{fills}"
        try:
            res = run(fills, d, args.pairs, args.seed, args.baseline_sql)
        finally:
            if not args.keep:
                shutil.rmtree(d, ignore_errors=True)
        if args.json:
            with args.json.open("a", encoding="utf-8") as f:
                f.write(json.dumps(res, default=str) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
