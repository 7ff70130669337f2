"""A total deadline for one blocking call: every outbound HTTP request (RPC, alerts) goes through ``within``.

Why: a socket timeout bounds each read, not the request. A peer that trickles one byte every few seconds (the
headers of an alert receiver, the body of a JSON-RPC answer) never trips it and holds a run for ever. The call runs
in a daemon worker thread that is abandoned when the deadline passes; its socket dies with the process.
A leaf module (standard library only) so anything may use it.
"""
from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


class DeadlineExceeded(TimeoutError):
    """``within`` gave up: the call had not returned after its total deadline."""


def within(seconds: float, call: Callable[[], T], what: str = "call") -> T:
    """``call()``'s value or exception, or DeadlineExceeded when it has not returned within ``seconds``."""
    if not seconds > 0:
        raise ValueError(f"{what}: deadline {seconds!r} must be a positive number of seconds")
    box: dict = {}

    def run() -> None:
        try:
            box["value"] = call()
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
            box["error"] = exc

    worker = threading.Thread(target=run, name=f"deadline {what[:40]}", daemon=True)
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        raise DeadlineExceeded(f"{what}: no complete answer within the {seconds:g}s deadline")
    if "error" in box:
        raise box["error"]
    return box["value"]
