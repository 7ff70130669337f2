"""``python -m harness freshness``: is the warehouse's data recent and whole? Exit 0 ok, 1 warn, 2 error.

Why: the daily sync can fail or stop silently (a dead node, a lost timer); what the P&L readers care about is
the age of the newest block ingested (the watermark) and holes in what was ingested. The age is measured from
the watermark block's own time, not from when the sync ran. Exit 2 is shared with usage errors (the project's
one mapping): a monitor treats any 2 as "look now".
"""
from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime

from clickhouse_connect.driver.client import Client

from harness.errors import EXIT_CHECK_FAILED, EXIT_ERROR, EXIT_OK, UsageError, require
from harness.warehouse.sql import load

log = logging.getLogger(__name__)
STATUS_EXIT = {"ok": EXIT_OK, "warn": EXIT_CHECK_FAILED, "error": EXIT_ERROR}
#: A watermark dated more than this after the check's clock is an error: a bad node or a corrupt block_time, not
#: fresh data (block times run a few seconds ahead of a slow host clock, never minutes).
FUTURE_SLACK = 300


@dataclass(frozen=True)
class SourceGaps:
    source: str
    from_block: int
    to_block: int
    gaps: list[tuple[int, int]]

    @property
    def missing_blocks(self) -> int:
        return sum(b - a + 1 for a, b in self.gaps)


@dataclass
class Freshness:
    """What the check saw and its verdict; ``reasons`` say why it is not ok."""

    watermark_block: int
    watermark_time: int  # unix seconds; 0 when nothing was ingested
    checked_at: int
    warn_after: int
    error_after: int
    sources: list[SourceGaps] = field(default_factory=list)
    broken_backups: list[str] = field(default_factory=list)  # recorded backups a restore would not find whole
    clock: str = "wall"  # what checked_at is: "wall" (now), "given" (--now) or "world" (file sources' own clock)
    status: str = "ok"
    reasons: list[str] = field(default_factory=list)

    @property
    def age(self) -> int | None:
        return self.checked_at - self.watermark_time if self.watermark_time else None

    @property
    def exit_code(self) -> int:
        return STATUS_EXIT[self.status]

    def as_json(self) -> dict:
        d = asdict(self)
        d["sources"] = [{**asdict(s), "gaps": [list(g) for g in s.gaps], "missing_blocks": s.missing_blocks}
                        for s in self.sources]
        d["age_seconds"] = self.age
        d["watermark_time_iso"] = _iso(self.watermark_time) if self.watermark_time else None
        d["checked_at_iso"] = _iso(self.checked_at)
        return d

    def __str__(self) -> str:
        if self.watermark_time:
            head = (f"watermark block {self.watermark_block} at {_iso(self.watermark_time)}, age {_span(self.age)} "
                    f"(warn after {_span(self.warn_after)}, error after {_span(self.error_after)})")
            if self.clock != "wall":
                head += f"; measured at {_iso(self.checked_at)}, " + (
                    "the world's own clock (file sources only: a replayed world has no live chain to fall behind)"
                    if self.clock == "world" else "given by --now")
        else:
            head = "watermark: nothing ingested"
        lines = [f"{self.status}: {head}"]
        for s in self.sources:
            lines.append(f"  {s.source} blocks {s.from_block}..{s.to_block}: {len(s.gaps)} gap(s), "
                         f"{s.missing_blocks} blocks missing" + "".join(f"\n    {a}..{b}" for a, b in s.gaps[:10]))
        lines += [f"  {r}" for r in self.reasons]
        return "\n".join(lines)


def _iso(t: int) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _span(seconds: int | None) -> str:
    if seconds is None:
        return "?"
    sign, s = ("-" if seconds < 0 else ""), abs(int(seconds))
    d, h, m = s // 86400, s // 3600 % 24, s // 60 % 60
    return sign + (f"{d}d {h}h {m}m" if d else f"{h}h {m}m" if h else f"{m}m {s % 60}s")


def check(client: Client, *, warn_after: int, error_after: int, now: int | None = None,
          sources: list[str] | None = None) -> Freshness:
    """Watermark age against the two thresholds, and gaps inside every source's ingested hull (or ``sources``).

    error: no data, a watermark dated in the future, age over ``error_after``, any gap, or a recorded backup
    that is gone or changed; warn: age over ``warn_after``.
    """
    from harness.gates import watermark
    from harness.ingest import gaps
    from harness.warehouse.backup import missing_backups

    require(0 < warn_after <= error_after,
            f"--warn-after ({warn_after}s) must be positive and not above --error-after ({error_after}s)")
    need = ["ingest_runs", "ingest_checkpoints", "trades_raw"]
    have = {r[0] for r in client.query(load("checks/tables_present"), parameters={"names": need}).result_rows}
    if set(need) - have:
        raise UsageError(f"freshness: no harness tables ({', '.join(sorted(set(need) - have))}) in this database: "
                         "wrong --database, or nothing was ever ingested here")
    wm = watermark(client)
    hulls = client.query(load("checks/ingest_hulls")).result_rows
    clock = "given" if now is not None else "world" if world_clock(hulls, wm.time) else "wall"
    checked = int(now) if now is not None else wm.time if clock == "world" else int(time.time())
    f = Freshness(wm.block, wm.time, checked, warn_after, error_after, clock=clock)
    for source, lo, hi, _runs in hulls:
        if sources and source not in sources:
            continue
        f.sources.append(SourceGaps(source, int(lo), int(hi), gaps(client, source, int(lo), int(hi))))
    for s in sources or []:
        if s not in {x.source for x in f.sources}:
            f.reasons.append(f"source {s}: no finished ingest run")
    if not wm.time:
        f.reasons.append("nothing ingested: no watermark")
    elif f.age < -FUTURE_SLACK:
        f.reasons.append(f"watermark block {wm.block} is dated {_iso(wm.time)}, {_span(-f.age)} in the future "
                         f"(checked at {_iso(f.checked_at)}): a bad node or a corrupt block_time, not fresh data")
    elif f.age > error_after:
        f.reasons.append(f"data is {_span(f.age)} old, over --error-after {_span(error_after)}")
    elif f.age > warn_after:
        f.reasons.append(f"data is {_span(f.age)} old, over --warn-after {_span(warn_after)}")
    holey = [s for s in f.sources if s.gaps]
    for s in holey:
        f.reasons.append(f"{s.source}: {len(s.gaps)} gap(s), {s.missing_blocks} blocks never ingested "
                         f"(first {s.gaps[0][0]}..{s.gaps[0][1]})")
    # A backup the RUNBOOK's restore would not find is found within the hour, not on the day it is needed.
    f.broken_backups = [str(b) for b in missing_backups(client)]
    f.reasons += f.broken_backups
    unseen = bool(sources) and len(f.sources) < len(set(sources))
    f.status = verdict(f.age, warn_after, error_after, gaps=bool(holey) or unseen or bool(f.broken_backups))
    return f


def world_clock(hulls: list, watermark_time: int) -> bool:
    """Whether the data has only the world's own clock: every source with a finished run is a world directory
    (``file:...``, like the main job's demo). A replayed world ends when it ends, so its age is measured at its
    newest block; its gaps are still checked. Any RPC source means a live chain: the wall clock."""
    return bool(hulls) and bool(watermark_time) and all(str(h[0]).startswith("file:") for h in hulls)


def parse_instant(text: str) -> int:
    """``--now``: unix seconds, ``YYYY-MM-DD`` (end of that day, UTC) or ``YYYY-MM-DDTHH:MM:SSZ``."""
    from harness.gates.wallets import parse_as_of

    try:
        return parse_as_of(text)
    except ValueError as exc:
        raise UsageError(f"--now: {exc}") from None


def verdict(age: int | None, warn_after: int, error_after: int, *, gaps: bool = False) -> str:
    """ok / warn / error for a watermark ``age`` in seconds (None: nothing ingested; below -FUTURE_SLACK: dated
    in the future) and whether holes exist."""
    if age is None or gaps or age > error_after or age < -FUTURE_SLACK:
        return "error"
    return "warn" if age > warn_after else "ok"


def _age_option(name: str, text: str) -> int:
    from harness.gates.pipeline import parse_age

    try:
        return parse_age(text)
    except UsageError:
        raise UsageError(f"{name} {text!r}: expected a number with unit s, m, h, d or w (e.g. 26h)") from None
