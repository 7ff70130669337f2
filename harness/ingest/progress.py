"""Progress of a long run: a redrawn bar on a terminal, a timestamped log line every few seconds otherwise.

Why both: an operator at a terminal wants one live line; cron and systemd capture stderr to a file, where a
``\\r``-redrawn bar is one unreadable line and silence looks like a hang. Lines go through logging
(``harness.ingest.progress``), so the timestamp format (text or JSON) is the command line's choice.
"""
from __future__ import annotations

import logging
import sys
import time

log = logging.getLogger(__name__)

#: Seconds between progress log lines when stderr is not a terminal (the commands' --progress-every sets it).
LOG_EVERY = 5.0


def hms(s: float) -> str:
    s = int(s)
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}"


class Progress:
    """Blocks done/total, logs, logs/s and ETA: drawn on ``stream`` twice a second when it is a terminal (or
    ``enabled=True``), else logged every ``every`` seconds and once at ``close``. ``enabled=False``: silent."""

    def __init__(self, label: str, total_blocks: int, stream=None, enabled: bool | None = None, *,
                 every: float | None = None, clock=time.monotonic) -> None:
        self.label, self.total = label, total_blocks  # 0 = unknown: no percentage, no ETA
        self.stream = stream or sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.draw = self.tty if enabled is None else bool(enabled)  # True: draw on any stream
        self.log = enabled is None and not self.draw
        self.every, self.clock = LOG_EVERY if every is None else every, clock
        self.start = self.last = clock()
        self.blocks = self.logs = 0

    def line(self) -> str:
        """The progress text (no label): blocks, logs, rate, ETA."""
        el = self.clock() - self.start
        rate = self.logs / el if el > 0 else 0.0
        if self.total > 0:
            eta = el / self.blocks * max(self.total - self.blocks, 0) if self.blocks else 0.0
            done = f"{self.blocks:,}/{self.total:,} blocks ({100 * self.blocks / self.total:.0f}%)"
            tail = f", ETA {hms(eta)}"
        else:
            done, tail = f"{self.blocks:,} blocks", ""
        return f"{done}, {self.logs:,} logs, {rate:,.0f} logs/s, elapsed {hms(el)}{tail}"

    def update(self, blocks: int, logs: int) -> None:
        self.blocks += blocks
        self.logs += logs
        now = self.clock()
        if self.draw and now - self.last >= 0.5:
            self.last = now
            self.stream.write(f"\r{self.label}: {self.line()}   ")
            self.stream.flush()
        elif self.log and now - self.last >= self.every:
            self.last = now
            log.info("%s: progress %s", self.label, self.line())

    def close(self, finished: bool = True) -> None:
        """End the bar; log the final line when the run ``finished`` (a failed run ends in its one error line)."""
        if self.draw:
            self.stream.write("\n")
            self.stream.flush()
        elif self.log and finished:
            log.info("%s: finished %s", self.label, self.line())
