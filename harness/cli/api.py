"""`api`: serve the read-only P&L API and dashboard."""
from __future__ import annotations

import argparse

from harness.api import create_app
from harness.cli.common import client_from_args, warehouse_args
from harness.cli.options import port_number, positive_int


def cmd_api(args: argparse.Namespace) -> int:
    import uvicorn

    from harness.warehouse import connect

    client, settings = client_from_args(args, apply=False)
    first = iter([client])
    app = create_app(lambda: next(first, None) or connect(settings, create_database=False),
                     "_test" if args.test_views else "", pool_size=args.pool)
    print(f"P&L API on http://{args.host}:{args.port}/ over {settings.describe()}"
          + (" (_test views)" if args.test_views else "") + f", {args.pool} warehouse client(s)")
    uvicorn.run(app, host=args.host, port=args.port, log_level="info")
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
