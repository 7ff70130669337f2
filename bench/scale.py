"""Scale benchmark (issue 14): full rebuild, the engine's bare aggregation, a daily incremental rebuild, the validate
stage, per-wallet lookups, disk and peak RSS, on an embedded warehouse filled in SQL (no simulator).

Raw rows come from bench_build.generate (seeded, numbers(); every fill's token is in token_map). The "day" appended
for the incremental run: N/100 new fills (each with its ERC1155 transfer) and N/1000 splits (with their two mints)
in N/10000 new blocks after the last one, all on 1% of the conditions (chosen by a seeded hash), then
``rebuild_range`` over exactly those blocks.

Bare aggregation = the full rebuild's own SQL, step by step, with every target ``<table>_new`` replaced by an
``ENGINE = Null`` table of the same columns and every ``<table>_new`` it reads replaced by the live table the full
rebuild just swapped in: the same reads, joins and GROUP BYs, none of the build's sorting and writing of parts.

    .venv/bin/python bench/scale.py --fills 1000000 --dir /dev/shm/h1bench
"""
from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_build import T0, WALLET, generate, lookups, pct

from harness.pnl import build
from harness.pnl.build import DERIVED_TABLES, create_views, rebuild, rebuild_range
from harness.pnl.rows import collateral_adapters, excluded_addresses
from harness.warehouse import connect, resolve_settings, sql
from harness.warehouse.schema import apply_schema


def append_day(client, fills: int, shape: dict, seed: int, day: int) -> tuple[int, int, int]:
    """Append one day of activity on 1% of the conditions after the last block; returns (from, to, fills)."""
    c, w = shape["conditions"], shape["wallets"]
    first = shape["blocks"] + 1 + (day - 1) * max(shape["blocks"] // 100, 1)
    nb = max(shape["blocks"] // 100, 1)
    n = max(fills // 100, 100)
    p = {"s": seed, "day": day, "k": max(c // 100, 1), "c": c, "w": w, "n": n, "b0": first, "nb": nb, "t0": T0,
         "ex": build_exchange(), "zero": "0x" + "0" * 40}
    cond = "(cityHash64({s:UInt64}, {day:UInt64}, number % {k:UInt64}, 11) % {c:UInt64})"
    tok = f"({cond} * 2 + cityHash64({{s:UInt64}}, {{day:UInt64}}, number, 8) % 2)"
    w_of = WALLET.format(x="(cityHash64({s:UInt64}, {day:UInt64}, number, 1) % {w:UInt64})")
    blk = "({b0:UInt64} + intDiv(number * {nb:UInt64}, {n:UInt64}))"
    tx = "concat('d', toString({day:UInt64}), '_', toString(number))"
    client.command(f"""INSERT INTO trades_raw SELECT {tx}, toUInt32(number % 1073741824 * 4 + 1), {blk}, toDateTime({{t0:UInt64}} + {blk} * 2), 'ctf', '',
        {w_of}, {{ex:String}}, if(cityHash64({{s:UInt64}}, {{day:UInt64}}, number, 3) % 2 = 0, 'BUY', 'SELL'),
        toUInt256({tok}) + 1000, sh, intDiv(sh * (1 + cityHash64({{s:UInt64}}, number, 5) % 999999), 1000000), 0,
        intDiv(sh, 1000), 1, 0
        FROM (SELECT number, 1 + cityHash64({{s:UInt64}}, {{day:UInt64}}, number, 4) % 1000000000 AS sh
              FROM numbers({{n:UInt64}}))""", parameters=p)
    client.command(f"""INSERT INTO erc1155_transfers SELECT {tx}, toUInt32(number % 1073741824 * 4 + 2), {blk}, toDateTime({{t0:UInt64}} + {blk} * 2), 0,
        {{ex:String}}, if(buy, {{ex:String}}, {w_of}), if(buy, {w_of}, {{ex:String}}), toUInt256({tok}) + 1000, sh, 1, 0
        FROM (SELECT number, cityHash64({{s:UInt64}}, {{day:UInt64}}, number, 3) % 2 = 0 AS buy,
                     1 + cityHash64({{s:UInt64}}, {{day:UInt64}}, number, 4) % 1000000000 AS sh
              FROM numbers({{n:UInt64}}))""", parameters=p)
    ns = max(n // 10, 10)
    ps = {**p, "n": ns}
    scond = "(cityHash64({s:UInt64}, {day:UInt64}, {x} % {k:UInt64}, 11) % {c:UInt64})"
    sw = WALLET.replace("{x}", "(cityHash64({s:UInt64}, {day:UInt64}, {x}, 12) % {w:UInt64})")
    cid = "concat('0x', lower(hex(SHA256(concat('c', toString({x}))))))"
    client.command(f"""INSERT INTO ctf_actions SELECT concat('ds', toString({{day:UInt64}}), '_', toString(number)),
        toUInt32(number % 1073741824 * 4 + 3), {blk}, toDateTime({{t0:UInt64}} + {blk} * 2), 'ctf', 'split', {sw.replace('{x}', 'number')}, '', '',
        {cid.replace('{x}', scond.replace('{x}', 'number'))}, [1, 2], [], 1000000 * (1 + number % 50), 0, 1, 0
        FROM numbers({{n:UInt64}})""", parameters=ps)
    sblk = blk.replace("number", "intDiv(number, 2)")
    client.command(f"""INSERT INTO erc1155_transfers SELECT
        concat('ds', toString({{day:UInt64}}), '_', toString(intDiv(number, 2))),
        toUInt32(intDiv(number, 2) % 1073741824 * 4 + 3), {sblk},
        toDateTime({{t0:UInt64}} + {sblk} * 2), number % 2, {{zero:String}}, {{zero:String}},
        {sw.replace('{x}', 'intDiv(number, 2)')},
        toUInt256({scond.replace('{x}', 'intDiv(number, 2)')} * 2 + number % 2) + 1000,
        1000000 * (1 + intDiv(number, 2) % 50), 1, 0
        FROM numbers({{n:UInt64}} * 2)""", parameters=ps)
    return first, first + nb - 1, n


def build_exchange() -> str:
    from harness.config import contracts
    return contracts()["ctf_exchange"].address


def _old_full_steps() -> list:
    """The full rebuild's steps before build.full_steps existed (for a baseline run of the old code)."""
    params = {"cutoff": build.NO_CUTOFF, "excluded": excluded_addresses(), "adapters": collateral_adapters(),
              "all": 1, "conditions": []}
    return [(t, sql.load(n), params) for t, n in build._PER_CONDITION.items()] + build._common_steps(None)


def bare_aggregation(client) -> dict[str, float]:
    """The full rebuild's steps with Null targets and the live tables as their inputs (see module doc)."""
    steps = build.full_steps(None) if hasattr(build, "full_steps") else _old_full_steps()
    names = "|".join(sorted(map(re.escape, DERIVED_TABLES), key=len, reverse=True))
    for t in DERIVED_TABLES:
        client.command(f"DROP TABLE IF EXISTS `{t}_null`")
        client.command(f"CREATE TABLE `{t}_null` AS `{t}` ENGINE = Null")
    out = {}
    try:
        for label, text, p in steps:
            text = re.sub(rf"INSERT INTO ({names})_new\b", r"INSERT INTO \1_null", text)
            text = re.sub(rf"\b({names})_new\b", r"\1", text)
            t0 = time.perf_counter()
            client.command(text, parameters=p)
            out[label] = time.perf_counter() - t0
    finally:
        for t in DERIVED_TABLES:
            client.command(f"DROP TABLE IF EXISTS `{t}_null`")
    return out


def validate(client, sample: int) -> dict:
    """Time the validate stage's bounded oracle cross-check (harness.pnl.crosscheck.cross_check: a seeded wallet sample,
    only their rows read, both oracles against the views)."""
    from harness.pnl.crosscheck import cross_check

    t0 = time.perf_counter()
    cc = cross_check(client, sample=sample, seed=1)
    return {"seconds": time.perf_counter() - t0, "ok": cc.ok, "summary": cc.summary()}


def final_cost(client) -> dict:
    """Seconds to read the raw fill and transfer tables with and without FINAL (best of 2), and their part counts."""
    out = {}
    for t, col in (("trades_raw", "shares"), ("erc1155_transfers", "value")):
        for final in ("", " FINAL"):
            best = float("inf")
            for _ in range(2):
                t0 = time.perf_counter()
                client.query(f"SELECT count(), sum({col}) FROM {t}{final} WHERE _deleted = 0")
                best = min(best, time.perf_counter() - t0)
            out[f"{t}{final}"] = best
        out[f"{t} parts"] = int(client.query("SELECT count() FROM system.parts WHERE active AND database = "
                                             "currentDatabase() AND table = {t:String}",
                                             parameters={"t": t}).result_rows[0][0])
    return out


def settle(client, limit: float = 600.0) -> float:
    """Wait (up to ``limit`` s) until no background merge runs, so the incremental's process CPU is its own and not
    the full rebuild's merges finishing (a daily rebuild meets a warehouse that settled since the last one)."""
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < limit:
        if not client.query("SELECT count() FROM system.merges").result_rows[0][0]:
            break
        time.sleep(1)
    return time.perf_counter() - t0


def disk(client, d: Path) -> dict:
    du = subprocess.run(["du", "-sb", str(d)], capture_output=True, text=True, check=True).stdout.split()[0]
    rows = client.query("SELECT table, sum(bytes_on_disk), sum(rows) FROM system.parts WHERE active "
                        "AND database = currentDatabase() GROUP BY table").result_rows
    return {"du_bytes": int(du), "parts_bytes": {t: int(b) for t, b, _ in rows},
            "parts_rows": {t: int(r) for t, _, r in rows}}


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run(fills: int, d: Path, seed: int, n_lookups: int, skip_validate: bool, skip_bare: bool, sample: int = 300
        ) -> dict:
    shutil.rmtree(d, ignore_errors=True)
    d.mkdir(parents=True)
    res: dict = {"fills": fills, "load": []}
    client = connect(resolve_settings(clickhouse=f"chdb://{d}", database="bench"))
    apply_schema(client)
    t = time.perf_counter()
    shape = generate(client, fills, seed)
    res["generate_s"] = time.perf_counter() - t
    res["shape"] = {k: v for k, v in shape.items() if k != "generate_s"}
    say(res, f"generated in {res['generate_s']:.1f}s {res['shape']}")
    cpu = time.process_time()
    rep = rebuild(client)
    res["full_cpu"] = time.process_time() - cpu
    create_views(client)
    res["full_s"], res["full_steps"], res["rows"] = rep.seconds, rep.steps, rep.rows
    res["full_step_cpu"] = getattr(rep, "step_cpu", {})
    say(res, f"full rebuild {rep.seconds:.2f}s (CPU {res['full_cpu']:.1f}s) steps {fmt(rep.steps)}")
    if not skip_bare:
        cpu = time.process_time()
        bare = bare_aggregation(client)
        res["bare_cpu"] = time.process_time() - cpu
        res["bare_steps"], res["bare_s"] = bare, sum(bare.values())
        say(res, f"bare aggregation {res['bare_s']:.2f}s (CPU {res['bare_cpu']:.1f}s) ({res['full_s'] / res['bare_s']:.2f}x"
            f" wall, {res['full_cpu'] / res['bare_cpu']:.2f}x CPU) steps {fmt(bare)}")
    lo, hi, n = append_day(client, fills, shape, seed, 1)
    res["settle_s"] = settle(client)
    say(res, f"background merges settled after {res['settle_s']:.1f}s")
    cpu = time.process_time()
    rng = rebuild_range(client, lo, hi)
    res["incr_cpu"] = time.process_time() - cpu
    res["incr_s"], res["incr_steps"], res["incr_conditions"] = rng.seconds, rng.steps, rng.conditions
    res["incr_step_cpu"] = getattr(rng, "step_cpu", {})
    res["incr_fills"], res["incr_blocks"] = n, (lo, hi)
    say(res, f"daily incremental ({n:,} fills, blocks {lo}-{hi}, {rng.conditions} conditions) {rng.seconds:.2f}s "
        f"(CPU {res['incr_cpu']:.1f}s) = {100 * rng.seconds / res['full_s']:.1f}% of full wall, "
        f"{100 * res['incr_cpu'] / res['full_cpu']:.1f}% of its CPU; steps {fmt(rng.steps)}; step CPU "
        f"{fmt(res['incr_step_cpu'])}")
    lat, cpu = lookups(client, n_lookups, shape["wallets"], seed)
    res.update(p50=pct(lat, 50), p99=pct(lat, 99), max=max(lat), cpu_p50=pct(cpu, 50), cpu_p99=pct(cpu, 99))
    say(res, f"lookup p50 {res['p50']:.2f} ms p99 {res['p99']:.2f} ms (CPU {res['cpu_p50']:.2f} / "
        f"{res['cpu_p99']:.2f} ms)")
    if not skip_validate:
        res["validate"] = validate(client, sample)
        say(res, f"validate {res['validate']}")
    res["final"] = final_cost(client)
    say(res, f"raw reads with / without FINAL {res['final']}")
    res["disk"] = disk(client, d)
    res["rss_mb"] = rss_mb()
    say(res, f"disk du {res['disk']['du_bytes'] / 1e9:.2f} GB parts {sum(res['disk']['parts_bytes'].values()) / 1e9:.2f}"
        f" GB; peak RSS {res['rss_mb']:.0f} MB")
    return res


def say(res: dict, text: str) -> None:
    la = os.getloadavg()[0]
    res["load"].append(la)
    print(f"[{res['fills']:,}] {time.strftime('%H:%M:%S')} load {la:.1f} {text}", flush=True)


def fmt(steps: dict[str, float]) -> str:
    return ", ".join(f"{k} {v:.2f}s" for k, v in steps.items())


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fills", type=int, required=True)
    ap.add_argument("--dir", type=Path, required=True, help="warehouse directory (deleted first and after)")
    ap.add_argument("--seed", type=int, default=5)
    ap.add_argument("--lookups", type=int, default=1000)
    ap.add_argument("--skip-validate", action="store_true")
    ap.add_argument("--sample", type=int, default=300, help="wallets the validate cross-check samples")
    ap.add_argument("--skip-bare", action="store_true")
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--json", type=Path, help="append the result as one JSON line here")
    args = ap.parse_args()
    try:
        res = run(args.fills, args.dir, args.seed, args.lookups, args.skip_validate, args.skip_bare, args.sample)
    finally:
        if not args.keep:
            shutil.rmtree(args.dir, ignore_errors=True)
    if args.json:
        with args.json.open("a", encoding="utf-8") as f:
            f.write(json.dumps(res, default=str) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
