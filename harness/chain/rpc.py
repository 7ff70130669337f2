"""JSON-RPC log source over HTTP: several endpoints with failover, retries, adaptive getLogs windows, block times.

Why this shape: public Polygon endpoints rate-limit (429), fail transiently (5xx, timeouts, cut connections,
truncated bodies) and refuse large eth_getLogs queries with provider-specific messages. Transient failures are
retried with jittered exponential backoff; an endpoint that fails ``fail_limit`` times in a row is set aside for a
cool-down and the next one takes over. "too many results" / size / range refusals, and a getLogs window that keeps
timing out or being hung up on, become ``RangeTooLarge`` so the caller halves its block window (Cascadian's
200-block windows kept timing out at the same size until the run died). Nothing is silently dropped: a call that
keeps failing raises an error naming the method and its block range. URLs are only ever printed redacted.
"""
from __future__ import annotations

import itertools
import json
import logging
import random
import re
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import requests

try:  # several times faster than json on getLogs answers (a quarter of ingest time was parsing); optional
    import orjson

    _loads, _dumps = orjson.loads, orjson.dumps
except ImportError:  # pragma: no cover - the stdlib fallback gives the same values, only slower
    def _loads(b):
        return json.loads(b)

    def _dumps(v):
        return json.dumps(v, separators=(",", ":")).encode()

from harness.deadline import DeadlineExceeded, within
from harness.errors import HarnessError, check_http_url, redact, redact_url, register_secret, require

#: Messages (lower-cased) that providers use to refuse a getLogs range as too large.
_RANGE_PATTERNS = re.compile(
    r"too many (results|logs|blocks)|more than \d+ (results|logs)|limit exceeded|exceeds? (the )?(max|limit)|response size|"
    r"block range|range (is )?too (large|wide|big)|query returned more than|result window|response is too big|"
    r"payload too large|max results|10000 results"
)
_RATE_PATTERNS = re.compile(r"rate limit|too many requests|capacity|try again|temporarily|header not found")


class RpcError(HarnessError, RuntimeError):
    """A JSON-RPC call failed for good (after retries, or with a non-retryable error)."""


log = logging.getLogger(__name__)


class RangeTooLarge(RpcError):
    """The node refused a getLogs block range as too large: halve the window and try again."""


class WindowTimedOut(RangeTooLarge):
    """A getLogs window timed out or was hung up on ``halve_after`` times: halve it rather than retry it as is."""


class _Transient(Exception):
    """Internal: worth another try. ``hangup``: a timeout or a cut connection (a window too heavy, or a dying
    node), as opposed to a refusal or a busy answer."""

    def __init__(self, msg: str, retry_after: float | None = None, *, hangup: bool = False) -> None:
        super().__init__(msg, retry_after)
        self.hangup = hangup


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
    timeout_halvings: int = 0
    failovers: int = 0
    errors: dict[str, int] = field(default_factory=dict)

    def note(self, kind: str) -> None:
        self.errors[kind] = self.errors.get(kind, 0) + 1


def _hex(n: int) -> str:
    return hex(int(n))


def _int(v) -> int:
    return int(v, 16) if isinstance(v, str) else int(v)


def split_urls(urls: str | Sequence[str]) -> list[str]:
    """Endpoint URLs from a comma-separated string and/or a list of them (``--rpc-url`` repeated), in order,
    duplicates dropped. An empty result is an error."""
    items = [urls] if isinstance(urls, str) else list(urls)
    out: list[str] = []
    for item in items:
        for u in str(item).split(","):
            u = u.strip()
            if u and u not in out:
                out.append(u)
    require(bool(out), "no RPC endpoint URL given (--rpc-url or POLYGON_RPC_URL, comma-separated for several)")
    for u in out:  # refused at once: an ftp:// or malformed URL would otherwise be retried as "unreadable"
        check_http_url(u, "RPC endpoint (--rpc-url / POLYGON_RPC_URL)")
    return out


@dataclass
class Endpoint:
    """One URL of the client, its consecutive failures and the time its cool-down ends."""

    url: str
    session: requests.Session
    fails: int = 0
    down_until: float = 0.0


class RpcClient:
    """JSON-RPC endpoints (``--rpc-url`` / ``POLYGON_RPC_URL``, several for failover) with the rules above."""

    def __init__(self, url: str | Sequence[str], *, timeout: float = 30.0, retry: RetryPolicy | None = None,
                 sleep: Callable[[float], None] = time.sleep, timestamp_batch: int = 100,
                 deadline: float | None = None, fail_limit: int = 3, cool_down: float = 60.0,
                 halve_after: int = 2, clock: Callable[[], float] = time.monotonic) -> None:
        """``timeout`` bounds each socket read; ``deadline`` (default 4 x timeout) bounds each request whole, so a
        node trickling its answer a byte at a time cannot hold a run forever. An endpoint failing ``fail_limit``
        times in a row rests ``cool_down`` seconds while the next one serves; a getLogs window timed out or hung up
        on ``halve_after`` times is halved."""
        require(timeout > 0, f"RPC timeout={timeout} must be a positive number of seconds")
        require(deadline is None or deadline > 0, f"RPC deadline={deadline} must be a positive number of seconds")
        require(timestamp_batch >= 1, f"timestamp_batch={timestamp_batch} must be at least 1")
        require(isinstance(fail_limit, int) and fail_limit >= 1, f"fail_limit={fail_limit} must be at least 1")
        require(cool_down >= 0, f"cool_down={cool_down} must not be negative")
        require(isinstance(halve_after, int) and halve_after >= 1, f"halve_after={halve_after} must be at least 1")
        urls = split_urls(url)
        for u in urls:
            register_secret(u)  # a key in the path, query or user info is hidden from every message from now on
        self.endpoints = [Endpoint(u, requests.Session()) for u in urls]
        self._active = 0
        self.timeout = timeout
        self.deadline = 4 * timeout if deadline is None else deadline
        self.fail_limit, self.cool_down, self.halve_after, self.clock = fail_limit, cool_down, halve_after, clock
        self.retry = retry or RetryPolicy()
        self.sleep = sleep
        self.timestamp_batch = timestamp_batch
        self.stats = RpcStats()
        self._times: dict[int, int] = {}
        self._ids = itertools.count(1)

    def pool(self, connections: int) -> None:
        """Keep at least ``connections`` open connections per endpoint (requests in flight from several threads;
        requests' default pool keeps 10 and drops the rest after each answer)."""
        for ep in self.endpoints:
            adapter = ep.session.get_adapter(ep.url)
            if getattr(adapter, "_pool_maxsize", 10) < connections:
                ep.session.mount(ep.url, requests.adapters.HTTPAdapter(pool_connections=1, pool_maxsize=connections))

    @property
    def url(self) -> str:
        """The endpoint in use now (the first one until a failover)."""
        return self.endpoints[self._active].url

    def __repr__(self) -> str:
        return f"RpcClient({', '.join(_redact(e.url) for e in self.endpoints)})"

    # endpoints -----------------------------------------------------------------------------------------------
    def _endpoint(self) -> Endpoint:
        """The active endpoint unless it is cooling down; then the next one that is not (else the one whose
        cool-down ends first)."""
        now = self.clock()
        eps = self.endpoints
        if eps[self._active].down_until <= now:
            return eps[self._active]
        order = [(self._active + k) % len(eps) for k in range(1, len(eps))]
        ready = [i for i in order if eps[i].down_until <= now]
        nxt = ready[0] if ready else min(range(len(eps)), key=lambda i: eps[i].down_until)
        if nxt != self._active:
            self.stats.failovers += 1
            log.warning("rpc failover: %s -> %s", _redact(eps[self._active].url), _redact(eps[nxt].url))
            self._active = nxt
        return eps[nxt]

    def _failed(self, ep: Endpoint, why: str) -> None:
        ep.fails += 1
        if ep.fails >= self.fail_limit and len(self.endpoints) > 1:
            ep.down_until = self.clock() + self.cool_down
            ep.fails = 0
            log.warning("rpc endpoint %s failed %d times in a row (last: %s): resting %gs",
                        _redact(ep.url), self.fail_limit, why, self.cool_down)

    def _post(self, ep: Endpoint, payload: Any) -> Any:
        """One HTTP round trip; HTTP errors raise requests.HTTPError, unreadable bodies ValueError."""
        resp = ep.session.post(ep.url, data=_dumps(payload), headers={"Content-Type": "application/json"},
                               timeout=self.timeout)
        resp.raise_for_status()
        return _loads(resp.content)

    # transport -----------------------------------------------------------------------------------------------
    def _within_deadline(self, send: Callable[[], Any], what: str) -> Any:
        """``send()`` given up after ``self.deadline`` seconds (harness.deadline: the one total-deadline rule)."""
        try:
            return within(self.deadline, send, f"rpc {what}")
        except DeadlineExceeded:
            self.stats.note("deadline")
            raise _Transient(f"no complete answer within the {self.deadline:g}s deadline", hangup=True) from None

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
            refused = "refused" in str(exc).lower() or "NewConnectionError" in str(exc)
            raise _Transient(type(exc).__name__, hangup=not refused) from exc
        except (ValueError, UnicodeDecodeError) as exc:  # truncated or garbled body (JSON decode errors)
            self.stats.note("bad body")
            raise _Transient(f"unreadable response ({type(exc).__name__})") from exc

    def _with_retries(self, send: Callable[[Endpoint], Any], what: str, *, halve_after: int | None = None) -> Any:
        """``send(endpoint)`` until it answers: transient failures back off and retry (on the next endpoint once
        this one has failed ``fail_limit`` times in a row); ``halve_after`` hang-ups raise WindowTimedOut."""
        last, hangups, tried = None, 0, []
        for attempt in range(self.retry.attempts):
            self.stats.calls += 1
            ep = self._endpoint()
            if ep.url not in tried:
                tried.append(ep.url)
            try:
                out = self._once(lambda ep=ep: send(ep), what)
            except _Transient as exc:
                last = exc
                self._failed(ep, exc.args[0])
                hangups += exc.hangup
                if halve_after is not None and hangups >= halve_after:
                    self.stats.timeout_halvings += 1
                    raise WindowTimedOut(f"{what}: timed out or hung up on {hangups} times") from None
                if attempt + 1 < self.retry.attempts:
                    self.stats.retries += 1
                    log.info("rpc retry %s attempt=%d/%d reason=%s endpoint=%s", what[:80], attempt + 1,
                             self.retry.attempts, exc.args[0], _redact(ep.url))
                    if self._endpoint() is ep:  # a fresh endpoint is tried at once
                        self.sleep(self.retry.delay(attempt, exc.args[1]))
                continue
            ep.fails = 0
            return out
        where = ", ".join(_redact(u) for u in tried)
        raise RpcError(f"{what}: gave up after {self.retry.attempts} attempts against {where} "
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
        """One call, retried; an eth_getLogs over more than one block that keeps timing out raises
        WindowTimedOut after ``halve_after`` hang-ups (the caller halves it)."""
        what = f"{method}{_short(params)}"
        halve_after = self.halve_after if method == "eth_getLogs" and _span(params) > 1 else None

        def send(ep: Endpoint):
            body = {"jsonrpc": "2.0", "id": next(self._ids), "method": method, "params": params or []}
            return self._check(self._post(ep, body), what)

        return self._with_retries(send, what, halve_after=halve_after)

    def batch(self, calls: list[tuple[str, list]]) -> list[Any]:
        """Several calls in one HTTP request; all results in order, or one clear error."""
        if not calls:
            return []
        what = f"batch of {len(calls)} {calls[0][0]}"

        def send(ep: Endpoint):
            first = next(self._ids)
            resp = self._post(ep, [{"jsonrpc": "2.0", "id": first + i, "method": m, "params": p}
                                   for i, (m, p) in enumerate(calls)])
            if isinstance(resp, list):
                resp = sorted(resp, key=lambda r: r.get("id", 0) if isinstance(r, dict) else 0)
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
                 topic0s: list[str] | None = None, topics: list | None = None) -> list[dict]:
        """eth_getLogs over [from_block, to_block]; raises RangeTooLarge when the node refuses the range (or
        WindowTimedOut when it keeps timing out on it). No ``topic0s``: every event of the addresses. ``topics``:
        a whole topic filter instead (position i: None for any, or a list of alternatives), e.g. a wallet in the
        indexed ``from`` of a transfer (check-wallet); it overrides ``topic0s``."""
        flt: dict[str, Any] = {"fromBlock": _hex(from_block), "toBlock": _hex(to_block)}
        if addresses:
            flt["address"] = addresses
        if topics:
            flt["topics"] = [None if t is None else list(t) for t in topics]
        elif topic0s:
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


#: Refusals of a one-block window before the run stops (it cannot be halved further).
SINGLE_BLOCK_TRIES = 4


def iter_windows(client: RpcClient, from_block: int, to_block: int, *, addresses: list[str] | None,
                 topic0s: list[str] | None = None, topics: list | None = None, window: int = 2000,
                 max_window: int = 100_000,
                 grow_below: int = 2000, grow_after: int = 4) -> Iterator[tuple[int, int, list[dict]]]:
    """(from, to, logs) for consecutive windows covering [from_block, to_block] exactly once, in order.

    The window halves when the node says the range is too large or keeps timing out on it, and grows back
    (doubles, up to ``max_window``) after a window that returned fewer than ``grow_below`` logs, but only once
    ``grow_after`` windows in a row have succeeded since the last halving. A single block that is still refused
    is asked again up to SINGLE_BLOCK_TRIES times, then an error (nothing is skipped). ``topics``: a whole topic
    filter (RpcClient.get_logs).
    """
    require(isinstance(window, int) and window >= 1, f"window={window} must be at least 1 block")
    require(isinstance(max_window, int) and max_window >= 1, f"max_window={max_window} must be at least 1 block")
    cur, size = from_block, min(window, max_window)
    streak = grow_after  # successes since the last halving
    refusals = 0  # of the current single-block window
    while cur <= to_block:
        end = min(to_block, cur + size - 1)
        try:
            logs = (client.get_logs(cur, end, addresses, topic0s, topics) if topics
                    else client.get_logs(cur, end, addresses, topic0s))
        except RangeTooLarge as exc:
            if end == cur:
                refusals += 1  # asked again a few times: a node under load can refuse even one block
                if refusals >= SINGLE_BLOCK_TRIES:
                    raise RpcError(f"block {cur} alone is refused as too large by the node "
                                   f"({refusals} times): {exc}") from exc
                client.sleep(client.retry.delay(refusals))
                continue
            size, streak = max(1, (end - cur + 1) // 2), 0
            log.info("eth_getLogs %d..%d: %s; window halved to %d blocks", cur, end,
                     "timed out" if isinstance(exc, WindowTimedOut) else "refused as too large", size)
            continue
        yield cur, end, logs
        cur, refusals = end + 1, 0
        streak += 1
        if len(logs) < grow_below and streak >= grow_after and size < max_window:
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


def _span(params) -> int:
    """Blocks an eth_getLogs filter spans (0 when it does not say)."""
    try:
        f = params[0]
        return _int(f["toBlock"]) - _int(f["fromBlock"]) + 1
    except (TypeError, ValueError, KeyError, IndexError):
        return 0


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
