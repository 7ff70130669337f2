"""The command line (``python -m harness``): parsing, and every failure mapped to one line and one exit code.

Each module of this package defines ``add_commands(subparsers)`` over library functions; this file gathers them
and is the only place exit codes are mapped (from harness.errors.HarnessError). No library module imports it.
"""
from __future__ import annotations

import argparse
import importlib
import sys

from harness.cli.common import client_from_args, cmd_schema, log_args, warehouse_args
from harness.cli.options import OneLineParser
from harness.errors import (
    EXIT_ERROR,
    HarnessError,
    first_line,
    register_env_secrets,
    register_secret,
)

__all__ = ["build_parser", "client_from_args", "main", "warehouse_args"]

COMMAND_MODULES = (
    "harness.cli.world", "harness.cli.ingest", "harness.cli.build", "harness.cli.api", "harness.cli.reconcile",
    "harness.cli.run", "harness.cli.ops", "harness.cli.markets", "harness.cli.export", "harness.cli.checkwallet",
    "harness.cli.server",
)


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="python -m harness", description=__doc__.splitlines()[0])
    log_args(parser, top=True)
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
    seen: set[int] = set()
    for p in sub.choices.values():  # aliases share one parser
        if id(p) not in seen:
            seen.add(id(p))
            log_args(p, top=False)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Parse, run, and map every failure to one redacted line: a failed check exits 1, anything else 2.

    Set HARNESS_TRACEBACK=1 to see the traceback of an unexpected error (a bug) instead of its one line.
    """
    register_env_secrets()
    for a in argv if argv is not None else sys.argv[1:]:  # endpoint URLs given as options hide their secrets too
        value = a.split("=", 1)[1] if a.startswith("--") and "=" in a else a
        if value.lower().startswith(("http://", "https://", "ws://", "wss://")):
            register_secret(value)
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0) if isinstance(exc.code, int) else EXIT_ERROR
    from harness.ops.logs import setup_logging, teardown_logging

    try:
        handler = setup_logging(args.log_format, args.log_level or "INFO")
    except HarnessError as exc:  # a bad HARNESS_LOG_* value
        print(f"error: {first_line(exc)}", file=sys.stderr)
        return exc.exit_code
    try:
        return _run(args)
    finally:
        teardown_logging(handler)


def _run(args: argparse.Namespace) -> int:
    """The parsed command, with SIGTERM turned into an error and every failure mapped to its exit code."""
    import os
    import signal

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

