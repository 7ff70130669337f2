"""Run records (what was asked for, how it ended), the writer lease around every ingest, unknown-event counts."""
from __future__ import annotations

import functools
import logging
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime

from clickhouse_connect.driver.client import Client

from harness.errors import redact
from harness.warehouse.lease import writer_lease
from harness.warehouse.sql import load

log = logging.getLogger(__name__)

RUN_COLUMNS = ["run_id", "source", "command", "from_block", "to_block", "status", "logs", "detail",
               "started_at", "updated_at"]


@dataclass
class Run:
    """One row of ingest_runs, rewritten as the run moves from running to done or failed."""

    client: Client
    source: str
    command: str
    from_block: int
    to_block: int
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:16])
    started: float = field(default_factory=time.time)

    def record(self, status: str, logs: int = 0, detail: str = "") -> None:
        self.client.insert(
            "ingest_runs",
            [[self.run_id, self.source, self.command, max(self.from_block, 0), max(self.to_block, 0), status, logs,
              redact(detail)[:2000], datetime.fromtimestamp(self.started, UTC), datetime.now(UTC)]],
            column_names=RUN_COLUMNS)
        log.debug("ingest run %s %s %s blocks %d..%d: %s%s", self.run_id, self.command, self.source,
                 self.from_block, self.to_block, status, f" ({redact(detail)[:300]})" if detail else "")


def mark_abandoned_runs(client: Client) -> int:
    """Mark failed every run still 'running' (call under the writer lease: none of them can be alive). Count."""
    rows = client.query(load("ingest/abandoned_runs")).result_rows
    if rows:
        client.insert("ingest_runs", [
            [r, s, c, a, b, "failed", n, "abandoned: the run died before finishing (found by a later writer)",
             started, datetime.now(UTC)] for r, s, c, a, b, n, started in rows],
            column_names=RUN_COLUMNS)
        log.warning("marked %d abandoned ingest run(s) failed", len(rows))
    return len(rows)


def record_unknown(client: Client, run: Run, unknown: Counter) -> None:
    """Store the run's unknown (address, topic0) counts (ingest_unknown_events) and say so in the log."""
    if not unknown:
        return
    client.insert("ingest_unknown_events",
                  [[run.run_id, run.source, a or "", t or "", n] for (a, t), n in sorted(unknown.items(),
                                                                                       key=lambda kv: str(kv[0]))],
                  column_names=["run_id", "source", "address", "topic0", "logs"])
    from harness.chain.events import NOT_DECODED, event_name

    known = [(a, t, n) for (a, t), n in unknown.most_common() if (t or "").lower() in NOT_DECODED]
    if known:  # expected: the known contracts' events that no table reads, by name and emitter
        log.info("%s: not decoded, no table reads them: %s", run.source, ", ".join(
            f"{event_name(t)} x{n} from {contract_name(a)}" for a, t, n in known))
    for (a, t), n in [kv for kv in unknown.most_common() if (kv[0][1] or "").lower() not in NOT_DECODED][:5]:
        log.warning("%s: %d logs of unknown event address=%s topic0=%s (not decoded)", run.source, n, a, t)


def contract_name(address: str | None) -> str:
    """``ctf_exchange (0x4bfb…)`` for an address of contracts.yaml, else the address itself."""
    from harness.config import contracts

    a = (address or "").lower()
    key = next((k for k, c in contracts().items() if c.address == a), None)
    return f"{key} ({a[:6]}…)" if key else (a or "?")


def unknown_events(client: Client, source: str) -> list[tuple[str, str, int, int]]:
    """(address, topic0, logs, runs) of every unknown event recorded for ``source``, most frequent first."""
    return [(a, t, int(n), int(r)) for a, t, n, r in
            client.query(load("ingest/unknown_events"), parameters={"source": source}).result_rows]


def writer(what: str):
    """Run the decorated ingest under the warehouse's writer lease (``lease_wait`` seconds to get it)."""
    def deco(fn):
        @functools.wraps(fn)
        def run(client: Client, *args, lease_wait: float | None = None, **kwargs):
            with writer_lease(client, what, wait=lease_wait):
                mark_abandoned_runs(client)
                return fn(client, *args, **kwargs)
        return run
    return deco
