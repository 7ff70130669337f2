"""Ingest throughput: logs/s from files (the simulator's format) and from a real node (anvil over HTTP), and the
harness's RPC ingest against a bare eth_getLogs loop on the same node (A B A B, median ratio; target >= 0.9).

Run: .venv/bin/python bench/bench_ingest.py [--fills 15000] [--rpc-logs 60000] [--window 50] [--pairs 3]
     [--profile] [--out bench/results/ingest.md]
The logs are a simulator world (``python -m harness simulate``: fills, splits, merges, negRisk conversions,
redemptions, transfers). Everything is local: an embedded chDB warehouse in a temp dir, anvil on 127.0.0.1, and
the fault proxy in front of it for the last run.
"""
from __future__ import annotations

import argparse
import cProfile
import io
import os
import platform
import pstats
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace

import orjson
import requests
import requests.adapters

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from harness import ingest
from harness.chain.decode import decode_logs
from harness.chain.faultproxy import FaultPlan, FaultProxy
from harness.chain.node import Anvil, find_anvil
from harness.chain.rpc import RetryPolicy, RpcClient
from harness.ingest.rpc_source import any_address_filter
from harness.ingest.world_files import read_logs_file
from harness.warehouse import connect, drop_database, resolve_settings
from harness.warehouse.schema import apply_schema


def simulate(out: Path, fills: int, seed: int = 11) -> Path:
    subprocess.run([sys.executable, "-m", "harness", "simulate", "--seed", str(seed), "--fills", str(fills),
                    "--out", str(out)], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    return out


def prefix_logs(world: Path, n: int) -> list[dict]:
    """The world's first ~n logs, cut at a block boundary."""
    out: list[dict] = []
    for log in read_logs_file(world / "logs.jsonl.gz"):
        if len(out) >= n and log["blockNumber"] != out[-1]["blockNumber"]:
            break
        out.append(log)
    return out


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
    load = "/".join(f"{x:.1f}" for x in os.getloadavg())
    return (f"{os.cpu_count()} cores ({cpu}), shared with other jobs (load average {load} at the end); "
            f"single run, so expect ±30% between runs; Python {platform.python_version()}; "
            f"chDB embedded warehouse in a temp dir; {ver} on 127.0.0.1")


def db(tmp: Path, name: str):
    c = connect(resolve_settings(clickhouse=f"chdb://{tmp / 'wh'}", database=name))
    apply_schema(c)
    return c


def bench_files(tmp: Path, world: Path) -> dict:
    logs = list(read_logs_file(world / "logs.jsonl.gz"))
    t = time.perf_counter()
    decode_logs(logs)
    dec = time.perf_counter() - t
    c = db(tmp, "bench_files")
    t = time.perf_counter()
    stats = ingest.ingest_world(c, world)
    el = time.perf_counter() - t
    return {"logs": stats.logs, "rows": sum(stats.rows.values()), "seconds": el, "rate": stats.logs / el,
            "decode_rate": len(logs) / dec}


def bare_loop(url: str, last: int, window: int, concurrency: int = 1) -> tuple[int, float, float]:
    """The floor: the harness's eth_getLogs requests over the same fixed windows (the known addresses, and the
    any-address FPMM topics), answers parsed with orjson, nothing else; ``concurrency`` requests in flight
    (threads). (logs, wall s, CPU s of this process)"""
    addresses = ingest.ingest_addresses()
    filters = [{"address": addresses}]
    any_topics = any_address_filter()
    if any_topics:
        filters.append({"topics": [any_topics]})
    bodies = [orjson.dumps({"jsonrpc": "2.0", "id": 1, "method": "eth_getLogs", "params": [
        {"fromBlock": hex(a), "toBlock": hex(min(last, a + window - 1)), **f}]})
        for a in range(0, last + 1, window) for f in filters]
    session = requests.Session()
    session.mount(url, requests.adapters.HTTPAdapter(pool_maxsize=max(10, concurrency + 2)))
    headers = {"Content-Type": "application/json"}

    def one(body: bytes) -> int:
        r = session.post(url, data=body, headers=headers)
        r.raise_for_status()
        return len(orjson.loads(r.content)["result"])

    t, c = time.perf_counter(), time.process_time()
    if concurrency == 1:
        n = sum(one(b) for b in bodies)
    else:
        with ThreadPoolExecutor(concurrency) as pool:
            n = sum(pool.map(one, bodies))
    return n, time.perf_counter() - t, time.process_time() - c


def harness_run(tmp: Path, name: str, url: str, last: int, window: int, profile: cProfile.Profile | None = None,
                concurrency: int = 1):
    """harness backfill of the same blocks with the same fixed window into a new database. (stats, wall s, CPU s)"""
    c = db(tmp, name)
    t, cpu = time.perf_counter(), time.process_time()
    if profile:
        profile.enable()
    s = ingest.backfill(c, url, 0, last, confirmations=0, window=window, max_window=window, preparations=False,
                        concurrency=concurrency)
    if profile:
        profile.disable()
    wall, cpu = time.perf_counter() - t, time.process_time() - cpu
    # dropped at once: the engine's background pools visit every table of every database in the process, so
    # databases left behind would add CPU to the later runs
    drop_database(c, name)
    return s, wall, cpu


def bench_ratio(tmp: Path, node, last: int, window: int, pairs: int, profile: bool, *, url: str | None = None,
                concurrency: int = 1, label: str = "ratio") -> dict:
    """A B A B: bare loop then harness, ``pairs`` times; the ratio is harness logs/s over bare logs/s, and the CPU
    ratio the harness process's CPU over the bare loop's (chDB runs in the harness process and is counted)."""
    url = url or node.url
    bare_loop(url, last, window, concurrency)  # warm the node's caches and the connection pool
    harness_run(tmp, f"{label}_warm", url, last, window, concurrency=concurrency)
    rows = []
    for i in range(pairs):
        load = os.getloadavg()[0]
        n_bare, t_bare, c_bare = bare_loop(url, last, window, concurrency)
        s, t_h, c_h = harness_run(tmp, f"{label}_{i}", url, last, window, concurrency=concurrency)
        assert s.logs == n_bare, f"the harness ingested {s.logs} logs, the bare loop saw {n_bare}"
        rows.append({"logs": n_bare, "bare_s": t_bare, "harness_s": t_h, "ratio": t_bare / t_h,
                     "bare_cpu": c_bare, "harness_cpu": c_h, "cpu_ratio": c_h / c_bare, "load": load})
        print(f"{label} pair {i} (k={concurrency}): bare {n_bare / t_bare:,.0f} logs/s ({c_bare:.2f} CPU-s), "
              f"harness {s.logs / t_h:,.0f} logs/s ({c_h:.2f} CPU-s), ratio {t_bare / t_h:.2f}, "
              f"CPU x{c_h / c_bare:.2f}, load {load:.1f}", flush=True)
    out = {"pairs": rows, "median_ratio": statistics.median(r["ratio"] for r in rows), "window": window,
           "blocks": last + 1, "concurrency": concurrency,
           "median_cpu_ratio": statistics.median(r["cpu_ratio"] for r in rows)}
    if profile:
        prof = cProfile.Profile()
        harness_run(tmp, "ratio_profile", node.url, last, window, prof)
        buf = io.StringIO()
        pstats.Stats(prof, stream=buf).sort_stats("tottime").print_stats(14)
        out["profile"] = buf.getvalue()
    return out


_PROXY = """
import sys
from harness.chain.faultproxy import FaultPlan, FaultProxy
with FaultProxy(sys.argv[1], FaultPlan(rate=0.0, latency=float(sys.argv[2]))) as p:
    print(p.url, flush=True)
    sys.stdin.read()  # until the bench closes it
"""


@contextmanager
def slow_proxy(upstream: str, latency: float) -> Iterator[str]:
    """The fault proxy answering every request ``latency`` s late, in a process of its own: in the bench's process
    its threads would take the GIL from the harness (and its CPU would count as the harness's)."""
    proc = subprocess.Popen([sys.executable, "-c", _PROXY, upstream, str(latency)], cwd=ROOT, text=True,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        yield proc.stdout.readline().strip()
    finally:
        proc.stdin.close()
        proc.wait(10)


def bench_rpc(tmp: Path, world: Path, n: int, window: int = 50, pairs: int = 3, profile: bool = False, *,
              ratio_only: bool = False, latency: float = 0.0, concurrency: tuple[int, ...] = (4,),
              node_state: Path | None = None) -> dict:
    logs = prefix_logs(world, n)
    first_ts = int(logs[0]["blockTimestamp"], 16)
    out = {}
    loaded = node_state is not None and node_state.is_file()
    with Anvil.start(timestamp=None if loaded else first_ts - 3600, load_state=node_state if loaded else None) as node:
        t = time.perf_counter()
        rep = (SimpleNamespace(logs=len(logs), last_block=node.block_number()) if loaded else node.replay(logs))
        out["logs"] = rep.logs
        out["replay_seconds"] = time.perf_counter() - t
        out["replay_rate"] = rep.logs / out["replay_seconds"]
        out["blocks"] = rep.last_block
        if node_state is not None and not loaded:
            node.dump_state(node_state)
        ingest.backfill(db(tmp, "bench_warmup"), node.url, 0, min(50, rep.last_block), confirmations=0)
        out["ratio"] = bench_ratio(tmp, node, rep.last_block, window, pairs, profile)
        if latency > 0:  # a distant node: every answer `latency` s late; the same concurrency on both sides
            for k in concurrency:
                with slow_proxy(node.url, latency) as url:
                    q = bench_ratio(tmp, node, rep.last_block, window, pairs, False, url=url,
                                    concurrency=k, label=f"latency{k}")
                    out[f"latency k={k}"] = {**q, "latency": latency}
        if ratio_only:
            return out
        for label, w in (("window 2000 (default)", 2000), ("window 100", 100)):
            c = db(tmp, f"bench_rpc_{w}")
            t = time.perf_counter()
            s = ingest.backfill(c, node.url, 0, rep.last_block, confirmations=0, window=w, max_window=w)
            el = time.perf_counter() - t
            out[label] = {"logs": s.logs, "seconds": el, "rate": s.logs / el}
        plan = FaultPlan(rate=0.1, seed=3, kinds=("429", "500", "503", "drop", "truncate_json", "too_many"),
                         strip_block_timestamp=True, max_range=500)
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
    ap.add_argument("--fills", type=int, default=15_000, help="simulator fills (15000 -> about 160k logs)")
    ap.add_argument("--rpc-logs", type=int, default=60_000, help="logs replayed into anvil (a prefix of the world)")
    ap.add_argument("--window", type=int, default=50, help="blocks per eth_getLogs in the bare-vs-harness runs")
    ap.add_argument("--pairs", type=int, default=3, help="A B pairs (bare loop, harness) for the median ratio")
    ap.add_argument("--profile", action="store_true", help="cProfile one more harness run (main thread)")
    ap.add_argument("--ratio-only", action="store_true",
                    help="only the harness-vs-bare ratios (no files run, no default-window or fault runs)")
    ap.add_argument("--latency", type=float, default=0.0,
                    help="also the ratio through the fault proxy answering every request this many s late")
    ap.add_argument("--concurrency", default="4",
                    help="eth_getLogs in flight for the --latency ratio, both sides (comma list: one run each)")
    ap.add_argument("--node-state", type=Path, default=None,
                    help="anvil state file: served when it exists (no replay), else written after the replay "
                    "(same --fills and --rpc-logs only)")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "ingest.md")
    a = ap.parse_args()
    ks = tuple(int(k) for k in a.concurrency.split(","))
    with tempfile.TemporaryDirectory(prefix="bench_ingest_") as d:
        tmp = Path(d)
        world = simulate(tmp / "world", a.fills)
        f = None if a.ratio_only else bench_files(tmp, world)
        print(f"files: {f}", flush=True)
        r = bench_rpc(tmp, world, a.rpc_logs, a.window, a.pairs, a.profile, ratio_only=a.ratio_only,
                      latency=a.latency, concurrency=ks, node_state=a.node_state)
        print(f"rpc: {r}", flush=True)
    head = [
        "# Ingest throughput", "",
        (f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} with `.venv/bin/python bench/bench_ingest.py "
        f"--fills {a.fills} --rpc-logs {a.rpc_logs} --window {a.window} --pairs {a.pairs}"
        f"{' --profile' if a.profile else ''}{' --ratio-only' if a.ratio_only else ''}"
        f"{f' --latency {a.latency:g} --concurrency {a.concurrency}' if a.latency else ''}`."),
        f"Machine: {machine()}.",
    ]
    lines = [] if a.ratio_only else _throughput(a, f, r)
    lines = head + lines + _ratios(r)
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {a.out}")
    return 0


def _throughput(a, f: dict, r: dict) -> list[str]:
    lines = [
        (f"Logs: a simulator world (seed 11, {a.fills:,} fills: {f['logs']:,} logs of every Polymarket event kind, "
         f"{f['rows']:,} rows); the anvil runs replay its first {r['logs']:,} logs as real transactions."), "",
        "| path | logs | seconds | logs/s |", "|---|---:|---:|---:|",
        f"| decode only (no insert) | {f['logs']:,} | - | {f['decode_rate']:,.0f} |",
        (f"| files: logs.jsonl.gz → decode → chDB insert + checkpoints | {f['logs']:,} | {f['seconds']:.1f} | "
        f"{f['rate']:,.0f} |"),
    ]
    for label in ("window 2000 (default)", "window 100"):
        x = r[label]
        lines.append(f"| anvil over HTTP, eth_getLogs {label} | {x['logs']:,} | {x['seconds']:.1f} | {x['rate']:,.0f} |")
    x = r["faults"]
    lines += [
        (f"| anvil behind the fault proxy (10% faults, ranges > 500 blocks refused, no blockTimestamp in logs) | {x['logs']:,} | {x['seconds']:.1f} |"
        f" {x['rate']:,.0f} |"), "",
        (f"Replaying the logs into anvil as real transactions: {r['replay_rate']:,.0f} logs/s "
        f"({r['blocks']:,} blocks, {r['replay_seconds']:.1f} s)."),
        (f"Fault run: {x['retries']} retries, {x['halvings']} window halvings, injected {x['injected']}, "
        f"{x['block_fetches']} eth_getBlockByNumber calls (batched) for timestamps."), "",
        ("Reading: the RPC path is bounded by decode + insert, not by anvil; against a hosted Polygon endpoint "
        "the network and the provider's rate limits dominate, and the adaptive window keeps each getLogs under "
        "the provider's result cap."),
    ]
    return lines


def _ratios(r: dict) -> list[str]:
    lines = []
    for key in [k for k in r if k == "ratio" or k.startswith("latency")]:
        q = r[key]
        where = ("the node directly" if key == "ratio"
                 else f"the fault proxy answering every request {q['latency'] * 1000:g} ms late")
        lines += ["", f"## Ingest vs bare getLogs: {key}, {q['concurrency']} request(s) in flight", "",
                  (f"Same anvil chain ({q['blocks']:,} blocks, {q['pairs'][0]['logs']:,} logs) through {where}, "
                   f"same fixed {q['window']}-block windows and the same two filters per window (the known "
                   "addresses; the FPMM topics from any address). Bare: requests + orjson, nothing else. Harness: "
                   "`ingest.backfill` into a new chDB database (fetch, decode, insert, checkpoints, run "
                   "records). A B A B; CPU is each process's own (chDB runs inside the harness's)."), "",
                  ("| pair | load | bare logs/s | harness logs/s | harness / bare | bare CPU s | harness CPU s | "
                   "CPU ratio |"), "|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for i, p in enumerate(q["pairs"]):
            lines.append(f"| {i} | {p['load']:.1f} | {p['logs'] / p['bare_s']:,.0f} | "
                         f"{p['logs'] / p['harness_s']:,.0f} | {p['ratio']:.2f} | {p['bare_cpu']:.2f} | "
                         f"{p['harness_cpu']:.2f} | {p['cpu_ratio']:.2f} |")
        lines += ["", (f"Median ratio: **{q['median_ratio']:.2f}** (target 0.90), CPU "
                       f"**x{q['median_cpu_ratio']:.2f}** (target <= 2).")]
        if q.get("profile"):
            lines += ["", "Profile of one more harness run (cProfile, main thread, by own time):", "", "```",
                      *[ln.rstrip() for ln in q["profile"].strip().splitlines()[:40]], "```"]
    return lines


if __name__ == "__main__":
    sys.exit(main())
