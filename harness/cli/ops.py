"""`freshness` and `notify`: the day-to-day checks an operator or a timer runs."""
from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime

from harness.cli.common import client_from_args, warehouse_args
from harness.cli.run import notify_format_arg
from harness.errors import UsageError, require
from harness.gates.freshness import _age_option, _iso, check, log, parse_instant
from harness.ops.notify import ENV, message, notify_url, post
from harness.ops.notify_format import notify_format, render


def cmd_freshness(args: argparse.Namespace) -> int:
    from harness.ops import notify

    warn, err = _age_option("--warn-after", args.warn_after), _age_option("--error-after", args.error_after)
    require(0 < warn <= err, f"--warn-after {args.warn_after} must be positive and not above --error-after "
                             f"{args.error_after}")
    url = notify.notify_url(args.notify_url)
    fmt = notify_format(args.notify_format)
    client, _ = client_from_args(args, apply=False)  # a monitor reads; it never creates tables
    now = parse_instant(args.now) if args.now else None
    f = check(client, warn_after=warn, error_after=err, sources=args.source or None, now=now)
    print(json.dumps(f.as_json(), indent=2) if args.json else str(f))
    if f.status != "ok":
        log.warning("freshness %s: %s", f.status, "; ".join(f.reasons))
        notify.post(url, render(notify.message(
            run_id=f"freshness-{_iso(f.checked_at)}", stage="freshness", outcome=f.status,
            summary="; ".join(f.reasons), watermark_block=f.watermark_block, age_seconds=f.age), fmt))
    return f.exit_code


def add_freshness(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("freshness", help="watermark age and ingest gaps: exit 0 ok, 1 warn, 2 error",
                       description="Age of the newest ingested block (from its block time) and holes in every "
                       "source's ingested range. Exit 0 ok, 1 warn (older than --warn-after), 2 error (older than "
                       "--error-after, nothing ingested, or a gap; 2 is also the exit code of a usage error).")
    warehouse_args(p)
    p.add_argument("--warn-after", default="26h", help="warn when the data is older than this (default 26h)")
    p.add_argument("--error-after", default="50h", help="error when the data is older than this (default 50h)")
    p.add_argument("--source", action="append", help="only this ingest source, e.g. rpc:137 (repeatable; "
                   "default every source with a finished run)")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    p.add_argument("--now", metavar="TIME", help="measure the age at this instant (unix seconds, YYYY-MM-DD or "
                   "YYYY-MM-DDTHH:MM:SSZ); default the wall clock, or the world's own clock (its newest block) "
                   "when every source is a world directory (file:...), like the demo")
    p.add_argument("--notify-url", help="POST a JSON alert here when not ok (env HARNESS_NOTIFY_URL)")
    notify_format_arg(p)
    p.set_defaults(func=cmd_freshness)


def cmd_notify(args) -> int:
    """Post one alert (systemd's OnFailure= template unit calls this); exit 0 delivered, 1 not delivered."""
    url = notify_url(args.notify_url)
    if url is None:
        raise UsageError(f"notify: no webhook: pass --notify-url or set {ENV}")
    fmt = notify_format(args.notify_format)
    run_id = args.run_id or f"{args.stage}-{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}"
    ok = post(url, render(message(run_id=run_id, stage=args.stage, outcome=args.outcome, summary=args.summary),
                          fmt))
    print(f"alert {'sent' if ok else 'NOT sent'}: {args.stage} {args.outcome}")
    return 0 if ok else 1


def add_notify(sub) -> None:
    p = sub.add_parser("notify", help="post one JSON alert to --notify-url / HARNESS_NOTIFY_URL (for OnFailure=)")
    p.add_argument("--stage", required=True, help="what failed: a stage, or a unit name such as "
                   "polymarket-pnl-sync.service")
    p.add_argument("--outcome", default="failed", help="failed, refused, warn or error (default failed)")
    p.add_argument("--summary", default="", help="one line saying what happened (no secrets: it is redacted)")
    p.add_argument("--run-id", help="the run it is about (default <stage>-<UTC time>)")
    p.add_argument("--notify-url", help="webhook URL (env HARNESS_NOTIFY_URL)")
    notify_format_arg(p)
    p.set_defaults(func=cmd_notify)


def add_commands(sub: argparse._SubParsersAction) -> None:
    add_freshness(sub)
    add_notify(sub)
