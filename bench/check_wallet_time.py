"""check-wallet's time limit (issue 25): one wallet with ~10,000 events, against a local node, in under a minute.

A simulated world with few wallets and many fills (so one wallet holds thousands of events) is replayed on anvil
(its logs at the real contract addresses), then ``python -m harness check-wallet`` is run for the busiest wallet as
a user runs it (its own process, scratch database in a temp dir). Printed: the wallet's events on the chain (logs
naming it in a topic), logs fetched, the chain's logs, wall and CPU seconds, and whether its cash-flow total
equals the simulator's ledger.

Run: .venv/bin/python bench/check_wallet_time.py [--fills 3000] [--wallets 6] [--markets 12]
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from harness.chain.node import Anvil  # noqa: E402
from harness.worlds.model import WorldParams  # noqa: E402
from harness.worlds.simulate import read_world_logs, write_world  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fills", type=int, default=3000)
    ap.add_argument("--wallets", type=int, default=6)
    ap.add_argument("--markets", type=int, default=12)
    ap.add_argument("--seed", type=int, default=5)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="cw-bench-") as tmp:
        out = Path(tmp) / "w"
        write_world(out, WorldParams(seed=a.seed, wallets=a.wallets, markets=a.markets, fills=a.fills,
                                     proxy_share=0.0))
        logs = list(read_world_logs(out))
        truth = json.loads((out / "truth.json").read_text())["wallets"]
        named = Counter()
        for lg in logs:
            for t in {t for t in lg["topics"][1:] if t.startswith("0x" + "0" * 24)}:
                named["0x" + t[-40:]] += 1
        wallet, events = max(((w, named[w]) for w in truth), key=lambda x: x[1])
        t0 = time.monotonic()
        node = Anvil.start(timestamp=int(logs[0]["blockTimestamp"], 16) - 3600)
        try:
            rep = node.replay(logs)
            replay_s = time.monotonic() - t0
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            t1 = time.monotonic()
            run = subprocess.run([sys.executable, "-m", "harness", "check-wallet", wallet, "--rpc-url", node.url,
                                  "--prices", str(out / "prices.csv"), "--count-chain", "--json", "--no-explain"],
                                 cwd=ROOT, capture_output=True, text=True, check=False)
            wall = time.monotonic() - t1
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
        finally:
            node.stop()
        if run.returncode != 0:
            print(run.stderr[-3000:])
            return 1
        doc = json.loads(run.stdout)
        total = round(float(doc["cash_flow"]["total"]) * 10**6)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        print(f"world: {len(logs):,} logs in {rep.txs:,} txs replayed in {replay_s:.0f} s; wallet {wallet}: "
              f"{events:,} events naming it")
        print(f"check-wallet: {wall:.1f} s wall, {cpu:.1f} s CPU (load {os.getloadavg()[0]:.1f}), "
              f"{doc['logs_fetched']:,} logs fetched of the chain's {doc['chain_logs']:,}, "
              f"in-process fetch+build {doc['seconds']:.1f} s, {len(doc['markets'])} markets; total equals the "
              f"ledger: {total == truth[wallet]['total']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
