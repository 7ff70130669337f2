"""Options every command shares: the warehouse, the schema flag, logging."""
from __future__ import annotations

import argparse
import sys

from harness.cli.options import positive_float
from harness.warehouse import BACKENDS, connect, resolve_settings


def warehouse_args(p: argparse.ArgumentParser, *, schema: bool = True) -> None:
    """The warehouse options every command shares (``schema``: the command applies the schema)."""
    p.add_argument("--clickhouse", metavar="URL", help="chdb:///dir or http(s)://host:port (env CLICKHOUSE_URL, or "
                   "CLICKHOUSE_HOST with CLICKHOUSE_PORT and CLICKHOUSE_SECURE)")
    p.add_argument("--backend", choices=BACKENDS)
    p.add_argument("--database", help="database name (env CLICKHOUSE_DATABASE, default polymarket)")
    p.add_argument("--prod", action="store_true", help="production: needs CLICKHOUSE_URL/USER/PASSWORD/DATABASE")
    p.add_argument("--connect-timeout", type=positive_float, metavar="S",
                   help="seconds to connect to a server (env CLICKHOUSE_CONNECT_TIMEOUT, default 10)")
    p.add_argument("--send-receive-timeout", type=positive_float, metavar="S",
                   help="seconds to wait for a server's answer (env CLICKHOUSE_SEND_RECEIVE_TIMEOUT, default 300)")
    if schema:
        p.add_argument("--adopt-legacy", action="store_true",
                       help="tables of the harness's names with other columns (a legacy warehouse) are copied to "
                            "<db>_archive, renamed out of the way and replaced; without it they are refused")


def client_from_args(args: argparse.Namespace, *, apply: bool = True):
    """(client, settings) for the parsed warehouse options, schema applied unless asked not to. Without the
    schema (a reader: api, freshness) the database must already exist: nothing is created."""
    from harness.warehouse.schema import apply_schema

    settings = resolve_settings(backend=args.backend, clickhouse=args.clickhouse, database=args.database,
                                prod=args.prod, timeouts={"connect_timeout": args.connect_timeout,
                                                          "send_receive_timeout": args.send_receive_timeout})
    client = connect(settings, create_database=apply)
    if apply:
        apply_schema(client, adopt_legacy=getattr(args, "adopt_legacy", False),
                     report=lambda line: print(line, file=sys.stderr))
    return client, settings


def cmd_schema(args: argparse.Namespace) -> int:
    from harness.warehouse.schema import current_version

    client, settings = client_from_args(args)
    print(f"schema version {current_version(client)} applied to {settings.describe()}")
    return 0


def log_args(p: argparse.ArgumentParser, *, top: bool) -> None:
    """--log-format / --log-level / -v / -q, accepted before or after the command name.

    Defaults live on the top-level parser only (env HARNESS_LOG_FORMAT / HARNESS_LOG_LEVEL); a command's copy
    is SUPPRESSed so it never overwrites a value given before the command.
    """
    import os

    from harness.ops.logs import FORMATS, LEVELS

    d = (lambda v: v) if top else (lambda v: argparse.SUPPRESS)
    p.add_argument("--log-format", choices=FORMATS, default=d(os.environ.get("HARNESS_LOG_FORMAT", "text")),
                   help="log lines on stderr: text or json (one object per line); env HARNESS_LOG_FORMAT")
    p.add_argument("--log-level", choices=LEVELS, type=str.upper,
                   default=d(os.environ.get("HARNESS_LOG_LEVEL", "INFO").upper()),
                   help="least severe level logged (default INFO; env HARNESS_LOG_LEVEL)")
    p.add_argument("-v", "--verbose", dest="log_level", action="store_const", const="DEBUG", default=d(None),
                   help="same as --log-level DEBUG")
    p.add_argument("-q", "--quiet", dest="log_level", action="store_const", const="WARNING", default=d(None),
                   help="same as --log-level WARNING")
