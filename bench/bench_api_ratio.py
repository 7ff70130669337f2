"""The API against a bare chDB read of the same answer (issue 22 goal 4), side by side: A B A B.

    .venv/bin/python bench/bench_api_ratio.py [--wallets 20000] [--seconds 8] [--clients 1,8] [--pairs 2] [--pool 2]
                                              [--keep DIR | --reuse DIR] [--what pnl,leaderboard]

Data: bench_api.py's synthetic warehouse (wallets with 1-12 resolved and open markets each, average-cost rows,
resolution times) plus a pre-ranked wallet_leaderboard for every (period, metric). For each pair and client count:

- bare: one process, N threads over ``pool`` chDB clients, each running the statement the endpoint runs
  (sql/api/wallet_pnl_rows.sql for a random known wallet; sql/api/leaderboard.sql for a random window and metric)
  and reading its rows: answers per second and process CPU per answer;
- api: the API served by uvicorn (one worker, the same pool size) in its own process, driven by N httpx
  keep-alive client threads from this process: requests per second, and the server's CPU per request. Each
  server is warmed for --warmup seconds first (its per-condition caches filled, as in a server that has run for a
  while); bare and api take turns on the directory (chDB opens a directory in one process only).

The ratio is api / bare requests per second, pair by pair (and bare CPU / server CPU per answer). Both run on the
same shared cores, so the load is printed with every row.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

WINDOWS, METRICS = ("all", "7d", "30d"), ("total", "realized", "ui_total")


def load_avg() -> float:
    return os.getloadavg()[0]


def leaderboard_rows(directory: str) -> None:
    """Child: every wallet of wallet_market_pnl ranked in all 9 (period, metric) lists (the build's shape)."""
    from harness.warehouse import connect, resolve_settings

    c = connect(resolve_settings(clickhouse=f"chdb://{directory}", database="bench"))
    c.command("INSERT INTO wallet_leaderboard SELECT period, metric, -p, wallet, p, now() FROM "
              "(SELECT wallet, sum(pnl) AS p FROM wallet_market_pnl GROUP BY wallet) "
              "ARRAY JOIN ['all', '7d', '30d'] AS period ARRAY JOIN ['total', 'realized', 'ui_total'] AS metric")
    c.command("INSERT INTO wallet_market_pnl_avgcost (wallet, condition_id, realized, unrealized, pnl) "
              "SELECT wallet, condition_id, pnl, 0, pnl FROM wallet_market_pnl")


def bare_child(directory: str, what: str, clients: int, seconds: float, pool: int, out: str) -> None:
    """Child: N threads reading the endpoint's statement straight from chDB; writes {answers, wall, cpu}."""
    from harness.warehouse import connect, resolve_settings
    from harness.warehouse.sql import load

    settings = resolve_settings(clickhouse=f"chdb://{directory}", database="bench")
    conns = [connect(settings, create_database=False) for _ in range(pool)]
    locks = [threading.Lock() for _ in conns]
    wallets = json.loads(Path(directory, "bench_wallets.json").read_text())["wallets"]
    text = load("api/wallet_pnl_rows" if what == "pnl" else "api/leaderboard")
    counts = [0] * clients

    def one(rng: random.Random, k: int) -> int:
        i = k % len(conns)
        with locks[i]:
            if what == "pnl":
                return len(conns[i].query(text, parameters={"wallet": rng.choice(wallets)}).result_rows)
            return len(conns[i].query(text, parameters={"period": rng.choice(WINDOWS), "metric": rng.choice(METRICS),
                                                        "limit": 100}).result_rows)

    for k in range(pool * 3):  # warm-up
        one(random.Random(k), k)
    stop = [False]

    def run(k: int) -> None:
        rng = random.Random(k)
        while not stop[0]:
            one(rng, k)
            counts[k] += 1

    threads = [threading.Thread(target=run, args=(k,)) for k in range(clients)]
    t0, c0 = time.monotonic(), time.process_time()
    for t in threads:
        t.start()
    time.sleep(seconds)
    stop[0] = True
    for t in threads:
        t.join()
    wall, cpu = time.monotonic() - t0, time.process_time() - c0
    Path(out).write_text(json.dumps({"answers": sum(counts), "wall": wall, "cpu": cpu}))


def proc_cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def drive(url: str, what: str, wallets: list[str], clients: int, seconds: float) -> tuple[int, int, float]:
    import httpx

    counts, errors = [0] * clients, [0] * clients
    stop_at = time.monotonic() + seconds

    def run(k: int) -> None:
        rng = random.Random(k)
        with httpx.Client(base_url=url, timeout=30) as h:
            while time.monotonic() < stop_at:
                if what == "pnl":
                    r = h.get(f"/wallets/{rng.choice(wallets)}/pnl")
                else:
                    r = h.get("/leaderboard", params={"window": rng.choice(WINDOWS), "metric": rng.choice(METRICS)})
                counts[k] += 1
                errors[k] += r.status_code != 200

    t0 = time.monotonic()
    threads = [threading.Thread(target=run, args=(k,)) for k in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(counts), sum(errors), time.monotonic() - t0


def main() -> int:
    from bench_api import free_port, wait_up

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--wallets", type=int, default=20000)
    ap.add_argument("--seconds", type=float, default=8)
    ap.add_argument("--clients", default="1,8")
    ap.add_argument("--pairs", type=int, default=2)
    ap.add_argument("--pool", type=int, default=2)
    ap.add_argument("--what", default="pnl,leaderboard")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--warmup", type=float, default=30, help="seconds of 2-client requests before measuring")
    ap.add_argument("--reuse", metavar="DIR", help="a directory an earlier run populated (--keep): skip populating")
    ap.add_argument("--keep", metavar="DIR", help="populate into DIR and keep it")
    ap.add_argument("--_leaderboard", help=argparse.SUPPRESS)
    ap.add_argument("--_bare", nargs=6, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args._leaderboard:
        leaderboard_rows(args._leaderboard)
        return 0
    if args._bare:
        d, what, n, s, pool, out = args._bare
        bare_child(d, what, int(n), float(s), int(pool), out)
        return 0

    scratch = args.reuse or args.keep or tempfile.mkdtemp(prefix="bench_api_ratio_")
    me = [sys.executable, __file__]
    try:
        if not args.reuse:
            subprocess.run([sys.executable, str(ROOT / "bench" / "bench_api.py"), "--_populate", scratch,
                            "--wallets", str(args.wallets), "--seed", str(args.seed)], check=True)
            subprocess.run(me + ["--_leaderboard", scratch], check=True)
        wallets = json.loads(Path(scratch, "bench_wallets.json").read_text())["wallets"]
        print(f"populated {args.wallets} wallets in {scratch}", flush=True)
        print("| what | clients | pair | bare answers/s | api req/s | ratio | bare CPU ms/answer | "
              "server CPU ms/request | CPU ratio | errors | load |", flush=True)
        print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|", flush=True)
        for what in args.what.split(","):
            for clients in (int(c) for c in args.clients.split(",")):
                for pair in range(1, args.pairs + 1):
                    la = load_avg()
                    out = Path(scratch, "bare.json")
                    subprocess.run(me + ["--_bare", scratch, what, str(clients), str(args.seconds), str(args.pool),
                                         str(out)], check=True)
                    bare = json.loads(out.read_text())
                    port = free_port()  # chDB opens a directory in one process: a server per run, after the bare one
                    proc = subprocess.Popen([sys.executable, str(ROOT / "bench" / "bench_api.py"), "--_serve",
                                             scratch, str(port), str(args.pool)])
                    try:
                        url = f"http://127.0.0.1:{port}"
                        wait_up(url, proc)
                        # warm-up: pool clients opened and the per-condition caches filled, as in a server that has
                        # run for a while (it keeps them until a rebuild or ingest-markets changes their tables)
                        drive(url, what, wallets, 2, args.warmup)
                        c0 = proc_cpu(proc.pid)
                        n, errors, wall = drive(url, what, wallets, clients, args.seconds)
                        server_cpu = proc_cpu(proc.pid) - c0
                    finally:
                        proc.terminate()
                        proc.wait(30)
                    b_rate, a_rate = bare["answers"] / bare["wall"], n / wall
                    b_cpu, a_cpu = bare["cpu"] / bare["answers"] * 1000, server_cpu / n * 1000
                    print(f"| {what} | {clients} | {pair} | {b_rate:.0f} | {a_rate:.0f} | {a_rate / b_rate:.2f} | "
                          f"{b_cpu:.2f} | {a_cpu:.2f} | {b_cpu / a_cpu:.2f} | {errors} | "
                          f"{la:.1f}-{load_avg():.1f} |", flush=True)
    finally:
        if not (args.reuse or args.keep):
            shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
