"""``python -m harness``: the library's command line, usable without pytest.

Each module that offers commands defines ``add_commands(subparsers)``; this file only gathers them, so the
modules stay independent and a missing optional one simply contributes nothing.
"""
from __future__ import annotations

import argparse
import importlib
import sys

from harness.warehouse import BACKENDS, WarehouseError, connect, resolve_settings

COMMAND_MODULES = (
    "harness.simulate", "harness.ingest", "harness.build", "harness.gates", "harness.deploy",
    "harness.report", "harness.api", "harness.pipeline", "harness.reconcile", "harness.chain_world",
)


def warehouse_args(p: argparse.ArgumentParser) -> None:
    """The warehouse options every command shares."""
    p.add_argument("--clickhouse", metavar="URL", help="chdb:///dir or http(s)://host:port (env CLICKHOUSE_URL)")
    p.add_argument("--backend", choices=BACKENDS)
    p.add_argument("--database", help="database name (env CLICKHOUSE_DATABASE, default polymarket)")
    p.add_argument("--prod", action="store_true", help="production: needs CLICKHOUSE_URL/USER/PASSWORD/DATABASE")


def client_from_args(args: argparse.Namespace, *, apply: bool = True):
    """(client, settings) for the parsed warehouse options, schema applied unless asked not to."""
    from harness.schema import apply_schema

    settings = resolve_settings(backend=args.backend, clickhouse=args.clickhouse, database=args.database,
                                prod=args.prod)
    client = connect(settings)
    if apply:
        apply_schema(client)
    return client, settings


def cmd_schema(args: argparse.Namespace) -> int:
    from harness.schema import current_version

    client, settings = client_from_args(args)
    print(f"schema version {current_version(client)} applied to {settings.describe()}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m harness", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("schema", help="create missing tables and record the schema version")
    warehouse_args(p)
    p.set_defaults(func=cmd_schema)
    for name in COMMAND_MODULES:
        try:
            mod = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue
            raise
        if hasattr(mod, "add_commands"):
            mod.add_commands(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except WarehouseError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
