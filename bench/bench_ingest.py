"""Ingest throughput: logs/s from files (the simulator's format) and from a real node (anvil over HTTP).

Run: .venv/bin/python bench/bench_ingest.py [--file-logs 200000] [--rpc-logs 30000] [--out bench/results/ingest.md]
Everything is local: an embedded chDB warehouse in a temp dir, anvil on 127.0.0.1, an optional fault proxy.
"""
from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from harness import ingest
from harness.chain.decode import decode_logs
from harness.chain.faultproxy import FaultPlan, FaultProxy
from harness.chain.node import Anvil, find_anvil
from harness.chain.rpc import RetryPolicy, RpcClient
from harness.schema import apply_schema
from harness.warehouse import connect, resolve_settings
from tests.support.chainlogs import make_logs


def logs_of(n: int, seed: int) -> list[dict]:
    """About n logs of the real shapes (2.4 logs per tx), cut at a block boundary; preparations are rare (0.5%)."""
    out: list[dict] = []
    start, t0 = 1_000, 1_730_000_000
    while len(out) < n:
        out += make_logs(seed=seed, blocks=2000, start_block=start, start_time=t0, unknown=False, prep_rate=0.005)
        start, t0, seed = start + 2000, t0 + 4000, seed + 1
    last = out[n - 1]["blockNumber"]
    return [lg for lg in out[: n + 20] if int(lg["blockNumber"], 16) <= int(last, 16)]


def machine() -> str:
    cpu = ""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            cpu = next(ln.split(":", 1)[1].strip() for ln in fh if ln.startswith("model name"))
    except (OSError, StopIteration):
        pass
    anvil = find_anvil()
    ver = subprocess.run([str(anvil), "--version"], capture_output=True, text=True, check=False).stdout.splitlines()[0] \
        if anvil else "absent"
    return (f"{os.cpu_count()} cores ({cpu}), shared with other jobs; Python {platform.python_version()}; "
            f"chDB embedded warehouse in a temp dir; {ver} on 127.0.0.1")


def db(tmp: Path, name: str):
    c = connect(resolve_settings(clickhouse=f"chdb://{tmp / 'wh'}", database=name))
    apply_schema(c)
    return c


def bench_files(tmp: Path, n: int) -> dict:
    logs = logs_of(n, 1)
    world = tmp / "world"
    world.mkdir()
    with gzip.open(world / "logs.jsonl.gz", "wt", encoding="utf-8") as fh:
        for lg in logs:
            fh.write(json.dumps(lg) + "\n")
    t = time.perf_counter()
    decode_logs(logs)
    dec = time.perf_counter() - t
    c = db(tmp, "bench_files")
    t = time.perf_counter()
    stats = ingest.ingest_world(c, world)
    el = time.perf_counter() - t
    return {"logs": stats.logs, "rows": sum(stats.rows.values()), "seconds": el, "rate": stats.logs / el,
            "decode_rate": len(logs) / dec}


def bench_rpc(tmp: Path, n: int) -> dict:
    logs = logs_of(n, 100)
    first_ts = int(logs[0]["blockTimestamp"], 16)
    out = {}
    with Anvil.start(timestamp=first_ts - 3600) as node:
        t = time.perf_counter()
        rep = node.replay(logs)
        out["replay_seconds"] = time.perf_counter() - t
        out["replay_rate"] = rep.logs / out["replay_seconds"]
        out["blocks"] = rep.last_block
        ingest.backfill(db(tmp, "bench_warmup"), node.url, 0, min(50, rep.last_block), confirmations=0)
        for label, window in (("window 2000 (default)", 2000), ("window 100", 100)):
            c = db(tmp, f"bench_rpc_{window}")
            t = time.perf_counter()
            s = ingest.backfill(c, node.url, 0, rep.last_block, confirmations=0, window=window, max_window=window)
            el = time.perf_counter() - t
            out[label] = {"logs": s.logs, "seconds": el, "rate": s.logs / el}
        plan = FaultPlan(rate=0.1, seed=3, kinds=("429", "500", "503", "drop", "truncate_json", "too_many"),
                         strip_block_timestamp=True)
        with FaultProxy(node.url, plan) as proxy:
            rpc = RpcClient(proxy.url, retry=RetryPolicy(attempts=20, base=0.01, cap=0.05))
            c = db(tmp, "bench_rpc_faults")
            t = time.perf_counter()
            s = ingest.backfill(c, rpc, 0, rep.last_block, confirmations=0)
            el = time.perf_counter() - t
            out["faults"] = {"logs": s.logs, "seconds": el, "rate": s.logs / el, "retries": s.retries,
                             "halvings": s.range_errors, "injected": dict(proxy.stats.faults),
                             "block_fetches": proxy.stats.methods["eth_getBlockByNumber"]}
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--file-logs", type=int, default=200_000)
    ap.add_argument("--rpc-logs", type=int, default=30_000)
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "ingest.md")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench_ingest_") as d:
        tmp = Path(d)
        f = bench_files(tmp, a.file_logs)
        print(f"files: {f}", flush=True)
        r = bench_rpc(tmp, a.rpc_logs)
        print(f"rpc: {r}", flush=True)
    lines = [
        "# Ingest throughput", "",
        (f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} with `.venv/bin/python bench/bench_ingest.py "
        f"--file-logs {a.file_logs} --rpc-logs {a.rpc_logs}`."),
        f"Machine: {machine()}.",
        ("Logs: synthetic Polymarket shapes (V1 OrderFilled + OrdersMatched + ERC1155 TransferSingle per fill, "
        "ConditionPreparation with token-map derivation), about 2.4 logs per transaction."), "",
        "| path | logs | seconds | logs/s |", "|---|---:|---:|---:|",
        f"| decode only (no insert) | {a.file_logs:,} | - | {f['decode_rate']:,.0f} |",
        (f"| files: logs.jsonl.gz → decode → chDB insert + checkpoints | {f['logs']:,} | {f['seconds']:.1f} | "
        f"{f['rate']:,.0f} |"),
    ]
    for label in ("window 2000 (default)", "window 100"):
        x = r[label]
        lines.append(f"| anvil over HTTP, eth_getLogs {label} | {x['logs']:,} | {x['seconds']:.1f} | {x['rate']:,.0f} |")
    x = r["faults"]
    lines += [
        (f"| anvil behind the fault proxy (10% faults, no blockTimestamp in logs) | {x['logs']:,} | {x['seconds']:.1f} |"
        f" {x['rate']:,.0f} |"), "",
        (f"Replaying the logs into anvil as real transactions: {r['replay_rate']:,.0f} logs/s "
        f"({r['blocks']:,} blocks, {r['replay_seconds']:.1f} s)."),
        (f"Fault run: {x['retries']} retries, {x['halvings']} window halvings, injected {x['injected']}, "
        f"{x['block_fetches']} eth_getBlockByNumber calls (batched) for timestamps."), "",
        ("Reading: the RPC path is bounded by decode + insert, not by anvil; against a hosted Polygon endpoint "
        "the network and the provider's rate limits dominate, and the adaptive window keeps each getLogs under "
        "the provider's result cap."),
    ]
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
