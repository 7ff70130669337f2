"""ABI-encode events into JSON-RPC log objects (what eth_getLogs returns), and a generic slow decoder back.

The simulator emits its logs through ``encode_log``; tests use ``decode_event`` and eth_abi as independent checks
of the fast table decoder. Hex is lower-case throughout, as Polygon nodes return it.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from harness.chain.events import BY_KEY, Event, address_of

_W = "064x"


def _word(v: int) -> str:
    if v < 0 or v >> 256:
        raise ValueError(f"{v} does not fit uint256")
    return format(v, _W)


def _static(t: str, v: Any) -> str:
    if t == "address":
        s = v[2:] if v[:2] in ("0x", "0X") else v
        if len(s) != 40:
            raise ValueError(f"address {v!r} is not 20 bytes")
        return "0" * 24 + s.lower()
    if t == "bytes32":
        s = v[2:] if v[:2] in ("0x", "0X") else v
        if len(s) != 64:
            raise ValueError(f"bytes32 {v!r} is not 32 bytes")
        return s.lower()
    if t == "uint8" and not 0 <= v < 256:
        raise ValueError(f"{v} does not fit uint8")
    return _word(v)


def _dynamic(t: str, v: Any) -> str:
    if t == "uint256[]":
        return _word(len(v)) + "".join(_word(x) for x in v)
    if t == "bytes32[]":
        return _word(len(v)) + "".join(_static("bytes32", x) for x in v)
    if t == "bytes":
        raw = v[2:] if isinstance(v, str) and v[:2] == "0x" else (v.hex() if isinstance(v, bytes) else v)
        n = len(raw) // 2
        return _word(n) + raw.lower() + "0" * ((-len(raw)) % 64)
    raise ValueError(f"unsupported ABI type {t}")


def _is_dynamic(t: str) -> bool:
    return t.endswith("[]") or t == "bytes"


_PLANS: dict[str, tuple] = {}


def _plan(event: Event) -> tuple:
    """(indexed fields, data fields, has dynamic data) per event, computed once (the simulator encodes millions)."""
    p = _PLANS.get(event.key)
    if p is None:
        p = _PLANS[event.key] = (event.indexed, event.data_fields,
                                 any(_is_dynamic(f.type) for f in event.data_fields))
    return p


def encode_data(event: Event, args: Mapping[str, Any]) -> str:
    _ix, fields, dyn = _plan(event)
    if not dyn:
        return "0x" + "".join([_static(f.type, args[f.name]) for f in fields])
    head, tail = [], []
    tail_len = 32 * len(fields)
    for f in fields:
        if _is_dynamic(f.type):
            enc = _dynamic(f.type, args[f.name])
            head.append(_word(tail_len))
            tail.append(enc)
            tail_len += len(enc) // 2
        else:
            head.append(_static(f.type, args[f.name]))
    return "0x" + "".join(head) + "".join(tail)


def encode_topics(event: Event, args: Mapping[str, Any]) -> list[str]:
    return [event.topic0] + ["0x" + _static(f.type, args[f.name]) for f in _plan(event)[0]]


def encode_log(event: Event | str, args: Mapping[str, Any], *, tx_hash: str, log_index: int, block_number: int,
               block_time: int | None = None, address: str | None = None, block_hash: str | None = None,
               tx_index: int = 0, removed: bool = False) -> dict[str, Any]:
    """One log object as eth_getLogs returns it. ``address`` defaults to the event's first emitter."""
    e = BY_KEY[event] if isinstance(event, str) else event
    log = {
        "address": (address or address_of(e.emitters[0])).lower(),
        "topics": encode_topics(e, args),
        "data": encode_data(e, args),
        "blockNumber": hex(block_number),
        "blockHash": block_hash or "0x" + format(block_number, "064x"),
        "transactionHash": tx_hash,
        "transactionIndex": hex(tx_index),
        "logIndex": hex(log_index),
        "removed": removed,
    }
    if block_time is not None:
        log["blockTimestamp"] = hex(block_time)
    return log


def decode_event(log: Mapping[str, Any], event: Event | str | None = None) -> tuple[Event, dict[str, Any]]:
    """Generic (slow) decode of one log into its event's named arguments; for tests and debugging."""
    from harness.chain.events import by_address

    if event is None:
        from harness.chain.events import any_address_events

        t0 = log["topics"][0].lower()
        e = by_address().get(log["address"].lower(), {}).get(t0) or any_address_events()[t0]
    else:
        e = BY_KEY[event] if isinstance(event, str) else event
    out: dict[str, Any] = {}
    for f, t in zip(e.indexed, log["topics"][1:]):
        out[f.name] = _read_static(f.type, t[2:])
    data = log["data"][2:]
    for i, f in enumerate(e.data_fields):
        w = data[64 * i: 64 * i + 64]
        if _is_dynamic(f.type):
            p = 2 * int(w, 16)
            n = int(data[p:p + 64], 16)
            if f.type == "bytes":
                out[f.name] = "0x" + data[p + 64:p + 64 + 2 * n]
            elif f.type == "bytes32[]":
                out[f.name] = ["0x" + data[q:q + 64] for q in range(p + 64, p + 64 + 64 * n, 64)]
            else:
                out[f.name] = [int(data[q:q + 64], 16) for q in range(p + 64, p + 64 + 64 * n, 64)]
        else:
            out[f.name] = _read_static(f.type, w)
    return e, out


def _read_static(t: str, w: str) -> Any:
    if t == "address":
        return "0x" + w[24:].lower()
    if t == "bytes32":
        return "0x" + w.lower()
    return int(w, 16)
