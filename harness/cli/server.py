"""`warehouse-server`: a local ClickHouse endpoint (HTTP + native TCP) over a data directory, until stopped."""
from __future__ import annotations

import argparse
import os
import signal
import threading
from pathlib import Path

from harness.cli.options import port_number
from harness.errors import UsageError


def port_or_zero(text: str) -> int:
    """argparse type: a TCP port, or 0 for any free one."""
    return 0 if text.strip() == "0" else port_number(text)


def cmd_warehouse_server(args: argparse.Namespace) -> int:
    from harness.warehouse.server import ServerError, start

    user, password = os.environ.get("CLICKHOUSE_USER"), os.environ.get("CLICKHOUSE_PASSWORD")
    missing = [k for k, v in (("CLICKHOUSE_USER", user), ("CLICKHOUSE_PASSWORD", password)) if not v]
    if missing:
        raise UsageError(f"warehouse-server needs {' and '.join(missing)} in the environment (the clients' user; "
                         "never on the command line); nothing was started")
    stop = threading.Event()
    previous = {s: signal.signal(s, lambda *_: stop.set()) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        server = start(args.data, user=user, password=password, http_port=args.http_port, tcp_port=args.tcp_port)
        try:
            print(f"warehouse-server ready: {server.url} (native tcp {server.tcp_port}, data {server.data}, "
                  f"user from CLICKHOUSE_USER); stop with SIGTERM or Ctrl-C", flush=True)
            print(f"CLICKHOUSE_URL={server.url}", flush=True)
            while not stop.wait(1.0):
                if not server.alive():
                    raise ServerError(f"warehouse-server on {server.data} ended by itself (exit status "
                                     f"{server.process.returncode}): {server.log_tail() or 'no output'}")
        finally:
            rc = server.stop()
        print(f"warehouse-server stopped (exit status {rc})", flush=True)
        return 0
    finally:
        for s, h in previous.items():
            signal.signal(s, h)


def add_commands(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "warehouse-server", help="serve a data directory over ClickHouse's HTTP and native protocols on loopback "
        "(chDB's clickhouse-local): a local stand-in for a ClickHouse server",
        description="Starts clickhouse-local from the chDB wheel with HTTP and TCP listeners on 127.0.0.1, prints "
        "the URL (CLICKHOUSE_URL=...) once it answers, and stops cleanly on SIGTERM or SIGINT. Clients log in as "
        "CLICKHOUSE_USER with CLICKHOUSE_PASSWORD (both from the environment). Not clickhouse-server: no "
        "replication, no system.query_log.")
    p.add_argument("--data", type=Path, required=True, metavar="DIR", help="the data directory (created if absent)")
    p.add_argument("--http-port", type=port_or_zero, default=8123, metavar="N",
                   help="HTTP port (default 8123; 0 picks a free one)")
    p.add_argument("--tcp-port", type=port_or_zero, default=9000, metavar="N",
                   help="native TCP port (default 9000; 0 picks a free one)")
    p.set_defaults(func=cmd_warehouse_server)
