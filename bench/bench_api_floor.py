"""Server CPU per request of the API's framework floor against its hot routes (issue 22 goal 4's gap).

    .venv/bin/python bench/bench_api_floor.py DIR [--requests 400] [--rounds 3] [--http h11|httptools]
                                              [--what ping,aping,lb,alb,pnl,apnl]

DIR is a warehouse bench/bench_api_ratio.py populated (``--keep DIR``). A child serves the app (uvicorn, one
worker, pool 2) with extra routes for this bench only: ``/_ping`` (a constant answer, sync) and ``/_aping`` (the same,
async): the per-request cost of uvicorn and Starlette; ``/_alb`` and ``/_apnl/{a}``: the /leaderboard and /pnl
handlers called from an async route, so the query runs on the event loop instead of the thread pool. This process
sends the requests one at a time on a keep-alive httpx client and reads the child's CPU from /proc; variants take
turns, round by round, so the load (printed) weighs on each alike.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def proc_cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def serve_child(directory: str, port: int, http: str) -> None:
    import uvicorn
    from fastapi.responses import Response

    from harness.serve.app import create_app
    from harness.warehouse import connect, resolve_settings

    settings = resolve_settings(clickhouse=f"chdb://{directory}", database="bench")
    app = create_app(lambda: connect(settings, create_database=False), pool_size=2)
    endpoints = {route.path: route.endpoint for top in app.routes
                 for route in getattr(getattr(top, "original_router", None), "routes", [top])
                 if hasattr(route, "endpoint")}

    @app.get("/_ping")
    def ping() -> Response:
        return Response(b'{"ok":1}', media_type="application/json")

    @app.get("/_aping")
    async def aping() -> Response:
        return Response(b'{"ok":1}', media_type="application/json")

    @app.get("/_alb")
    async def alb(window: str = "all", metric: str = "total") -> Response:
        return endpoints["/leaderboard"](window=window, metric=metric, limit=100)

    @app.get("/_apnl/{address}")
    async def apnl(address: str) -> Response:
        return endpoints["/wallets/{address}/pnl"](address=address, limit=1000)

    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False, http=http)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("directory")
    ap.add_argument("--requests", type=int, default=400)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--http", default="h11", choices=("h11", "httptools"))
    ap.add_argument("--what", default="ping,aping,lb,alb,pnl,apnl")
    ap.add_argument("--_serve", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args._serve:
        serve_child(args.directory, int(args._serve[0]), args._serve[1])
        return 0
    import httpx

    sys.path.insert(0, str(ROOT / "bench"))
    from bench_api import free_port, wait_up

    wallets = json.loads(Path(args.directory, "bench_wallets.json").read_text())["wallets"]
    rng = random.Random(1)

    def board(prefix: str) -> str:
        return f"{prefix}?window={rng.choice(['all', '7d', '30d'])}&metric={rng.choice(['total', 'realized'])}"

    paths = {"ping": lambda: "/_ping", "aping": lambda: "/_aping", "lb": lambda: board("/leaderboard"),
             "alb": lambda: board("/_alb"), "pnl": lambda: f"/wallets/{rng.choice(wallets)}/pnl",
             "apnl": lambda: f"/_apnl/{rng.choice(wallets)}"}
    what = args.what.split(",")
    port = free_port()
    proc = subprocess.Popen([sys.executable, __file__, args.directory, "--_serve", str(port), args.http])
    out: dict[str, list[float]] = {k: [] for k in what}
    try:
        url = f"http://127.0.0.1:{port}"
        wait_up(url, proc)
        with httpx.Client(base_url=url, timeout=30) as h:
            for k in what:  # warm-up: pool clients opened, per-condition caches filled
                for _ in range(600 if "pnl" in k else 100):
                    h.get(paths[k]())
            for _ in range(args.rounds):
                for k in what:
                    c0 = proc_cpu(proc.pid)
                    for _ in range(args.requests):
                        if h.get(paths[k]()).status_code != 200:
                            raise SystemExit(f"{k}: not 200")
                    out[k].append((proc_cpu(proc.pid) - c0) / args.requests * 1000)
    finally:
        proc.terminate()
        proc.wait(30)
    print(f"server CPU ms/request, {args.http}, {args.requests} requests x {args.rounds} rounds, "
          f"load {os.getloadavg()[0]:.1f}:")
    for k, v in out.items():
        print(f"  {k:6} " + " / ".join(f"{x:.2f}" for x in v))
    return 0


if __name__ == "__main__":
    sys.exit(main())
