"""Decoder throughput on the common shapes (V1 OrderFilled, TransferSingle, TransferBatch of 2, and a match mix).

Run: .venv/bin/python bench/decode.py [N]. Prints logs/second per shape on one core (single process).
"""
from __future__ import annotations

import os
import platform
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from harness.chain.decode import decode_logs
from harness.chain.encode import encode_log
from harness.chain.events import address_of


def _addr(r):
    return "0x" + r.randbytes(20).hex()


def make(shape: str, n: int, seed: int = 1) -> list[dict]:
    r = random.Random(seed)
    wallets = [_addr(r) for _ in range(500)]
    tokens = [r.getrandbits(256) for _ in range(100)]
    out = []
    for i in range(n):
        s = shape if shape != "mix" else ("fill", "fill", "single", "single", "single", "batch", "matched")[i % 7]
        kw = {"tx_hash": "0x" + r.randbytes(32).hex(), "log_index": i % 300, "block_number": 60_000_000 + i // 200,
                  "block_time": 1_700_000_000 + i // 100}
        if s == "fill":
            buy = r.random() < 0.5
            tok = r.choice(tokens)
            out.append(encode_log("exchange.OrderFilled", {
                "orderHash": "0x" + r.randbytes(32).hex(), "maker": r.choice(wallets), "taker": r.choice(wallets),
                "makerAssetId": 0 if buy else tok, "takerAssetId": tok if buy else 0,
                "makerAmountFilled": r.randint(1, 10**10), "takerAmountFilled": r.randint(1, 10**10),
                "fee": r.randint(0, 10**6)}, **kw))
        elif s == "single":
            out.append(encode_log("ctf.TransferSingle", {
                "operator": address_of("ctf_exchange"), "from": r.choice(wallets), "to": r.choice(wallets),
                "id": r.choice(tokens), "value": r.randint(1, 10**10)}, **kw))
        elif s == "batch":
            out.append(encode_log("ctf.TransferBatch", {
                "operator": address_of("ctf_exchange"), "from": "0x" + "00" * 20, "to": r.choice(wallets),
                "ids": r.sample(tokens, 2), "values": [r.randint(1, 10**10)] * 2}, **kw))
        else:
            tok = r.choice(tokens)
            out.append(encode_log("exchange.OrdersMatched", {
                "takerOrderHash": "0x" + r.randbytes(32).hex(), "takerOrderMaker": r.choice(wallets), "makerAssetId": 0,
                "takerAssetId": tok, "makerAmountFilled": r.randint(1, 10**10), "takerAmountFilled": r.randint(1, 10**10)},
                **kw))
    return out


REPEATS = 7


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 300_000
    print(f"# decode benchmark: {n} logs per shape, python {platform.python_version()}, {platform.machine()}, "
          f"single process (machine has 2 cores shared with other jobs)")
    for shape in ("fill", "single", "batch", "mix"):
        logs = make(shape, n)
        best_cpu = best_wall = 0.0
        for _ in range(REPEATS):
            t, c = time.perf_counter(), time.process_time()
            d = decode_logs(logs)
            best_wall = max(best_wall, n / (time.perf_counter() - t))
            best_cpu = max(best_cpu, n / (time.process_time() - c))
        rows = sum(len(v) for v in d.rows.values())
        print(f"{shape:7s} {best_cpu:12,.0f} logs/s per CPU-second  {best_wall:12,.0f} logs/s wall  "
              f"({rows} rows from {d.count} logs, best of {REPEATS}; load avg {os.getloadavg()[0]:.1f})")


if __name__ == "__main__":
    main()
