"""Simulator throughput and memory: logs/second and peak RSS while streaming a large world (nothing kept).

Run: .venv/bin/python bench/simulate.py [fills] [wallets] [markets]. Peak RSS is sampled at checkpoints, so a flat
RSS across checkpoints shows memory bounded by the world's size (wallets x markets), not by the number of logs.
"""
from __future__ import annotations

import os
import platform
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from harness.chain.decode import Decoded, make_decoder
from harness.worlds.model import WorldParams
from harness.worlds.simulate import Simulation


def rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    fills = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    wallets = int(sys.argv[2]) if len(sys.argv) > 2 else 5_000
    markets = int(sys.argv[3]) if len(sys.argv) > 3 else 500
    print(f"# simulate benchmark: fills={fills} wallets={wallets} markets={markets}; python "
          f"{platform.python_version()}, 2 shared cores, load avg {os.getloadavg()[0]:.1f}")
    sim = Simulation(WorldParams(seed=1, wallets=wallets, markets=markets, fills=fills))
    dec = make_decoder()
    t, c = time.perf_counter(), time.process_time()
    n = 0
    batch, out = [], Decoded()
    for log in sim.logs():
        n += 1
        batch.append(log)
        if len(batch) == 50_000:  # decode as a consumer would, then drop the rows
            dec.feed(batch, out)
            out, batch = Decoded(), []
        if n % 500_000 == 0:
            print(f"  {n:>10,} logs  {n / (time.perf_counter() - t):>9,.0f} logs/s wall  RSS {rss_mb():7.1f} MB")
    dec.feed(batch, out)
    wall, cpu = time.perf_counter() - t, time.process_time() - c
    truth = sim.truth()
    print(f"total {n:,} logs in {wall:.1f}s wall / {cpu:.1f}s CPU: {n / wall:,.0f} logs/s wall, "
          f"{n / cpu:,.0f} logs/s per CPU-second (simulate + encode + decode); final RSS {rss_mb():.1f} MB; "
          f"{len(truth)} wallets with P&L")


if __name__ == "__main__":
    main()
