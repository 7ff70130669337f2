"""ABI calldata for the contract calls, 32-byte arguments, revert reasons, and the queued transaction every call
helper returns: what the Polymarket driver sends, kept apart from what it sends it to."""
from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from eth_abi import decode as abi_decode
from eth_abi import encode as abi_encode
from eth_hash.auto import keccak

MAX_UINT = (1 << 256) - 1
ZERO = "0x" + "00" * 20
ZERO32 = "0x" + "00" * 32


@dataclass
class Tx:
    """One queued transaction: who sends it, to which contract, and a readable name for errors."""

    frm: str
    to: str
    data: str
    what: str
    hash: str | None = None


def _split_types(inner: str) -> list[str]:
    out, depth, cur = [], 0, ""
    for ch in inner:
        if ch == "," and depth == 0:
            out.append(cur)
            cur = ""
            continue
        depth += ch == "("
        depth -= ch == ")"
        cur += ch
    if cur:
        out.append(cur)
    return out


@lru_cache(maxsize=256)
def _sig(signature: str) -> tuple[bytes, list[str]]:
    name_end = signature.index("(")
    return keccak(signature.encode())[:4], _split_types(signature[name_end + 1:-1])


def calldata(signature: str, *args: Any) -> str:
    """ABI calldata for ``signature`` (e.g. ``"transfer(address,uint256)"``) and its arguments."""
    sel, types = _sig(signature)
    if len(types) != len(args):
        raise ValueError(f"{signature}: {len(args)} arguments given, {len(types)} expected")
    return "0x" + (sel + abi_encode(types, list(args))).hex()


def b32(h: str) -> bytes:
    s = h[2:] if h[:2] in ("0x", "0X") else h
    b = bytes.fromhex(s)
    if len(b) != 32:
        raise ValueError(f"{h!r} is not 32 bytes")
    return b


def revert_reason(output: str | None) -> str:
    """Error(string) reason, a custom error selector, or the raw bytes."""
    if not output or output == "0x":
        return "no reason"
    raw = bytes.fromhex(output[2:])
    if raw[:4] == keccak(b"Error(string)")[:4]:
        with suppress(Exception):  # a malformed reason: show the bytes instead
            return abi_decode(["string"], raw[4:])[0]
    return "0x" + raw.hex()
