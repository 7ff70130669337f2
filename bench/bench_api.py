"""Load test of the P&L API on loopback: requests/s and latency percentiles for GET /wallets/{address}/pnl.

    .venv/bin/python bench/bench_api.py [--wallets 20000] [--seconds 20] [--clients 1,4,8] [--pool 1,2]

Three processes, because chDB allows one engine per process and the load generator should not share a GIL with
the server: a child fills a scratch embedded warehouse with synthetic derived rows and builds the final views; a
child per pool size serves the API (uvicorn, one worker); this process drives it with N client threads (httpx,
keep-alive), each picking known wallets at random. Results are printed and written as markdown with --out.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def populate(directory: str, wallets: int, seed: int) -> None:
    """Child: synthetic derived tables (every wallet: resolved and open markets) + the final views."""
    from harness.pnl.build import create_views
    from harness.warehouse import connect, resolve_settings
    from harness.warehouse.schema import apply_schema

    client = connect(resolve_settings(clickhouse=f"chdb://{directory}", database="bench"))
    apply_schema(client)
    create_views(client)
    rng = random.Random(seed)
    n_cond = max(50, wallets // 10)
    conds = [f"0x{i:064x}" for i in range(n_cond)]
    resolved = set(conds[: n_cond * 3 // 5])
    t0 = 1_700_000_000
    wins = [[c, [1, 0] if i % 2 else [0, 1], 1, 0 if i % 2 else 1, 1000 + i,
             datetime.fromtimestamp(t0 + i * 3600, UTC)] for i, c in enumerate(conds) if c in resolved]
    client.insert("winning_index", wins, column_names=["condition_id", "payout_numerators", "payout_denominator",
                                                       "winning_index", "resolved_block", "resolved_time"])
    payout = {w[0]: w[1] for w in wins}
    cash, pos, unreal, market, names = [], [], [], [], []
    for w in range(wallets):
        wallet = f"0x{rng.getrandbits(160):040x}"
        names.append(wallet)
        for cid in rng.sample(conds, rng.randint(1, 12)):
            sh = [rng.randint(0, 5 * 10**8), rng.randint(0, 5 * 10**8)]
            cf = -rng.randint(0, 5 * 10**8)
            cash.append([wallet, cid, cf])
            pos.extend([[wallet, cid, 0, sh[0]], [wallet, cid, 1, sh[1]]])
            if cid not in resolved:
                v = (sh[0] * 400_000 + sh[1] * 600_000) // 1_000_000
                unreal.append([wallet, cid, v, cf, cf + v])
                market.append([wallet, cid, 0, cf, v, cf + v])
            else:  # the one-grain table the final views read (a rebuild writes it last)
                v = sh[0] * payout[cid][0] + sh[1] * payout[cid][1]
                market.append([wallet, cid, 1, cf, v, cf + v])
        if len(pos) > 200_000 or w == wallets - 1:
            client.insert("trade_cashflows_v3", cash, column_names=["wallet", "condition_id", "cashflow"])
            client.insert("outcome_positions_v2", pos,
                          column_names=["wallet", "condition_id", "outcome_index", "net_shares"])
            client.insert("wallet_unrealized_pnl_v2", unreal,
                          column_names=["wallet", "condition_id", "position_value", "cashflow", "unrealized_pnl"])
            client.insert("wallet_market_pnl", market,
                          column_names=["wallet", "condition_id", "resolved", "cashflow", "value", "pnl"])
            cash, pos, unreal, market = [], [], [], []
    client.insert("trades_raw", [[f"0x{1:064x}", 0, 60_000_000, datetime.now(UTC), names[0], 1]],
                  column_names=["tx_hash", "log_index", "block_number", "block_time", "wallet", "_version"])
    counts = {t: client.query(f"SELECT count() FROM {t}").result_rows[0][0]
              for t in ("trade_cashflows_v3", "outcome_positions_v2", "wallet_unrealized_pnl_v2", "winning_index")}
    empty = connect(resolve_settings(clickhouse=f"chdb://{directory}", database="bench_empty"))
    apply_schema(empty)
    create_views(empty)
    costs = {"populated": query_costs(client, names[:60]), "empty tables": query_costs(empty, names[:60])}
    Path(directory, "bench_wallets.json").write_text(json.dumps({"wallets": names, "counts": counts,
                                                                 "query_ms": costs}))


def query_costs(client, wallets: list[str]) -> dict[str, float]:
    """Mean in-process milliseconds of each query the wallet endpoints run (no HTTP), after one warm-up."""
    from harness import gates
    from harness.warehouse.sql import load

    views = {"summary_view": "wallet_pnl_summary_final", "market_view": "realized_pnl_by_market_final"}
    queries = {
        "SELECT 1": lambda w: client.query("SELECT 1"),
        "api/wallet_summary": lambda w: client.query(load("api/wallet_summary"), parameters={
            "summary_view": views["summary_view"], "wallet": w}),
        "api/wallet_markets": lambda w: client.query(load("api/wallet_markets"), parameters={
            "market_view": views["market_view"], "wallet": w}),
        "api/wallet_positions": lambda w: client.query(load("api/wallet_positions"), parameters={"wallet": w}),
        "wallet_unrealized_pnl_v2 by wallet (plain table)": lambda w: client.query(
            "SELECT * FROM wallet_unrealized_pnl_v2 WHERE wallet = {w:String}", parameters={"w": w}),
        "checks/watermark": lambda w: gates.watermark(client),
    }
    out = {}
    for name, run in queries.items():
        run(wallets[0])
        t = time.perf_counter()
        for w in wallets:
            run(w)
        out[name] = (time.perf_counter() - t) / len(wallets) * 1000
    return out


def serve_child(directory: str, port: int, pool: int) -> None:
    """Child: the API over the scratch warehouse, like ``python -m harness api`` but with a chosen pool size."""
    import uvicorn

    from harness.serve.app import create_app
    from harness.warehouse import connect, resolve_settings

    settings = resolve_settings(clickhouse=f"chdb://{directory}", database="bench")
    app = create_app(lambda: connect(settings, create_database=False), pool_size=pool)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_up(url: str, proc: subprocess.Popen, timeout: float = 60) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"API server exited with {proc.returncode}")
        try:
            if httpx.get(url + "/health", timeout=2).status_code in (200, 503):
                return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise RuntimeError("API server did not come up")


def load(url: str, wallets: list[str], clients: int, seconds: float) -> dict:
    import httpx

    lat: list[list[float]] = [[] for _ in range(clients)]
    errors = [0] * clients
    stop_at = time.monotonic() + seconds

    def run(k: int) -> None:
        rng = random.Random(k)
        with httpx.Client(base_url=url, timeout=30) as h:
            while time.monotonic() < stop_at:
                w = rng.choice(wallets)
                t = time.perf_counter()
                r = h.get(f"/wallets/{w}/pnl")
                lat[k].append(time.perf_counter() - t)
                if r.status_code != 200:
                    errors[k] += 1

    start = time.monotonic()
    threads = [threading.Thread(target=run, args=(k,)) for k in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.monotonic() - start
    all_lat = sorted(x for xs in lat for x in xs)
    q = lambda p: all_lat[min(len(all_lat) - 1, int(p * len(all_lat)))] * 1000
    return {"clients": clients, "requests": len(all_lat), "errors": sum(errors), "seconds": round(wall, 1),
            "rps": len(all_lat) / wall, "p50_ms": q(0.50), "p90_ms": q(0.90), "p99_ms": q(0.99),
            "max_ms": all_lat[-1] * 1000}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--wallets", type=int, default=20000)
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--clients", default="1,4,8")
    ap.add_argument("--pool", default="1,2")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--out", help="write a markdown table here (e.g. bench/results/api.md)")
    ap.add_argument("--_populate", help=argparse.SUPPRESS)
    ap.add_argument("--_serve", nargs=3, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args._populate:
        populate(args._populate, args.wallets, args.seed)
        return 0
    if args._serve:
        serve_child(args._serve[0], int(args._serve[1]), int(args._serve[2]))
        return 0

    scratch = tempfile.mkdtemp(prefix="bench_api_")
    me = [sys.executable, __file__]
    try:
        t = time.monotonic()
        subprocess.run(me + ["--_populate", scratch, "--wallets", str(args.wallets), "--seed", str(args.seed)],
                       check=True)
        info = json.loads(Path(scratch, "bench_wallets.json").read_text())
        print(f"populated {info['counts']} in {time.monotonic() - t:.1f} s", flush=True)
        for where, costs in info["query_ms"].items():
            print(f"query ms ({where}): " + ", ".join(f"{k} {v:.1f}" for k, v in costs.items()), flush=True)
        results = []
        for pool in (int(p) for p in args.pool.split(",")):
            port = free_port()
            proc = subprocess.Popen(me + ["--_serve", scratch, str(port), str(pool)])
            try:
                url = f"http://127.0.0.1:{port}"
                wait_up(url, proc)
                load(url, info["wallets"], 2, 2)  # warm-up: pool clients opened, pages cached
                for clients in (int(c) for c in args.clients.split(",")):
                    r = load(url, info["wallets"], clients, args.seconds) | {"pool": pool}
                    results.append(r)
                    print(f"pool {pool} clients {clients}: {r['rps']:.0f} req/s, p50 {r['p50_ms']:.1f} ms, "
                          f"p99 {r['p99_ms']:.1f} ms, {r['requests']} requests, {r['errors']} errors", flush=True)
            finally:
                proc.terminate()
                proc.wait(30)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    if args.out:
        write_markdown(Path(args.out), args, info, results)
    return 0


def write_markdown(path: Path, args, info: dict, results: list[dict]) -> None:
    counts = info["counts"]
    lines = [
        "# API load benchmark (bench/bench_api.py)",
        "",
        (f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {platform.machine()} Linux, "
         f"{os.cpu_count()} cores shared with other jobs running at the same time, Python "
         f"{platform.python_version()}. Server: one uvicorn worker over the embedded chDB warehouse (separate "
         "process); load: httpx client threads in a third process on loopback, keep-alive, random known wallets, "
         "GET /wallets/{address}/pnl (summary view + per-market query; watermark cached 5 s). "
         f"{args.seconds:.0f} s per row."),
        "",
        f"Data: {args.wallets} wallets; rows: " + ", ".join(f"{k} {v:,}" for k, v in counts.items()) + ".",
        "",
        "| pool | clients | requests | errors | req/s | p50 ms | p90 ms | p99 ms | max ms |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(f"| {r['pool']} | {r['clients']} | {r['requests']} | {r['errors']} | {r['rps']:.0f} | "
                     f"{r['p50_ms']:.1f} | {r['p90_ms']:.1f} | {r['p99_ms']:.1f} | {r['max_ms']:.1f} |")
    lines += ["", "In-process query cost, mean ms per query over 60 wallets (same client, no HTTP):", "",
              "| query | " + " | ".join(info["query_ms"]) + " |", "|---|" + "---:|" * len(info["query_ms"])]
    for q in next(iter(info["query_ms"].values())):
        lines.append(f"| {q} | " + " | ".join(f"{c[q]:.1f}" for c in info["query_ms"].values()) + " |")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    sys.exit(main())
