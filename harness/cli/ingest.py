"""The ingest commands (backfill, sync, ingest-files, gaps): parse options, call the library, print the result.

Kept apart from the library modules (none of them knows argparse or the environment); the command line package
will take these over. Progress and events are logged through ``logging``: when nothing configured it (H5's
``harness.ops.logs`` does for ``python -m harness``), a UTC-timestamped stderr handler is installed here, once.
"""
from __future__ import annotations

import logging
import os
import sys
import time
from pathlib import Path

from harness.chain.rpc import RetryPolicy, RpcClient, split_urls
from harness.cli.options import non_negative_int, positive_float, positive_int
from harness.errors import check_span
from harness.ingest.coverage import gaps, run_hull
from harness.ingest.file_source import BlockClock, ingest_world, read_blocks_file
from harness.ingest.result import IngestError
from harness.ingest.rpc_source import DEFAULT_CONFIRMATIONS, DEFAULT_MARGIN, backfill, sync

RPC_ENV = "POLYGON_RPC_URL"


def ensure_logging(level: int = logging.INFO) -> None:
    """Timestamped (UTC, ISO 8601) log lines on stderr, unless the process already configured logging."""
    root = logging.getLogger()
    if root.handlers:
        return
    handler = logging.StreamHandler(sys.stderr)
    fmt = logging.Formatter("%(asctime)s.%(msecs)03dZ %(levelname)s %(name)s %(message)s", "%Y-%m-%dT%H:%M:%S")
    fmt.converter = time.gmtime
    handler.setFormatter(fmt)
    root.addHandler(handler)
    logging.getLogger("harness").setLevel(level)


def rpc_urls(given: list[str] | None) -> list[str]:
    """The endpoints: every ``--rpc-url`` (each may be a comma list), else POLYGON_RPC_URL (a comma list)."""
    raw = given or ([os.environ[RPC_ENV]] if os.environ.get(RPC_ENV) else [])
    if not raw:
        raise IngestError("no RPC endpoint: pass --rpc-url or set POLYGON_RPC_URL")
    return split_urls(raw)



def _rpc(args) -> RpcClient:
    return RpcClient(rpc_urls(args.rpc_url), timeout=args.rpc_timeout, deadline=args.rpc_deadline,
                     retry=RetryPolicy(attempts=args.retries), fail_limit=args.rpc_fail_limit,
                     cool_down=args.rpc_cool_down)


def _client(args):
    """The command's warehouse client, schema applied (a no-op when it is already up to date)."""
    from harness.cli.common import client_from_args
    from harness.ingest import progress

    ensure_logging()
    if getattr(args, "progress_every", None) is not None:
        progress.LOG_EVERY = args.progress_every
    client, _ = client_from_args(args)
    return client


def _rebuild(client, cutoff: int | None, allow_unmapped: bool = False) -> str:
    try:
        from harness.pnl.build import rebuild
    except ImportError:
        return "rebuild skipped (harness.pnl.build not available)"
    rep = rebuild(client, cutoff=cutoff, allow_unmapped=allow_unmapped)
    return "\n".join([str(rep)] + rep.warnings())


def _cmd(fn):
    """Errors are reported by harness.__main__.main: one redacted line, exit 2 (1 for a failed check)."""
    return fn


@_cmd
def cmd_backfill(args) -> int:
    from harness.gates.pipeline import parse_age

    if args.since and args.from_block is not None:
        raise IngestError("--since and --from-block both choose the first block: pass one")
    since = parse_age(args.since) if args.since else None
    rpc = _rpc(args)  # every input checked before the warehouse is opened
    client = _client(args)
    stats = backfill(client, rpc, args.from_block, args.to_block, cutoff=args.cutoff,
                     no_cutoff=args.no_cutoff, since_seconds=since,
                     confirmations=args.confirmations, refetch=args.refetch,
                     window=args.window, max_window=args.max_window, batch_logs=args.batch_logs,
                     batch_blocks=args.batch_blocks, preparations=not args.no_preparations,
                     concurrency=args.rpc_concurrency)
    print(stats)
    return 0


@_cmd
def cmd_sync(args) -> int:
    from harness.gates.pipeline import parse_age

    since, rpc = parse_age(args.since), _rpc(args)  # every input checked before the warehouse is opened
    client = _client(args)
    stats = sync(client, rpc, since, margin=args.margin,
                 confirmations=args.confirmations, cutoff=args.cutoff, window=args.window,
                 max_window=args.max_window, preparations=not args.no_preparations,
                 concurrency=args.rpc_concurrency)
    print(stats)
    if not args.no_rebuild:
        print(_rebuild(client, args.cutoff, args.allow_unmapped))
    return 0


@_cmd
def cmd_files(args) -> int:
    from harness.gates.pipeline import parse_age

    if args.blocks and args.block_time_rpc:
        raise IngestError("--blocks and --block-time-rpc both give block times: pass one")
    clock = read_blocks_file(Path(args.blocks)) if args.blocks else None
    if args.block_time_rpc:
        clock = BlockClock(rpc=RpcClient(args.block_time_rpc), what="--block-time-rpc")
    client = _client(args)
    stats = ingest_world(client, Path(args.dir), since_seconds=parse_age(args.since) if args.since else None,
                         clock=clock, markets=Path(args.markets) if args.markets else None,
                         token_map=Path(args.token_map) if args.token_map else None)
    print(stats)
    if args.rebuild:
        print(_rebuild(client, None, args.allow_unmapped))
    return 0


@_cmd
def cmd_gaps(args) -> int:
    from harness.warehouse.sql import load

    client = _client(args)
    check_span(args.from_block, args.to_block, "gaps")
    known = [r[0] for r in client.query(load("checks/ingest_hulls")).result_rows]
    sources = args.source or known  # default: every source this warehouse has a finished run of
    if not sources:
        raise IngestError("gaps: no finished ingest run in this database, so no source to check (wrong --database?)")
    missing = 0
    for source in sources:
        hull = run_hull(client, source)
        lo = args.from_block if args.from_block is not None else (hull[0] if hull else None)
        hi = args.to_block if args.to_block is not None else (hull[1] if hull else None)
        if lo is None or hi is None:
            raise IngestError(f"{source}: no runs recorded (sources here: {', '.join(known) or 'none'}); pass "
                              "--from-block and --to-block")
        holes = gaps(client, source, lo, hi)
        for a, b in holes:
            print((f"{source}\t" if len(sources) > 1 else "") + f"{a}\t{b}\t{b - a + 1} blocks")
        print(f"{source} {lo}..{hi}: {len(holes)} gap(s), {sum(b - a + 1 for a, b in holes)} blocks missing",
              file=sys.stderr)
        missing += len(holes)
    return 1 if missing else 0


def _seconds(text: str) -> float:
    """A number of seconds >= 0 (argparse type)."""
    import argparse

    try:
        v = float(text)
    except ValueError:
        v = -1.0
    if not v >= 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds >= 0")
    return v


def add_commands(sub) -> None:
    """Register backfill, sync, ingest-files and gaps on an argparse subparsers object."""
    from harness.cli.common import warehouse_args

    def progress_opt(p):
        p.add_argument("--progress-every", type=_seconds, metavar="SECONDS", default=None,
                       help="seconds between progress log lines when stderr is not a terminal (default 5)")

    def rpc_opts(p):
        p.add_argument("--rpc-url", action="append", metavar="URL",
                       help="Polygon JSON-RPC endpoint; repeat it or give a comma-separated list for failover "
                            "(env POLYGON_RPC_URL, comma-separated)")
        progress_opt(p)
        p.add_argument("--rpc-fail-limit", type=positive_int, default=3,
                       help="failures in a row before an endpoint rests and the next one serves (default 3)")
        p.add_argument("--rpc-cool-down", type=positive_float, default=60.0,
                       help="seconds a failing endpoint rests (default 60)")
        p.add_argument("--confirmations", type=non_negative_int, default=DEFAULT_CONFIRMATIONS,
                       help=f"stay this many blocks behind the head (default {DEFAULT_CONFIRMATIONS})")
        p.add_argument("--window", type=positive_int, default=2000, help="initial eth_getLogs block window (adapts)")
        p.add_argument("--max-window", type=positive_int, default=100_000, help="largest eth_getLogs block window")
        p.add_argument("--rpc-concurrency", type=positive_int, default=1,
                       help="eth_getLogs requests in flight, windows applied in block order (default 1; more for a "
                       "distant node whose answers are slow, not busy; at most 64)")
        p.add_argument("--retries", type=positive_int, default=8,
                       help="attempts per RPC call before giving up (default 8)")
        p.add_argument("--rpc-timeout", type=positive_float, default=30.0,
                       help="seconds a socket read may wait (default 30)")
        p.add_argument("--rpc-deadline", type=positive_float, default=None,
                       help="seconds one RPC request may take in total (default 4 x --rpc-timeout)")
        warehouse_args(p)

    p = sub.add_parser("backfill", help="ingest a block range from a JSON-RPC node (resumable)")
    rpc_opts(p)
    p.add_argument("--from-block", type=non_negative_int)
    p.add_argument("--to-block", type=non_negative_int)
    g = p.add_mutually_exclusive_group()
    g.add_argument("--cutoff", type=non_negative_int, metavar="UNIX_TS",
                   help="stop at the last block at or before this time")
    g.add_argument("--no-cutoff", action="store_true", help="up to the head less --confirmations (the default)")
    p.add_argument("--since", help="start at the first block of this last window instead of --from-block "
                   "(e.g. 7d; measured from the head block's time)")
    p.add_argument("--refetch", action="store_true", help="fetch the whole range even where checkpointed")
    p.add_argument("--batch-logs", type=positive_int, default=20_000, help="logs per insert + checkpoint")
    p.add_argument("--batch-blocks", type=positive_int, default=None, help="also checkpoint at least every N blocks")
    p.add_argument("--no-preparations", action="store_true", help="skip the scan for market preparations before "
                   "the range (ConditionPreparation / QuestionPrepared from the contracts' first blocks)")
    p.set_defaults(func=cmd_backfill)

    p = sub.add_parser("sync", help="daily: ingest the last --since window (+ reorg margin), then rebuild")
    rpc_opts(p)
    p.add_argument("--since", default="24h", help="window to make complete, e.g. 24h, 3d (default 24h)")
    p.add_argument("--margin", type=non_negative_int, default=DEFAULT_MARGIN,
                   help="re-fetch this many last ingested blocks")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--cutoff", type=non_negative_int, metavar="UNIX_TS",
                   help="ingest and rebuild only up to this block time")
    g.add_argument("--no-cutoff", action="store_true", help="up to the head less --confirmations (the default)")
    p.add_argument("--no-rebuild", action="store_true", help="ingest only")
    p.add_argument("--no-preparations", action="store_true", help="skip the scan for earlier market preparations")
    p.add_argument("--allow-unmapped", action="store_true", help="rebuild even when tokens are missing from "
                   "token_map (still reported)")
    p.set_defaults(func=cmd_sync)

    p = sub.add_parser("ingest-files", help="ingest a simulator world directory (logs.jsonl.gz, prices.csv)")
    warehouse_args(p)
    p.add_argument("dir")
    p.add_argument("--since", help="only the world's last window, e.g. 24h")
    progress_opt(p)
    p.add_argument("--rebuild", action="store_true", help="rebuild the derived tables afterwards")
    p.add_argument("--blocks", metavar="FILE", help="block times for logs without blockTimestamp: CSV "
                   "block_number,timestamp or JSON lines of blocks with number and timestamp")
    p.add_argument("--block-time-rpc", metavar="URL", help="or ask this JSON-RPC node for those block times")
    p.add_argument("--markets", metavar="FILE", help="Gamma markets JSON / JSON lines: token_map for markets "
                   "prepared before the logs, outcomePrices as prices (default: DIR/markets.jsonl[.gz] if present)")
    p.add_argument("--token-map", metavar="FILE", help="CSV token_id,condition_id,outcome_index[,neg_risk] "
                   "(default: DIR/token_map.csv if present)")
    p.add_argument("--allow-unmapped", action="store_true", help="with --rebuild: build even when tokens are "
                   "missing from token_map (still reported)")
    p.set_defaults(func=cmd_files)

    p = sub.add_parser("gaps", help="list block ranges never ingested for a source (exit 1 when any)")
    warehouse_args(p)
    p.add_argument("--source", action="append", help="e.g. rpc:137 or file:world (repeatable; default every "
                   "source with a finished ingest run, e.g. the demo's file:world)")
    p.add_argument("--from-block", type=non_negative_int)
    p.add_argument("--to-block", type=non_negative_int)
    p.set_defaults(func=cmd_gaps)

