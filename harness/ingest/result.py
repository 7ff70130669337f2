"""What an ingest run returns (IngestStats), its error class, and the version stamp of every inserted row."""
from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field

from harness.errors import HarnessError


class IngestError(HarnessError, RuntimeError):
    """Bad input or a failed run, with the file / block range / log it concerns."""


_last_version = 0


def new_version() -> int:
    """A strictly increasing ingest version (microseconds since epoch): a later ingest replaces an earlier one."""
    global _last_version
    _last_version = max(time.time_ns() // 1000, _last_version + 1)
    return _last_version


@dataclass
class IngestStats:
    """Counters of one run (logs, rows per table, unknown (address, topic0) pairs, retries...), printed at the end."""

    source: str
    logs: int = 0
    rows: Counter = field(default_factory=Counter)
    unknown: Counter = field(default_factory=Counter)
    retracted: int = 0
    from_block: int | None = None
    to_block: int | None = None
    ranges: int = 0
    seconds: float = 0.0
    retries: int = 0
    range_errors: int = 0
    timeout_halvings: int = 0
    failovers: int = 0
    prices: int = 0
    notes: list[str] = field(default_factory=list)  # decisions the operator should see (e.g. a hole filled)
    preparations: int = 0  # logs from the preparations scan (RPC) before the range
    tokens: int = 0  # token_map rows from a markets or token map file
    markets: int = 0  # market_metadata rows (names) from a markets file
    run_id: str = ""

    def add(self, other: IngestStats) -> None:
        self.logs += other.logs
        self.rows.update(other.rows)
        self.unknown.update(other.unknown)
        self.retracted += other.retracted

    def span(self, lo: int, hi: int) -> None:
        """Widen the ingested hull to include [lo, hi]."""
        self.from_block = lo if self.from_block is None else min(self.from_block, lo)
        self.to_block = hi if self.to_block is None else max(self.to_block, hi)

    @property
    def logs_per_second(self) -> float:
        return self.logs / self.seconds if self.seconds > 0 else 0.0

    def unknown_events(self, limit: int = 20) -> list[dict]:
        """The most frequent unknown (address, topic0) pairs, for gate details and run records."""
        from harness.chain.events import event_name

        return [{"address": a, "topic0": t, "event": event_name(t), "logs": n}
                for (a, t), n in self.unknown.most_common(limit)]

    def __str__(self) -> str:
        span = "nothing to fetch" if self.from_block is None else f"blocks {self.from_block}..{self.to_block}"
        from harness.chain.events import NOT_DECODED, event_name

        named = Counter()  # the known contracts' events no table reads, by name
        for (_a, t), n in self.unknown.items():
            if (t or "").lower() in NOT_DECODED:
                named[event_name(t)] += n
        unknown = sum(self.unknown.values()) - sum(named.values())
        parts = [f"{self.source}: {span}", f"{self.logs} logs", f"{sum(self.rows.values())} rows",
                 f"{self.logs_per_second:,.0f} logs/s", f"{self.seconds:.1f}s"]
        if named:
            parts.append(f"{sum(named.values())} logs not decoded ("
                         + ", ".join(f"{k} {v}" for k, v in sorted(named.items())) + ")")
        if unknown:
            kinds = sum(1 for (_a, t) in self.unknown if (t or "").lower() not in NOT_DECODED)
            parts.append(f"{unknown} unknown logs ({kinds} kinds)")
        if self.retracted:
            parts.append(f"{self.retracted} retracted")
        if self.retries or self.range_errors or self.timeout_halvings:
            parts.append(f"{self.retries} retries, {self.range_errors + self.timeout_halvings} window halvings")
        if self.failovers:
            parts.append(f"{self.failovers} endpoint failovers")
        if self.prices:
            parts.append(f"{self.prices} prices")
        if self.preparations:
            parts.append(f"{self.preparations} earlier market preparations")
        if self.tokens:
            parts.append(f"{self.tokens} tokens mapped from file")
        if self.markets:
            parts.append(f"{self.markets} market names")
        return ", ".join(parts + self.notes)
