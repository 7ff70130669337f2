"""A fault-injecting JSON-RPC proxy on loopback, in front of a real node (anvil), for tests and benchmarks.

Why: the RPC source promises the exact log set despite 429s, 5xx, timeouts, dropped connections, truncated
bodies and "too many results"; this proxy produces each of those on a seeded schedule so the promise is tested
against a real node, not a mock. ``latency`` makes it a distant node (every answer late, concurrent requests
overlapping), for ingest's requests in flight. It listens on 127.0.0.1 only and stops with ``close()``.
"""
from __future__ import annotations

import json
import random
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Self

import requests

FAULTS = ("429", "500", "502", "503", "timeout", "drop", "truncate_http", "truncate_json", "too_many")


@dataclass
class FaultPlan:
    """Which faults, how often, and the range rule. ``rate`` is the chance a request gets a random fault."""

    rate: float = 0.3
    kinds: tuple[str, ...] = FAULTS
    seed: int = 7
    max_range: int | None = None        # eth_getLogs spanning more blocks than this gets "too many results"
    slow_range: int | None = None       # eth_getLogs spanning more blocks than this stalls (a "timeout" fault)
    timeout_seconds: float = 1.5        # how long a "timeout" fault stalls before answering
    strip_block_timestamp: bool = False  # answer getLogs without blockTimestamp, as many real nodes do
    max_faults: int | None = None       # stop injecting after this many (bounded tests)
    latency: float = 0.0                # seconds every request waits before it is answered (a distant node)
    fail_from_block: int | None = None  # eth_getLogs reaching this block or later: HTTP 500, every time


@dataclass
class ProxyStats:
    requests: int = 0
    forwarded: int = 0
    faults: Counter = field(default_factory=Counter)
    methods: Counter = field(default_factory=Counter)
    in_flight: int = 0       # requests being handled now
    max_in_flight: int = 0   # the most handled at once (ingest's concurrent getLogs show here)


class FaultProxy:
    """``FaultProxy(upstream_url, plan).url`` is an RPC endpoint that misbehaves per ``plan``."""

    def __init__(self, upstream: str, plan: FaultPlan | None = None) -> None:
        self.upstream = upstream
        self.plan = plan or FaultPlan()
        self.rng = random.Random(self.plan.seed)
        self.stats = ProxyStats()
        self._unused = list(self.plan.kinds)
        self.rng.shuffle(self._unused)
        self.lock = threading.Lock()
        self.getlogs_served = threading.Semaphore(0)  # released once per getLogs answered
        self.gate = threading.Event()  # cleared = hold every request until set again
        self.gate.set()
        self._session = requests.Session()  # to the upstream, shared by the handler threads: room for many
        self._session.mount(upstream, requests.adapters.HTTPAdapter(pool_connections=1, pool_maxsize=64))
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:  # quiet
                return None

            def do_POST(self) -> None:
                proxy._handle(self)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, name="faultproxy", daemon=True)
        self.thread.start()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self.gate.set()
        self.server.shutdown()
        self.server.server_close()
        self._session.close()

    # ------------------------------------------------------------------------------------------------------
    def _pick(self, body) -> str | None:
        with self.lock:
            self.stats.requests += 1
            calls = body if isinstance(body, list) else [body]
            for c in calls:
                self.stats.methods[c.get("method", "?")] += 1
            p = self.plan
            if p.max_range is not None:
                for c in calls:
                    if c.get("method") == "eth_getLogs":
                        f = (c.get("params") or [{}])[0]
                        span = int(f.get("toBlock", "0x0"), 16) - int(f.get("fromBlock", "0x0"), 16) + 1
                        if span > p.max_range:
                            self.stats.faults["too_many(range)"] += 1
                            return "too_many"
            if p.slow_range is not None:
                for c in calls:
                    if c.get("method") == "eth_getLogs":
                        f = (c.get("params") or [{}])[0]
                        span = int(f.get("toBlock", "0x0"), 16) - int(f.get("fromBlock", "0x0"), 16) + 1
                        if span > p.slow_range:
                            self.stats.faults["timeout(range)"] += 1
                            return "timeout"
            if p.fail_from_block is not None:
                for c in calls:
                    if c.get("method") == "eth_getLogs":
                        f = (c.get("params") or [{}])[0]
                        if int(f.get("toBlock", "0x0"), 16) >= p.fail_from_block:
                            self.stats.faults["500(block)"] += 1
                            return "500"
            if p.max_faults is not None and sum(self.stats.faults.values()) >= p.max_faults:
                return None
            if self.rng.random() < p.rate:
                # every kind once first (in a seeded order), then at random: a short run still sees them all
                kind = self._unused.pop() if self._unused else self.rng.choice(p.kinds)
                if kind == "too_many" and not any(c.get("method") == "eth_getLogs" for c in calls):
                    kind = "503"
                self.stats.faults[kind] += 1
                return kind
            return None

    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        with self.lock:
            self.stats.in_flight += 1
            self.stats.max_in_flight = max(self.stats.max_in_flight, self.stats.in_flight)
        try:
            self._answer(h)
        finally:
            with self.lock:
                self.stats.in_flight -= 1

    def _answer(self, h: BaseHTTPRequestHandler) -> None:
        self.gate.wait()
        raw = h.rfile.read(int(h.headers.get("Content-Length") or 0))
        try:
            body = json.loads(raw)
        except ValueError:
            return self._send(h, 400, b'{"error":"bad json"}')
        fault = self._pick(body)
        if self.plan.latency > 0:  # each request waits on its own handler thread: requests in flight overlap
            time.sleep(self.plan.latency)
        if fault in ("429", "500", "502", "503"):
            return self._send(h, int(fault), b"upstream says no", extra={"Retry-After": "0"} if fault == "429" else None)
        if fault == "drop":
            h.close_connection = True
            h.connection.close()
            return None
        if fault == "too_many":
            rid = body.get("id") if isinstance(body, dict) else None
            err = {"jsonrpc": "2.0", "id": rid,
                   "error": {"code": -32005, "message": "query returned more than 10000 results"}}
            return self._send(h, 200, json.dumps(err).encode())
        if fault == "timeout":
            time.sleep(self.plan.timeout_seconds)
        out = self._session.post(self.upstream, data=raw, headers={"Content-Type": "application/json"}, timeout=60)
        payload = out.content
        if self.plan.strip_block_timestamp and b"blockTimestamp" in payload:
            payload = _strip_timestamps(payload)
        with self.lock:
            self.stats.forwarded += 1
        if fault == "truncate_http":  # promise the full length, send half, hang up
            h.send_response(200)
            h.send_header("Content-Type", "application/json")
            h.send_header("Content-Length", str(len(payload)))
            h.end_headers()
            h.wfile.write(payload[: len(payload) // 2])
            h.wfile.flush()
            h.close_connection = True
            h.connection.close()
            return None
        if fault == "truncate_json":  # a well-formed HTTP response whose body is cut JSON
            payload = payload[: max(1, len(payload) // 2)]
        self._send(h, out.status_code, payload)
        if isinstance(body, dict) and body.get("method") == "eth_getLogs" and fault != "truncate_json":
            self.getlogs_served.release()
        return None

    @staticmethod
    def _send(h: BaseHTTPRequestHandler, status: int, payload: bytes, extra: dict | None = None) -> None:
        try:
            h.send_response(status)
            h.send_header("Content-Type", "application/json")
            h.send_header("Content-Length", str(len(payload)))
            for k, v in (extra or {}).items():
                h.send_header(k, v)
            h.end_headers()
            h.wfile.write(payload)
        except OSError:
            pass


def _strip_timestamps(payload: bytes) -> bytes:
    data = json.loads(payload)
    items = data if isinstance(data, list) else [data]
    for item in items:
        res = item.get("result")
        if isinstance(res, list):
            for log in res:
                if isinstance(log, dict):
                    log.pop("blockTimestamp", None)
    return json.dumps(data).encode()
