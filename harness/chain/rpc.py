"""JSON-RPC log source over web3's HTTP provider: retries, adaptive getLogs windows, cached block times.

Why this shape: public Polygon endpoints rate-limit (429), fail transiently (5xx, timeouts, cut connections,
truncated bodies) and refuse large eth_getLogs queries with provider-specific messages. Transient failures are
retried with jittered exponential backoff; "too many results" / size / range refusals become ``RangeTooLarge``
so the caller halves its block window. Nothing is silently dropped: a call that keeps failing raises an error
naming the method and its block range.
"""
from __future__ import annotations

import json
import random
import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import requests

from harness.errors import HarnessError, redact, redact_url, register_secret, require

#: Messages (lower-cased) that providers use to refuse a getLogs range as too large.
_RANGE_PATTERNS = re.compile(
    r"too many (results|logs|blocks)|more than \d+ (results|logs)|limit exceeded|exceeds? (the )?(max|limit)|response size|"
    r"block range|range (is )?too (large|wide|big)|query returned more than|result window|response is too big|"
    r"payload too large|max results|10000 results"
)
_RATE_PATTERNS = re.compile(r"rate limit|too many requests|capacity|try again|temporarily|header not found")


class RpcError(HarnessError, RuntimeError):
    """A JSON-RPC call failed for good (after retries, or with a non-retryable error)."""


class RangeTooLarge(RpcError):
    """The node refused a getLogs block range as too large: halve the window and try again."""


class _Transient(Exception):
    """Internal: worth another try."""


@dataclass
class RetryPolicy:
    """Jittered exponential backoff: attempt k sleeps uniform(0, min(cap, base * 2**k))."""

    attempts: int = 8
    base: float = 0.25
    cap: float = 8.0
    rng: random.Random = field(default_factory=random.Random)

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        d = self.rng.uniform(0, min(self.cap, self.base * (2 ** attempt)))
        return max(d, min(retry_after or 0.0, self.cap))


@dataclass
class RpcStats:
    calls: int = 0
    retries: int = 0
    range_errors: int = 0
    errors: dict[str, int] = field(default_factory=dict)

    def note(self, kind: str) -> None:
        self.errors[kind] = self.errors.get(kind, 0) + 1


def _hex(n: int) -> str:
    return hex(int(n))


def _int(v) -> int:
    return int(v, 16) if isinstance(v, str) else int(v)


class RpcClient:
    """A JSON-RPC endpoint (``--rpc-url`` / ``POLYGON_RPC_URL``) with the retry and range rules above."""

    def __init__(self, url: str, *, timeout: float = 30.0, retry: RetryPolicy | None = None,
                 sleep: Callable[[float], None] = time.sleep, timestamp_batch: int = 100,
                 deadline: float | None = None) -> None:
        """``timeout`` bounds each socket read; ``deadline`` (default 4 x timeout) bounds each request whole, so a
        node trickling its answer a byte at a time cannot hold a run forever."""
        require(timeout > 0, f"RPC timeout={timeout} must be a positive number of seconds")
        require(deadline is None or deadline > 0, f"RPC deadline={deadline} must be a positive number of seconds")
        require(timestamp_batch >= 1, f"timestamp_batch={timestamp_batch} must be at least 1")
        self.url = url
        self.deadline = 4 * timeout if deadline is None else deadline
        register_secret(url)  # a key in the path, query or user info is hidden from every message from now on
        from web3 import (
            HTTPProvider,  # imported here: web3 takes seconds to import and most commands never need it
        )

        # web3's own retry is switched off: ours classifies errors (range vs transient) and backs off with jitter.
        self.provider = HTTPProvider(url, request_kwargs={"timeout": timeout}, exception_retry_configuration=None)
        self.retry = retry or RetryPolicy()
        self.sleep = sleep
        self.timestamp_batch = timestamp_batch
        self.stats = RpcStats()
        self._times: dict[int, int] = {}

    def __repr__(self) -> str:
        return f"RpcClient({_redact(self.url)})"

    # transport -----------------------------------------------------------------------------------------------
    def _within_deadline(self, send: Callable[[], Any], what: str) -> Any:
        """``send()`` in a worker thread, given up after ``self.deadline`` seconds (the thread is abandoned)."""
        box: dict[str, Any] = {}

        def run() -> None:
            try:
                box["value"] = send()
            except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
                box["error"] = exc

        worker = threading.Thread(target=run, name=f"rpc {what[:40]}", daemon=True)
        worker.start()
        worker.join(self.deadline)
        if worker.is_alive():
            self.stats.note("deadline")
            raise _Transient(f"no complete answer within the {self.deadline:g}s deadline")
        if "error" in box:
            raise box["error"]
        return box["value"]

    def _once(self, send: Callable[[], Any], what: str) -> Any:
        """One attempt; classify every failure as transient, range, or fatal."""
        try:
            return self._within_deadline(send, what)
        except requests.HTTPError as exc:
            resp = exc.response
            status = resp.status_code if resp is not None else 0
            body = (resp.text if resp is not None else "")[:300]
            if status == 429 or status >= 500 or status == 408:
                self.stats.note(f"http {status}")
                ra = resp.headers.get("Retry-After") if resp is not None else None
                raise _Transient(f"HTTP {status}", _retry_after(ra)) from exc
            if status == 413 or _RANGE_PATTERNS.search(body.lower()):
                self.stats.range_errors += 1
                raise RangeTooLarge(f"{what}: HTTP {status}: {body}") from exc
            raise RpcError(f"{what}: HTTP {status} from {_redact(self.url)}: {redact(body)}") from None
        except (requests.Timeout, requests.ConnectionError, requests.exceptions.ChunkedEncodingError) as exc:
            self.stats.note(type(exc).__name__)
            raise _Transient(type(exc).__name__) from exc
        except (ValueError, UnicodeDecodeError) as exc:  # truncated or garbled body (JSON decode errors)
            self.stats.note("bad body")
            raise _Transient(f"unreadable response ({type(exc).__name__})") from exc

    def _with_retries(self, send: Callable[[], Any], what: str) -> Any:
        last = None
        for attempt in range(self.retry.attempts):
            self.stats.calls += 1
            try:
                return self._once(send, what)
            except _Transient as exc:
                last = exc
                if attempt + 1 < self.retry.attempts:
                    self.stats.retries += 1
                    ra = exc.args[1] if len(exc.args) > 1 else None
                    self.sleep(self.retry.delay(attempt, ra))
        raise RpcError(f"{what}: gave up after {self.retry.attempts} attempts against {_redact(self.url)} "
                       f"(last: {last.args[0] if last else '?'})")

    def _check(self, resp: Any, what: str) -> Any:
        if not isinstance(resp, dict) or ("result" not in resp and "error" not in resp):
            raise _Transient(f"malformed JSON-RPC response {str(resp)[:100]}")
        err = resp.get("error")
        if err is None:
            return resp["result"]
        msg = str(err.get("message", err)) if isinstance(err, dict) else str(err)
        code = err.get("code") if isinstance(err, dict) else None
        low = msg.lower()
        if code in (429, -32029, -32090) or _RATE_PATTERNS.search(low):  # before range: "rate limit exceeded"
            self.stats.note("rpc busy")
            raise _Transient(msg)
        if code == -32005 or _RANGE_PATTERNS.search(low):
            self.stats.range_errors += 1
            raise RangeTooLarge(f"{what}: {msg}")
        raise RpcError(f"{what}: JSON-RPC error {code}: {msg}")

    def call(self, method: str, params: list | None = None) -> Any:
        what = f"{method}{_short(params)}"

        def send():
            return self._check(self.provider.make_request(method, params or []), what)

        return self._with_retries(send, what)

    def batch(self, calls: list[tuple[str, list]]) -> list[Any]:
        """Several calls in one HTTP request; all results in order, or one clear error."""
        if not calls:
            return []
        what = f"batch of {len(calls)} {calls[0][0]}"

        def send():
            resp = self.provider.make_batch_request(list(calls))
            if isinstance(resp, dict):  # the node refused the batch as a whole, or answered only one call
                self._check(resp, what)
                raise _Transient(f"batch of {len(calls)} answered with a single object")
            if not isinstance(resp, list) or len(resp) != len(calls):
                raise _Transient(f"batch answered {len(resp)} of {len(calls)}")
            return [self._check(r, f"{m}{_short(p)}") for r, (m, p) in zip(resp, calls)]

        return self._with_retries(send, what)

    # chain queries -------------------------------------------------------------------------------------------
    def chain_id(self) -> int:
        return _int(self.call("eth_chainId"))

    def block_number(self) -> int:
        return _int(self.call("eth_blockNumber"))

    def get_logs(self, from_block: int, to_block: int, addresses: list[str] | None = None,
                 topic0s: list[str] | None = None) -> list[dict]:
        """eth_getLogs over [from_block, to_block]; raises RangeTooLarge when the node refuses the range."""
        flt: dict[str, Any] = {"fromBlock": _hex(from_block), "toBlock": _hex(to_block)}
        if addresses:
            flt["address"] = addresses
        if topic0s:
            flt["topics"] = [list(topic0s)]
        logs = self.call("eth_getLogs", [flt])
        if not isinstance(logs, list):
            raise RpcError(f"eth_getLogs {from_block}..{to_block}: expected a list, got {type(logs).__name__}")
        for i, log in enumerate(logs):
            if not isinstance(log, dict):
                raise RpcError(f"eth_getLogs {from_block}..{to_block}: log {i} is a {type(log).__name__}, "
                               "not an object")
            try:
                b = _int(log.get("blockNumber"))
            except (TypeError, ValueError):
                raise RpcError(f"eth_getLogs {from_block}..{to_block}: log {i} has blockNumber "
                               f"{str(log.get('blockNumber'))[:40]!r}, not a number") from None
            if not from_block <= b <= to_block:
                raise RpcError(f"eth_getLogs {from_block}..{to_block} returned a log of block {b}")
        return logs

    def block_times(self, numbers: Iterable[int]) -> dict[int, int]:
        """Unix timestamps of these blocks, fetched in batches and cached for the client's life."""
        want = sorted({int(n) for n in numbers} - self._times.keys())
        for i in range(0, len(want), self.timestamp_batch):
            chunk = want[i:i + self.timestamp_batch]
            blocks = self.batch([("eth_getBlockByNumber", [_hex(n), False]) for n in chunk])
            for n, blk in zip(chunk, blocks):
                self._times[n] = _block_field(n, blk, "timestamp")
        return {int(n): self._times[int(n)] for n in numbers}

    def block_time(self, number: int) -> int:
        return self.block_times([number])[number]

    def block_hashes(self, numbers: Iterable[int]) -> dict[int, str]:
        """Canonical hash of each block now (uncached: reorgs change it)."""
        nums = sorted(set(numbers))
        out = {}
        for i in range(0, len(nums), self.timestamp_batch):
            chunk = nums[i:i + self.timestamp_batch]
            for n, blk in zip(chunk, self.batch([("eth_getBlockByNumber", [_hex(n), False]) for n in chunk])):
                if blk is None:
                    out[n] = None
                    continue
                _block_field(n, blk, "timestamp")
                out[n] = blk.get("hash")
        return out

    def first_block_at_or_after(self, ts: int, lo: int = 0, hi: int | None = None) -> int:
        """Smallest block with timestamp >= ts (binary search; hi + 1 when none is)."""
        hi = self.block_number() if hi is None else hi
        a, b = lo, hi + 1
        while a < b:
            mid = (a + b) // 2
            if self.block_time(mid) >= ts:
                b = mid
            else:
                a = mid + 1
        return a

    def last_block_at_or_before(self, ts: int, lo: int = 0, hi: int | None = None) -> int:
        """Largest block with timestamp <= ts (lo - 1 when none is)."""
        hi = self.block_number() if hi is None else hi
        return self.first_block_at_or_after(ts + 1, lo, hi) - 1


def iter_windows(client: RpcClient, from_block: int, to_block: int, *, addresses: list[str] | None,
                 topic0s: list[str] | None, window: int = 2000, max_window: int = 100_000,
                 grow_below: int = 2000) -> Iterator[tuple[int, int, list[dict]]]:
    """(from, to, logs) for consecutive windows covering [from_block, to_block] exactly once, in order.

    The window halves when the node says the range is too large and doubles after a window that returned fewer
    than ``grow_below`` logs; a single block that is still too large is an error (nothing is skipped).
    """
    require(isinstance(window, int) and window >= 1, f"window={window} must be at least 1 block")
    require(isinstance(max_window, int) and max_window >= 1, f"max_window={max_window} must be at least 1 block")
    cur, size = from_block, min(window, max_window)
    while cur <= to_block:
        end = min(to_block, cur + size - 1)
        try:
            logs = client.get_logs(cur, end, addresses, topic0s)
        except RangeTooLarge as exc:
            if end == cur:
                raise RpcError(f"block {cur} alone is refused as too large by the node: {exc}") from exc
            size = max(1, (end - cur + 1) // 2)
            continue
        yield cur, end, logs
        cur = end + 1
        if len(logs) < grow_below:
            size = min(max_window, size * 2)


def _block_field(n: int, blk: Any, name: str) -> int:
    """A block header's integer field, after checking it is the block that was asked for."""
    if blk is None:
        raise RpcError(f"eth_getBlockByNumber {n}: block not found (beyond the head?)")
    try:
        got = _int(blk["number"]) if isinstance(blk, dict) and "number" in blk else None
        value = _int(blk[name])
    except (TypeError, ValueError, KeyError):
        raise RpcError(f"eth_getBlockByNumber {n}: malformed block header {str(blk)[:120]}") from None
    if got is not None and got != n:
        raise RpcError(f"eth_getBlockByNumber: asked for block {n}, the node answered block {got}")
    return value


def _retry_after(v: str | None) -> float | None:
    try:
        return float(v) if v else None
    except ValueError:
        return None


def _short(params) -> str:
    s = json.dumps(params, separators=(",", ":")) if params else ""
    return f"({s[:160]})" if s else ""


def _redact(url: str) -> str:
    """The endpoint as it may be printed: keys in the path, query or user info masked (harness.errors)."""
    return redact_url(url)
