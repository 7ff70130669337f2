"""`api`: serve the read-only P&L API and dashboard."""
from __future__ import annotations

import argparse
import logging
import signal

from harness.cli.common import client_from_args, warehouse_args
from harness.cli.options import port_number, positive_int
from harness.serve.app import create_app

log = logging.getLogger("harness.serve.app")


def cmd_api(args: argparse.Namespace) -> int:
    import uvicorn

    from harness.cli import threading_main
    from harness.warehouse import connect

    client, settings = client_from_args(args, apply=False)
    first = iter([client])
    app = create_app(lambda: next(first, None) or connect(settings, create_database=False),
                     "_test" if args.test_views else "", pool_size=args.pool)
    print(f"P&L API on http://{args.host}:{args.port}/ over {settings.describe()}"
          + (" (_test views)" if args.test_views else "") + f", {args.pool} warehouse client(s)", flush=True)
    # log_config=None: uvicorn's loggers keep the harness's handler (harness.ops.logs), so --log-format json covers
    # them. A stop by SIGTERM (systemd, timeout) or Ctrl-C is uvicorn's graceful shutdown, which re-raises the
    # signal afterwards: here that is a clean exit, not the run-failed error other commands report.
    stopped: list[int] = []
    previous = {sig: signal.signal(sig, lambda signum, _frame: stopped.append(signum))
                for sig in (signal.SIGTERM, signal.SIGINT)} if threading_main() else {}
    try:
        uvicorn.run(app, host=args.host, port=args.port, log_config=None, log_level=None)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if stopped:
        log.info("API stopped by %s: clean shutdown", signal.Signals(stopped[0]).name)
    return 0


def add_commands(subparsers) -> None:
    p = subparsers.add_parser("api", help="serve the read-only P&L API and dashboard")
    warehouse_args(p, schema=False)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=port_number, default=8000)
    p.add_argument("--test-views", action="store_true", help="read the _test views (dry run) instead of the final ones")
    p.add_argument("--pool", type=positive_int, default=1, metavar="N",
                   help="warehouse clients serving requests side by side (default 1; see bench/results/api.md)")
    p.set_defaults(func=cmd_api)
