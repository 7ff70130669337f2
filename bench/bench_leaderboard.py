"""Leaderboard latency at scale (issue 16): GET /leaderboard p50/p99 at N fills, on the embedded warehouse.

Raw rows come from bench_build.generate (seeded, SQL numbers(); N/50 wallets), then one full rebuild, which also
writes the pre-ranked wallet_leaderboard (its build step's time is reported). Requests go through the real app
(FastAPI TestClient, in-process, so HTTP parsing and JSON are included but no socket), window and metric drawn at
random, limit 100 (and a pass at limit 1000). For comparison, the same ranking computed at request time from
wallet_market_pnl (GROUP BY wallet) is timed a few times: the reason the table exists.

    .venv/bin/python bench/bench_leaderboard.py --fills 10000000 --dir /work/h7-tmp/lb10m [--keep] [--reuse]
"""
from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_build import generate, pct

from harness.pnl.build import create_views, rebuild
from harness.serve import app as api
from harness.warehouse import connect, resolve_settings
from harness.warehouse.schema import apply_schema

WINDOWS, METRICS = ("7d", "30d", "all"), ("total", "realized", "ui_total")
NAIVE = ("SELECT wallet, sum(pnl) AS p FROM wallet_market_pnl GROUP BY wallet ORDER BY p DESC, wallet "
         "LIMIT 100")


def timed(fn, n: int, seed: int) -> tuple[list[float], list[float]]:
    rnd = random.Random(seed)
    wall, cpu = [], []
    for _ in range(n):
        w, m = rnd.choice(WINDOWS), rnd.choice(METRICS)
        t, c = time.perf_counter(), time.process_time()
        fn(w, m)
        wall.append((time.perf_counter() - t) * 1000)
        cpu.append((time.process_time() - c) * 1000)
    return wall, cpu


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fills", type=int, default=10_000_000)
    ap.add_argument("--requests", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=5)
    ap.add_argument("--dir", type=Path, required=True, help="warehouse directory (created)")
    ap.add_argument("--reuse", action="store_true", help="the directory already holds the built warehouse")
    ap.add_argument("--keep", action="store_true", help="keep the warehouse directory")
    ap.add_argument("--json", type=Path, help="write the figures here")
    a = ap.parse_args()
    client = connect(resolve_settings(clickhouse=f"chdb://{a.dir}", database="bench"))
    res: dict = {"fills": a.fills}
    try:
        if not a.reuse:
            apply_schema(client)
            t = time.perf_counter()
            res["shape"] = generate(client, a.fills, a.seed)
            res["generate_s"] = time.perf_counter() - t
            print(f"generated in {res['generate_s']:.1f}s: {res['shape']}", flush=True)
            rep = rebuild(client)
            create_views(client)
            res["rebuild_s"], res["leaderboard_step_s"] = rep.seconds, rep.steps.get("wallet_leaderboard")
            res["rows"] = rep.rows
            print(f"full rebuild {rep.seconds:.1f}s, of which wallet_leaderboard {res['leaderboard_step_s']:.2f}s; "
                  f"rows {rep.rows}", flush=True)
        res["wallets"] = int(client.query("SELECT count() FROM wallet_pnl_summary_final").result_rows[0][0])
        res["leaderboard_rows"] = int(client.query("SELECT count() FROM wallet_leaderboard").result_rows[0][0])
        res["market_rows"] = int(client.query("SELECT count() FROM wallet_market_pnl").result_rows[0][0])
        from fastapi.testclient import TestClient

        with TestClient(api.create_app(lambda: client)) as http:
            def get(w: str, m: str, limit: int = 100) -> None:
                r = http.get("/leaderboard", params={"window": w, "metric": m, "limit": limit})
                assert r.status_code == 200 and len(r.json()["rows"]) == min(limit, res["wallets"]), r.text[:200]

            get("all", "total")  # warm-up
            load0 = os.getloadavg()[0]
            wall, cpu = timed(get, a.requests, a.seed)
            load1 = os.getloadavg()[0]
            wall_k, _ = timed(lambda w, m: get(w, m, 1000), max(a.requests // 10, 50), a.seed + 1)
        res.update(p50=pct(wall, 50), p99=pct(wall, 99), max=max(wall), cpu_p50=pct(cpu, 50), cpu_p99=pct(cpu, 99),
                   p50_1000=pct(wall_k, 50), p99_1000=pct(wall_k, 99), n=len(wall), load=(load0, load1))
        naive = []
        for _ in range(5):
            t = time.perf_counter()
            client.query(NAIVE)
            naive.append((time.perf_counter() - t) * 1000)
        res["naive_ms"] = naive
        print(f"GET /leaderboard limit 100: p50 {res['p50']:.2f} ms p99 {res['p99']:.2f} ms max {res['max']:.2f} ms "
              f"(CPU p50 {res['cpu_p50']:.2f} / p99 {res['cpu_p99']:.2f} ms; load {load0:.1f} -> {load1:.1f}); "
              f"limit 1000: p50 {res['p50_1000']:.2f} p99 {res['p99_1000']:.2f} ms; request-time GROUP BY: "
              f"{', '.join(f'{x:.0f}' for x in naive)} ms; wallets {res['wallets']:,}, leaderboard rows "
              f"{res['leaderboard_rows']:,}, wallet_market_pnl rows {res['market_rows']:,}", flush=True)
        if a.json:
            a.json.write_text(json.dumps(res, indent=2, default=str))
        return 0
    finally:
        if not a.keep:
            shutil.rmtree(a.dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
