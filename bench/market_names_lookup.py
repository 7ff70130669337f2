"""One-wallet read of realized_pnl_by_market_final with many markets: names by joinGet on a Join table (before issue
20) against a direct join on the MergeTree ``market_names`` (after: replicated-safe, no in-memory table).

Synthetic rows (seeded SQL numbers()): M markets with names, W wallets with K resolved conditions each. Each view is
read for random wallets, A B A B, wall ms median/p90 and the process CPU (chDB runs in this process).

    .venv/bin/python bench/market_names_lookup.py --markets 300000 --wallets 20000 --per-wallet 100 \
        --dir /tmp/h20srv-names
"""
from __future__ import annotations

import argparse
import random
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from harness.pnl.build import create_views
from harness.warehouse import connect, resolve_settings
from harness.warehouse.schema import apply_schema

COND = "concat('0x', lower(hex(sipHash128(toUInt64({n})))))"
def before_view() -> str:
    """The view as it was before issue 20 (git a835d8c), reading the Join table under the name names_join."""
    import subprocess

    text = subprocess.run(["git", "show", "a835d8c:sql/views/realized_pnl_by_market_final.sql"], check=True,
                          capture_output=True, text=True, cwd=Path(__file__).resolve().parent.parent).stdout
    return (text.replace("'market_names'", "'names_join'").replace("${suffix}", "_joinget"))


def fill(client, markets: int, wallets: int, per_wallet: int) -> None:
    client.command(f"INSERT INTO market_names SELECT {COND.format(n='number')}, concat('Will market ', "
                   "toString(number), ' resolve Yes before the end of the season?'), concat('market-', "
                   f"toString(number)), ['Yes', 'No'] FROM numbers({markets})")
    client.command("CREATE TABLE names_join (condition_id String, question String, slug String, "
                   "outcomes Array(String)) ENGINE = Join(ANY, LEFT, condition_id)")
    client.command("INSERT INTO names_join SELECT * FROM market_names")
    client.command(f"INSERT INTO winning_index SELECT {COND.format(n='number')}, [1, 0], 1, 0, number, "
                   f"toDateTime('2025-01-01 00:00:00', 'UTC') + number FROM numbers({markets})")
    client.command(
        f"INSERT INTO wallet_market_pnl SELECT concat('0x', leftPad(hex(number % {wallets}), 40, '0')), "
        f"{COND.format(n=f'cityHash64(number) % {markets}')}, 1, -1000, 2000, 1000 "
        f"FROM numbers({wallets * per_wallet})")


def timed(client, view: str, wallets: list[str]) -> tuple[list[float], float, int]:
    wall, rows = [], 0
    c0 = time.process_time()
    for w in wallets:
        t = time.perf_counter()
        r = client.query(f"SELECT condition_id, realized_pnl, question, slug FROM {view} WHERE wallet = {{w:String}}",
                         parameters={"w": w}).result_rows
        wall.append(time.perf_counter() - t)
        rows += sum(1 for x in r if x[2] is not None)
    return sorted(wall), time.process_time() - c0, rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--markets", type=int, default=300_000)
    ap.add_argument("--wallets", type=int, default=20_000)
    ap.add_argument("--per-wallet", type=int, default=100)
    ap.add_argument("--reads", type=int, default=30)
    ap.add_argument("--dir", type=Path, required=True)
    a = ap.parse_args()
    shutil.rmtree(a.dir, ignore_errors=True)
    client = connect(resolve_settings(clickhouse=f"chdb://{a.dir}", database="names_bench"))
    apply_schema(client)
    fill(client, a.markets, a.wallets, a.per_wallet)
    create_views(client)
    client.command(before_view())
    after = Path(__file__).resolve().parent.parent / "sql" / "views" / "realized_pnl_by_market_final.sql"
    text = after.read_text(encoding="utf-8")
    client.command(text.replace("${suffix}", "_hash").replace("SETTINGS join_algorithm = 'direct'", "")
                   .replace("LEFT JOIN market_names", "ANY LEFT JOIN market_names"))
    rnd = random.Random(0)
    views = {"before: joinGet on a Join table": "realized_pnl_by_market_final_joinget",
             "after: direct join on MergeTree market_names": "realized_pnl_by_market_final",
             "reference: hash join on MergeTree market_names": "realized_pnl_by_market_final_hash"}
    print(f"{a.markets} markets, {a.wallets} wallets x {a.per_wallet} resolved conditions; {a.reads} one-wallet "
          "reads per round, A B A B")
    for rnd_no in range(2):
        for label, view in views.items():
            ws = ["0x" + format(rnd.randrange(a.wallets), "x").upper().rjust(40, "0") for _ in range(a.reads)]
            wall, cpu, named = timed(client, view, ws)
            print(f"round {rnd_no + 1} {label:46s} median {wall[len(wall) // 2] * 1000:7.1f} ms  "
                  f"p90 {wall[int(len(wall) * 0.9)] * 1000:7.1f} ms  cpu/read {cpu / len(ws) * 1000:6.1f} ms  "
                  f"named rows {named}")
    shutil.rmtree(a.dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
