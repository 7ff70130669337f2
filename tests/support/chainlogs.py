"""Small, valid Polymarket-shaped log streams (RPC log objects) for ingestion tests.

Real ABI layouts from harness.chain.events: condition preparations, ERC1155 transfers, V1 OrderFilled +
OrdersMatched, several logs per transaction from two contracts, and one log of an event the decoder does not know
(it must be counted, not dropped). Seeded, so a test can regenerate the same stream.
"""
from __future__ import annotations

import random

from harness.chain.events import BY_KEY
from harness.config import contracts

T0 = {k: e.topic0 for k, e in BY_KEY.items()}
UNKNOWN_TOPIC = "0x" + "ee" * 32


def _w(v: int) -> str:
    return format(v, "064x")


def _t(v: int | str) -> str:
    if isinstance(v, str):
        return "0x" + v[2:].rjust(64, "0")
    return "0x" + _w(v)


def make_logs(*, seed: int = 1, blocks: int = 40, start_block: int = 1000, start_time: int = 1_730_000_000,
              block_seconds: int = 2, unknown: bool = True, prep_rate: float = 0.15) -> list[dict]:
    """A chain-ordered list of logs with blockTimestamp, real tx hashes and per-block log indices."""
    rng = random.Random(seed)
    c = contracts()
    ctf, ex = c["ctf"].address, c["ctf_exchange"].address
    oracle = "0x" + "15" * 20
    wallets = ["0x" + format(rng.getrandbits(160), "040x") for _ in range(8)]
    conditions: list[str] = []
    out: list[dict] = []
    for b in range(blocks):
        number, ts = start_block + b, start_time + b * block_seconds
        li = 0
        for ti in range(rng.randint(0, 3)):
            tx = "0x" + format(rng.getrandbits(256), "064x")
            logs: list[tuple[str, list[str], str]] = []
            kind = rng.random()
            if not conditions or kind < prep_rate:
                cid = "0x" + format(rng.getrandbits(256), "064x")
                conditions.append(cid)
                logs.append((ctf, [T0["ctf.ConditionPreparation"], cid, _t(oracle), _t(rng.getrandbits(256))],
                             "0x" + _w(2)))
            elif kind < prep_rate + 0.7:
                maker, taker = rng.sample(wallets, 2)
                token = rng.getrandbits(255)
                shares, usdc = rng.randint(1, 10**9), rng.randint(1, 10**9)
                buy = rng.random() < 0.5
                data = (_w(0) + _w(token) + _w(usdc) + _w(shares)) if buy else (_w(token) + _w(0) + _w(shares) + _w(usdc))
                logs.append((ctf, [T0["ctf.TransferSingle"], _t(ex), _t(maker), _t(taker)],
                             "0x" + _w(token) + _w(shares)))
                logs.append((ex, [T0["exchange.OrderFilled"], _t(rng.getrandbits(256)), _t(maker), _t(taker)],
                             "0x" + data + _w(rng.randint(0, 1000))))
                logs.append((ex, [T0["exchange.OrdersMatched"], _t(rng.getrandbits(256)), _t(taker)],
                             "0x" + data))
            else:
                frm, to = rng.sample(wallets, 2)
                logs.append((ctf, [T0["ctf.TransferSingle"], _t(frm), _t(frm), _t(to)],
                             "0x" + _w(rng.getrandbits(255)) + _w(rng.randint(1, 10**8))))
            if unknown and rng.random() < 0.1:
                logs.append((ex, [UNKNOWN_TOPIC], "0x"))
            for addr, topics, data in logs:
                out.append({"address": addr, "topics": topics, "data": data, "blockNumber": hex(number),
                            "blockHash": "0x" + _w(number), "blockTimestamp": hex(ts), "transactionHash": tx,
                            "transactionIndex": hex(ti), "logIndex": hex(li), "removed": False})
                li += 1
    return out


def content(logs) -> list[tuple]:
    """What a replay must preserve: address, topics, data, in order (tx hashes and block numbers differ)."""
    return [(log["address"].lower(), tuple(t.lower() for t in log["topics"]), log["data"].lower()) for log in logs]
