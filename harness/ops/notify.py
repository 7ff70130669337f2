"""Alerts: one JSON message POSTed to a webhook for every failed or refused run and for stale data.

Why: a nightly run that fails quietly is found days later. The message says what failed, where and when, and
never carries a secret (every string goes through ``harness.errors.redact``; the URL itself is never printed).
A failure to notify is logged and returned, never raised: it must not mask the run's own exit code.
"""
from __future__ import annotations

import json
import logging
import os
import socket
import urllib.error
import urllib.request
from datetime import UTC, datetime

from harness.deadline import DeadlineExceeded, within
from harness.errors import check_http_url, redact, redact_url, register_secret

log = logging.getLogger(__name__)
ENV = "HARNESS_NOTIFY_URL"
FIELDS = ("run_id", "stage", "outcome", "summary", "host", "time")


def notify_url(given: str | None, env: dict[str, str] | None = None) -> str | None:
    """The webhook: the option, else $HARNESS_NOTIFY_URL, else None (no alerts). Registered as a secret."""
    url = given or (os.environ if env is None else env).get(ENV) or None
    if url is None:
        return None
    register_secret(url)  # webhook URLs usually carry their token in the path
    check_http_url(url, f"--notify-url / {ENV}")
    return url


def message(*, run_id: str, stage: str, outcome: str, summary: str, **extra) -> dict:
    """The alert body: run id, stage, outcome, summary, host and UTC time (+ extra fields), all redacted."""
    body = {"run_id": run_id, "stage": stage, "outcome": outcome, "summary": summary,
            "host": socket.gethostname(), "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}
    body.update(extra)
    return json.loads(redact(json.dumps(body, default=str)))


def post(url: str | None, body: dict, *, timeout: float = 10.0, deadline: float | None = None) -> bool:
    """POST ``body`` as JSON to ``url``; True when the receiver answered 2xx. Never raises.

    ``timeout`` bounds each socket read, ``deadline`` (default 2 x timeout) the whole post: a receiver trickling
    its answer cannot hold the run that alerts."""
    if not url:
        return False

    def send() -> int:
        req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST", headers={
            "Content-Type": "application/json", "User-Agent": "polymarket-pnl-harness"})
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status

    try:
        status = within(2 * timeout if deadline is None else deadline, send, "alert post")
        ok = 200 <= status < 300
        if not ok:
            log.warning("alert not accepted: %s answered HTTP %s", redact_url(url), status)
        else:
            log.info("alert sent to %s: %s %s", redact_url(url), body.get("stage"), body.get("outcome"))
        return ok
    except (urllib.error.URLError, OSError, ValueError, DeadlineExceeded) as exc:
        log.warning("alert not sent to %s: %s", redact_url(url), redact(exc))
        return False
