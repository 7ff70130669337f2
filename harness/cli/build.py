"""`build` (derived tables, preview views) and `pnl` (one wallet's P&L from the views)."""
from __future__ import annotations

import argparse
import re
import sys

from harness.cli.common import client_from_args, warehouse_args
from harness.cli.options import non_negative_int
from harness.config import PLAN_CUTOFF_TS
from harness.errors import UsageError, check_span, first_line
from harness.ingest.coverage import describe_gaps, source_gaps
from harness.pnl.build import PREVIEW_SUFFIX, BuildError, create_views, rebuild, rebuild_range, wallet_summary


def cmd_build(args: argparse.Namespace) -> int:

    client, settings = client_from_args(args)
    # One cutoff rule for both modes (an incremental build must use the cutoff of the full build it extends): no
    # cutoff unless --cutoff is given, like sync and the stages.
    cutoff = None if args.no_cutoff else args.cutoff
    if args.from_block is not None or args.to_block is not None:
        if args.from_block is None or args.to_block is None:
            raise UsageError("--from-block and --to-block go together (both ends of the range just ingested)")
        check_span(args.from_block, args.to_block, "build")
    # A hole inside the ingested range makes every figure built from it wrong (issue 21: 0 of 250 wallets right):
    # refused unless the operator asks for a partial build, which is then said loudly (and pnl marks its figures).
    holes = source_gaps(client)
    if holes and not args.allow_gaps:
        print(f"error: build refused: {describe_gaps(holes)}; fetch them (backfill over the range, `gaps` lists "
              "them) or pass --allow-gaps to build a partial range on purpose", file=sys.stderr)
        return 1
    try:
        if args.from_block is not None:
            rep = rebuild_range(client, args.from_block, args.to_block, cutoff=cutoff,
                                allow_unmapped=args.allow_unmapped)
        else:
            rep = rebuild(client, cutoff=cutoff, allow_unmapped=args.allow_unmapped)
    except BuildError as exc:
        print(f"error: BuildError: {first_line(exc, 2000)}", file=sys.stderr)
        return 1
    # The final views are the public contract: only a gated deploy creates or changes them. The build gives
    # a preview under the _build suffix, which `pnl` reads while nothing is deployed.
    create_views(client, suffix=PREVIEW_SUFFIX)
    rows = ", ".join(f"{t}={n}" for t, n in rep.rows.items())
    span = (f" of blocks {rep.from_block}..{rep.to_block} ({rep.conditions} conditions touched, {rep.recomputed} "
            f"recomputed, {rep.key_clashes} of them sharing a condition key)" if rep.mode == "range" else "")
    print(f"{rep.mode} rebuild{span} on {settings.describe()} cutoff={rep.cutoff} in {rep.seconds:.2f}s: {rows}; "
          f"preview views *{PREVIEW_SUFFIX} (the final views change only through a gated deploy)")
    for line in rep.warnings():
        print(line)
    if holes:
        print(f"WARNING: built over blocks never ingested (--allow-gaps): {describe_gaps(holes)}; every P&L "
              "figure misses their events (pnl marks them INCOMPLETE while the hole exists)", file=sys.stderr)
    return 0


def cmd_pnl(args: argparse.Namespace) -> int:

    if not re.fullmatch(r"0x[0-9a-fA-F]{40}", args.wallet):
        raise UsageError(f"wallet {args.wallet!r} is not a 0x + 40 hex address")
    client, settings = client_from_args(args)
    present = {r[0] for r in client.query(
        "SELECT name FROM system.tables WHERE database = currentDatabase() AND name IN {n:Array(String)}",
        parameters={"n": [f"wallet_pnl_summary_final{x}" for x in ("", PREVIEW_SUFFIX)]}).result_rows}
    if "wallet_pnl_summary_final" in present:
        suffix, note = "", ""
    elif f"wallet_pnl_summary_final{PREVIEW_SUFFIX}" in present:
        suffix, note = PREVIEW_SUFFIX, " [undeployed build preview]"
    else:
        raise UsageError(f"no P&L views in {settings.describe()} yet: run `python -m harness build` first")
    s, via = wallet_summary(client, args.wallet, suffix=suffix), ""
    if s is None:  # an EOA that signs for a proxy wallet: answer with the proxy's P&L, and say so
        from harness.chain.proxies import resolve

        link = resolve(client, args.wallet.lower(), lambda ws: {
            w for w in ws if wallet_summary(client, w, suffix=suffix) is not None})
        s = link and wallet_summary(client, link.proxy, suffix=suffix)
        via = f" [proxy wallet of {link.owner}: {link.kind}, {link.source}]" if s else ""
    if s is None:
        print(f"no P&L rows for wallet {args.wallet.lower()}")
        return 1
    holes = source_gaps(client)
    mark = f" [INCOMPLETE: {describe_gaps(holes)}]" if holes else ""
    print(f"{s.wallet}: realized {s.realized_pnl_usd:,.6f} unrealized {s.unrealized_pnl_usd:,.6f} "
          f"total {s.total_pnl_usd:,.6f} USDC ({s.markets_resolved} resolved, {s.markets_open} open markets)"
          f"{note}{via}{mark}")
    if holes:  # a figure known to miss events is never an answer a script may take (exit 1)
        print("WARNING: the warehouse has blocks never ingested inside its range: this P&L misses their events; "
              "fetch them (`gaps` lists them) and rebuild", file=sys.stderr)
        return 1
    return 0


def add_commands(subparsers) -> None:
    p = subparsers.add_parser("build", help="rebuild the derived P&L tables (build-then-swap) and the views")
    warehouse_args(p)
    g = p.add_mutually_exclusive_group()
    g.add_argument("--cutoff", type=non_negative_int, metavar="UNIX_TS",
                   help=f"block-time limit (default: none; the plan's is {PLAN_CUTOFF_TS} = 2025-10-31 23:59:59 UTC)")
    g.add_argument("--no-cutoff", action="store_true", help="use every ingested event (the default)")
    p.add_argument("--from-block", type=non_negative_int, help="incremental: first block of the range just ingested")
    p.add_argument("--to-block", type=non_negative_int, help="incremental: last block of that range")
    p.add_argument("--allow-unmapped", action="store_true",
                   help="build even when fills/transfers use tokens missing from token_map (still reported)")
    p.add_argument("--allow-gaps", action="store_true",
                   help="build although blocks inside the ingested range were never ingested (a partial range on "
                        "purpose; warned, and pnl marks its figures INCOMPLETE)")
    p.set_defaults(func=cmd_build)
    p = subparsers.add_parser("pnl", help="print one wallet's P&L summary from the final views")
    warehouse_args(p)
    p.add_argument("wallet")
    p.set_defaults(func=cmd_pnl)
