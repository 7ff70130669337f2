"""`export`: one wallet's P&L per market as CSV or JSON (harness.serve.export), from the final views."""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from harness.cli.common import client_from_args, warehouse_args
from harness.errors import UsageError
from harness.pnl.build import PREVIEW_SUFFIX
from harness.warehouse.sql import load

MARKET_VIEW = "realized_pnl_by_market_final"


def cmd_export(args: argparse.Namespace) -> int:
    from harness.chain.proxies import resolve
    from harness.serve import export

    if not re.fullmatch(r"0x[0-9a-fA-F]{40}", args.wallet or ""):
        raise UsageError(f"--wallet {args.wallet!r} is not a 0x + 40 hex address")
    wallet = args.wallet.lower()
    client, settings = client_from_args(args)
    present = {r[0] for r in client.query(load("api/views_present"),
                                          parameters={"views": [MARKET_VIEW, MARKET_VIEW + PREVIEW_SUFFIX]}).result_rows}
    view = next((v for v in (MARKET_VIEW, MARKET_VIEW + PREVIEW_SUFFIX) if v in present), None)
    if view is None:
        raise UsageError(f"no P&L views in {settings.describe()} yet: run `python -m harness build` first")
    rows = export.wallet_market_rows(client, wallet, market_view=view)
    link = None
    if not rows:  # an EOA that signs for a proxy wallet: export the proxy's rows, and say so
        link = resolve(client, wallet, lambda ws: {
            w for w in ws if export.wallet_market_rows(client, w, market_view=view)})
        if link is not None:
            wallet, rows = link.proxy, export.wallet_market_rows(client, link.proxy, market_view=view)
    if not rows:
        print(f"no P&L rows for wallet {wallet}", file=sys.stderr)
        return 1
    if args.format == "csv":
        text = export.to_csv(rows)
    else:
        text = export.to_json(rows, wallet, None if link is None else {
            "owner": link.owner, "proxy": link.proxy, "kind": link.kind, "source": link.source})
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8", newline="")
        print(f"wrote {len(rows)} markets of {wallet} to {args.out}"
              + (f" (proxy wallet of {link.owner}: {link.kind})" if link else ""), file=sys.stderr)
    else:
        sys.stdout.write(text)
        if link:
            print(f"proxy wallet of {link.owner}: {link.kind}, {link.source}", file=sys.stderr)
    return 0


def add_commands(subparsers) -> None:
    p = subparsers.add_parser("export", help="write one wallet's P&L per market as CSV or JSON (exact decimal USD)")
    warehouse_args(p)
    p.add_argument("--wallet", required=True, help="0x address (an EOA with a proxy exports the proxy's rows)")
    p.add_argument("--format", choices=("csv", "json"), default="csv")
    p.add_argument("--out", metavar="FILE", help="write here instead of stdout")
    p.set_defaults(func=cmd_export)
