"""The ingest-markets command: load Gamma's market metadata (names, outcomes, token ids) into market_metadata."""
from __future__ import annotations

import argparse

from harness.cli.common import client_from_args, warehouse_args

SHOW_MISMATCHES = 100  # token id disagreements printed (the first, by condition id)


def cmd_ingest_markets(args: argparse.Namespace) -> int:
    """Load each file, then report how Gamma's token ids compare with token_map (exit 1 on a disagreement)."""
    from harness.ingest.metadata import load_markets_file, read_markets_file, token_mismatches
    from harness.ingest.result import new_version

    files = [read_markets_file(f) for f in args.files]  # every file parses before anything is written
    client, _ = client_from_args(args)
    for mf in files:
        n = load_markets_file(client, mf, version=new_version())
        skipped = (f"; {len(mf.skipped)} without a conditionId skipped ({', '.join(mf.skipped[:3])}"
                   + (", ..." if len(mf.skipped) > 3 else "") + ")") if mf.skipped else ""
        print(f"{mf.path}: {n} markets loaded into market_metadata{skipped}")
    checked, bad = token_mismatches(client, limit=SHOW_MISMATCHES)
    for m in bad:
        print(f"token id mismatch: {m}")
    more = " or more" if len(bad) == SHOW_MISMATCHES else ""
    print(f"token ids: {checked} markets compared with token_map, {len(bad)}{more} disagree")
    return 1 if bad else 0


def add_commands(sub) -> None:
    p = sub.add_parser("ingest-markets", help="load Gamma markets JSON / JSON lines (.gz allowed): question, "
                       "slug, outcomes, end date, negRisk ids, token ids; re-loading replaces")
    warehouse_args(p)
    p.add_argument("files", nargs="+", metavar="FILE")
    p.set_defaults(func=cmd_ingest_markets)
