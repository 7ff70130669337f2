"""`run` (the operator's entry point: stages in order, gate table, exit 0/1/2/3) and `pipeline`."""
from __future__ import annotations

import argparse
from pathlib import Path

from harness.config import PROJECT_ROOT
from harness.gates import STAGES
from harness.gates.run import ALL_STAGES, TARGETS, parse_stages, plan_run, run


def cmd_run(args: argparse.Namespace) -> int:
    from harness.ops.notify import notify_url
    from harness.ops.notify_format import notify_format

    extra = list(args.pytest_args or [])
    if extra and extra[0] == "--":
        extra = extra[1:]
    url = notify_url(args.notify_url)
    fmt = notify_format(args.notify_format)
    plan = plan_run(stages=parse_stages(args.stages), target=args.target, database=args.database,
                    world=args.world, rpc_url=args.rpc_url, reports=args.reports, extra=extra)
    return run(plan, notify=url, fresh=args.fresh, notify_format=fmt)


def cmd_pipeline(args: argparse.Namespace) -> int:
    """The simulated world through every stage on a fresh embedded database (``run`` with the demo's options)."""
    plan = plan_run(stages=list(STAGES), target="embedded", database=args.database, world=args.world,
                    reports=args.reports)
    return run(plan, fresh=not args.keep)


def notify_format_arg(p: argparse.ArgumentParser) -> None:
    from harness.ops.notify_format import FORMATS

    p.add_argument("--notify-format", choices=FORMATS, type=str.lower, default=None,
                   help="alert body: json (the harness's object, default), slack (an incoming webhook's {\"text\"}) "
                        "or teams (an Adaptive Card message); env HARNESS_NOTIFY_FORMAT")


def add_commands(sub: argparse._SubParsersAction) -> None:
    from harness.gates.pipeline import DEFAULT_WORLD

    p = sub.add_parser("run", help="run stages as pytest (exit 0 passed, 1 check failed, 3 gate refused, 2 usage)",
                       description="Run the stages and write reports/<run id>/ (run.json, gate reports, junit.xml). "
                       "Exit 0: every check passed; 1: a check failed; 3: a gate refused to start; 2: usage, "
                       "configuration or pytest trouble. Extra pytest arguments go after --.")
    p.add_argument("--stages", default="backfill..dryrun",
                   help=f"a range (backfill..dryrun), a list (sync,validate) or both; stages: {', '.join(ALL_STAGES)}"
                        " (default backfill..dryrun)")
    p.add_argument("--target", choices=TARGETS, default="embedded",
                   help="embedded (chDB in .warehouse/, deploy only as a throwaway stand-in) or prod (--prod: "
                        "CLICKHOUSE_URL/USER/PASSWORD/DATABASE from the environment)")
    p.add_argument("--database", help="database name (embedded default polymarket; prod: CLICKHOUSE_DATABASE)")
    p.add_argument("--world", type=Path, default=None,
                   help=f"simulated world feeding backfill/sync when there is no RPC URL (embedded only; "
                        f"default {DEFAULT_WORLD.relative_to(PROJECT_ROOT)})")
    p.add_argument("--rpc-url", help="Polygon JSON-RPC endpoint (env POLYGON_RPC_URL; never printed)")
    p.add_argument("--reports", type=Path, default=PROJECT_ROOT / "reports", help="reports root (default reports/)")
    p.add_argument("--fresh", action="store_true", help="embedded only: drop the database first")
    p.add_argument("--notify-url", help="POST a JSON alert here when the run fails or is refused "
                   "(env HARNESS_NOTIFY_URL)")
    notify_format_arg(p)
    p.add_argument("pytest_args", nargs=argparse.REMAINDER, help="-- then extra pytest arguments")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("pipeline", help="alias: run every stage on a fresh embedded database, fed by a world")
    p.add_argument("--world", type=Path, default=DEFAULT_WORLD, help="simulated world dir (default fixtures/world)")
    p.add_argument("--database", default="pipeline_demo", help="embedded database to (re)create")
    p.add_argument("--reports", type=Path, default=PROJECT_ROOT / "reports")
    p.add_argument("--keep", action="store_true", help="do not drop the database first")
    p.set_defaults(func=cmd_pipeline)
