"""Issue 22 goal 2: what the range rebuild's masking costs per derived table, by condition id against by condition_key.

The range rebuild starts each per-condition build table as hard links to the live table's parts and masks the
recomputed conditions' rows with a lightweight DELETE (build/reuse_delete*.sql). Per table, on bench data: the
count of the rows a predicate selects and the DELETE with it on a fresh hard-linked copy, once by the 66-character
id (``condition_id IN ids``) and once by the 4-byte key (``condition_key IN keys``, schema 160-166), in turn.
Both must select the same rows. CPU = process CPU seconds (chDB runs in this process).

    .venv/bin/python bench/bench_mask.py --fills 5000000 --dir /tmp/mask [--rounds 2] [--share 0.01]
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_build import generate
from bench_floor import settle

from harness.pnl import build
from harness.warehouse import connect, resolve_settings
from harness.warehouse.schema import apply_schema

BY = {"id": "condition_id IN {conditions:Array(String)}", "key": "condition_key IN {keys:Array(UInt32)}"}


def cpu(fn) -> tuple[float, object]:
    c0 = time.process_time()
    out = fn()
    return time.process_time() - c0, out


def measure(client, table: str, params: dict, rounds: int) -> dict:
    res: dict = {"rows": int(client.query(f"SELECT count() FROM {table}").result_rows[0][0])}
    for how, pred in BY.items():
        counts, deletes, selected = [], [], set()
        for _ in range(rounds):
            c, n = cpu(lambda: client.query(f"SELECT count() FROM {table} WHERE {pred}", parameters=params)
                       .result_rows[0][0])
            counts.append(c)
            selected.add(int(n))
            client.command(f"DROP TABLE IF EXISTS mask_{table} SYNC")
            client.command(f"CREATE TABLE mask_{table} AS {table}")
            client.command(f"ALTER TABLE mask_{table} ATTACH PARTITION tuple() FROM {table}")
            d, _ = cpu(lambda: client.command(f"DELETE FROM mask_{table} WHERE {pred}", parameters=params))
            deletes.append(d)
            left = int(client.query(f"SELECT count() FROM mask_{table}").result_rows[0][0])
            client.command(f"DROP TABLE mask_{table} SYNC")
            selected.add(res["rows"] - left)
        if len(selected) != 1:
            raise SystemExit(f"{table} by {how}: the count and the DELETE disagree ({sorted(selected)})")
        res[how] = {"selected": selected.pop(), "count_cpu": statistics.median(counts),
                    "delete_cpu": statistics.median(deletes)}
    if res["id"]["selected"] != res["key"]["selected"]:
        raise SystemExit(f"{table}: by id {res['id']['selected']} rows, by key {res['key']['selected']}")
    return res


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fills", type=int, default=5_000_000)
    ap.add_argument("--dir", type=Path, required=True, help="the warehouse goes here (deleted after)")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--share", type=float, default=0.01, help="share of the conditions masked (a day's 1%%)")
    ap.add_argument("--seed", type=int, default=5)
    args = ap.parse_args()
    shutil.rmtree(args.dir, ignore_errors=True)
    args.dir.mkdir(parents=True)
    try:
        client = connect(resolve_settings(clickhouse=f"chdb://{args.dir}", database="bench"))
        apply_schema(client)
        shape = generate(client, args.fills, args.seed)
        build.rebuild(client)
        settle(client)
        ids = [r[0] for r in client.query("SELECT DISTINCT condition_id FROM token_map ORDER BY condition_id")
               .result_rows]
        step = max(1, round(1 / args.share))
        conds = ids[::step]
        params = {"conditions": conds, "keys": build.condition_keys(client, conds)}
        print(f"{args.fills:,} fills, {shape['conditions']:,} conditions, {len(conds)} masked; load "
              f"{os.getloadavg()[0]:.1f}", flush=True)
        print("| table | rows | rows masked | count by id | by key | DELETE by id | by key |")
        print("|---|---:|---:|---:|---:|---:|---:|")
        tot = {"id": 0.0, "key": 0.0}
        for table in build._DELTA:
            r = measure(client, table, params, args.rounds)
            tot["id"] += r["id"]["delete_cpu"]
            tot["key"] += r["key"]["delete_cpu"]
            print(f"| {table} | {r['rows']:,} | {r['id']['selected']:,} | {r['id']['count_cpu']:.2f} | "
                  f"{r['key']['count_cpu']:.2f} | {r['id']['delete_cpu']:.2f} | {r['key']['delete_cpu']:.2f} |",
                  flush=True)
        print(f"DELETEs in all: by id {tot['id']:.2f} CPU-s, by key {tot['key']:.2f}; load {os.getloadavg()[0]:.1f}")
    finally:
        shutil.rmtree(args.dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
