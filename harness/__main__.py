"""``python -m harness``: the library's command line, usable without pytest.

Each module that offers commands defines ``add_commands(subparsers)``; this file only gathers them, so the
modules stay independent and a missing optional one simply contributes nothing.
"""
from __future__ import annotations

import argparse
import importlib
import sys

from harness.errors import (
    EXIT_ERROR,
    HarnessError,
    OneLineParser,
    first_line,
    register_env_secrets,
    register_secret,
)
from harness.warehouse import BACKENDS, connect, resolve_settings

COMMAND_MODULES = (
    "harness.simulate", "harness.ingest", "harness.build", "harness.gates", "harness.deploy",
    "harness.report", "harness.api", "harness.pipeline", "harness.reconcile", "harness.chain_world",
)


def warehouse_args(p: argparse.ArgumentParser, *, schema: bool = True) -> None:
    """The warehouse options every command shares (``schema``: the command applies the schema)."""
    p.add_argument("--clickhouse", metavar="URL", help="chdb:///dir or http(s)://host:port (env CLICKHOUSE_URL)")
    p.add_argument("--backend", choices=BACKENDS)
    p.add_argument("--database", help="database name (env CLICKHOUSE_DATABASE, default polymarket)")
    p.add_argument("--prod", action="store_true", help="production: needs CLICKHOUSE_URL/USER/PASSWORD/DATABASE")
    if schema:
        p.add_argument("--adopt-legacy", action="store_true",
                       help="tables of the harness's names with other columns (a legacy warehouse) are copied to "
                            "<db>_archive, renamed out of the way and replaced; without it they are refused")


def client_from_args(args: argparse.Namespace, *, apply: bool = True):
    """(client, settings) for the parsed warehouse options, schema applied unless asked not to."""
    from harness.schema import apply_schema

    settings = resolve_settings(backend=args.backend, clickhouse=args.clickhouse, database=args.database,
                                prod=args.prod)
    client = connect(settings)
    if apply:
        apply_schema(client, adopt_legacy=getattr(args, "adopt_legacy", False),
                     report=lambda line: print(line, file=sys.stderr))
    return client, settings


def cmd_schema(args: argparse.Namespace) -> int:
    from harness.schema import current_version

    client, settings = client_from_args(args)
    print(f"schema version {current_version(client)} applied to {settings.describe()}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="python -m harness", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("schema", help="apply new schema files in order and record them; refuses edited files "
                                      "and legacy tables (see --adopt-legacy)")
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
    """Parse, run, and map every failure to one redacted line: a failed check exits 1, anything else 2.

    Set HARNESS_TRACEBACK=1 to see the traceback of an unexpected error (a bug) instead of its one line.
    """
    import os
    import signal

    register_env_secrets()
    for a in argv if argv is not None else sys.argv[1:]:  # endpoint URLs given as options hide their secrets too
        value = a.split("=", 1)[1] if a.startswith("--") and "=" in a else a
        if value.lower().startswith(("http://", "https://", "ws://", "wss://")):
            register_secret(value)
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0) if isinstance(exc.code, int) else EXIT_ERROR
    previous = None
    if threading_main():
        # timeout(1) and systemd stop a run with SIGTERM: raise instead, so runs are marked failed and leases freed.
        previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        return int(args.func(args) or 0)
    except HarnessError as exc:
        print(f"error: {first_line(exc, 2000)}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return EXIT_ERROR
    except Exception as exc:
        if os.environ.get("HARNESS_TRACEBACK"):
            raise
        print(f"error: {_describe(exc)}", file=sys.stderr)
        return EXIT_ERROR
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def threading_main() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()


class Terminated(HarnessError):
    """The run was stopped from outside (SIGTERM from timeout(1) or systemd)."""


def _terminate(signum, frame) -> None:
    raise Terminated(f"stopped by signal {signum} (a timeout or a service stop); the run was marked failed")


def _describe(exc: BaseException) -> str:
    """One line for an error the harness did not raise itself (ClickHouse, OS, decoding)."""
    kind = type(exc).__name__
    if type(exc).__module__.startswith("clickhouse_connect"):
        kind = "warehouse"
    elif isinstance(exc, OSError):
        kind = f"{kind} (OS)"
    return f"{kind}: {first_line(exc, 600)}"


if __name__ == "__main__":
    sys.exit(main())
