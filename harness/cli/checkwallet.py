"""`check-wallet`: one wallet's P&L from its own logs on a scratch embedded database, beside Polymarket's figures."""
from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from decimal import Decimal, InvalidOperation
from pathlib import Path

from harness.cli.options import non_negative_int, positive_float, positive_int
from harness.errors import CheckFailed, UsageError


def _pct(text: str) -> Decimal:
    try:
        v = Decimal(text)
    except InvalidOperation:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not v.is_finite() or v < 0:
        raise argparse.ArgumentTypeError(f"must be a percentage >= 0 (got {text})")
    return v


def add_commands(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("check-wallet", help="one wallet's P&L (both methods, per market) from its own logs on a "
                                            "scratch database, beside Polymarket's /positions")
    p.add_argument("address", help="the wallet: a proxy, or an EOA (checked with its proxy, as the API does)")
    p.add_argument("--rpc-url", action="append", metavar="URL",
                   help="JSON-RPC endpoint; repeat or comma-separate for failover (env POLYGON_RPC_URL)")
    p.add_argument("--from-block", type=non_negative_int, help="first block (default: the known contracts' first block, as backfill)")
    p.add_argument("--to-block", type=non_negative_int, help="last block (default the head)")
    src = p.add_mutually_exclusive_group()
    src.add_argument("--data-api", metavar="URL", help="Polymarket's data API base URL (GET URL/positions?user=...)")
    src.add_argument("--positions", metavar="FILE", help="a saved /positions JSON answer")
    p.add_argument("--tolerance", type=_pct, metavar="PCT",
                   help="per-position tolerance in percent (default: the wallet's tolerance_pct in wallets.yaml, "
                        "else 5); differences under one cent always agree")
    p.add_argument("--json", action="store_true", help="print the result as JSON (money as decimal strings)")
    p.add_argument("--proxy", metavar="ADDRESS", help="the proxy to check with (skips the Safe scan)")
    p.add_argument("--no-safe-scan", action="store_true",
                   help="do not read the SafeProxyFactory's ProxyCreation logs to find the address's Safe")
    p.add_argument("--prices", metavar="FILE", help="mark prices CSV (a world's prices.csv), over the fill prices")
    p.add_argument("--count-chain", action="store_true",
                   help="also count every log of the known contracts over the range (to compare; slow on Polygon)")
    p.add_argument("--price-scan-blocks", type=positive_int, default=500_000, metavar="N",
                   help="read fills at most N blocks back for the last fill of an open market (fills have no token "
                        "topic, so every fill of those blocks is read; default 500000, about 11 days on Polygon); "
                        "a market not settled within it is noted")
    p.add_argument("--no-explain", action="store_true", help="skip the oracle's per-market explanation")
    p.add_argument("--scratch", metavar="DIR", help="keep the scratch embedded database in DIR (default: a "
                                                     "temporary directory, removed at the end)")
    p.add_argument("--wallets", metavar="FILE", default=None, help="wallets.yaml for the default tolerance")
    p.add_argument("--window", type=positive_int, default=100_000, help="initial eth_getLogs block window")
    p.add_argument("--retries", type=positive_int, default=8, help="attempts per RPC call (default 8)")
    p.add_argument("--rpc-timeout", type=positive_float, default=30.0, help="seconds a socket read may wait")
    p.set_defaults(func=cmd_check_wallet)


def default_tolerance(address: str, wallets_file: str | None) -> Decimal:
    """The wallet's tolerance_pct in wallets.yaml when it is listed there, else DEFAULT_TOLERANCE_PCT."""
    from harness.config import PROJECT_ROOT
    from harness.gates.checkwallet.report import DEFAULT_TOLERANCE_PCT
    from harness.gates.wallets import load_wallets

    path = Path(wallets_file) if wallets_file else PROJECT_ROOT / "wallets.yaml"
    if not path.is_file():
        if wallets_file:
            raise UsageError(f"--wallets {wallets_file}: no such file")
        return DEFAULT_TOLERANCE_PCT
    for w in load_wallets(path):
        if w.address == address.lower():
            return w.tolerance_pct
    return DEFAULT_TOLERANCE_PCT


def cmd_check_wallet(args: argparse.Namespace) -> int:
    from harness.chain.rpc import RetryPolicy, RpcClient
    from harness.cli.ingest import rpc_urls
    from harness.gates.checkwallet.positions import fetch_positions, load_positions
    from harness.gates.checkwallet.report import compare_positions, render_table, to_json
    from harness.gates.checkwallet.scratch import check_wallet
    from harness.warehouse import connect, resolve_settings
    from harness.warehouse.schema import apply_schema

    address = args.address.lower()
    tolerance = args.tolerance if args.tolerance is not None else default_tolerance(address, args.wallets)
    saved = load_positions(args.positions) if args.positions else None  # a bad file fails before any fetch
    rpc = RpcClient(rpc_urls(args.rpc_url), timeout=args.rpc_timeout, retry=RetryPolicy(attempts=args.retries))
    scratch = Path(args.scratch) if args.scratch else Path(tempfile.mkdtemp(prefix="check-wallet-"))
    try:
        client = connect(resolve_settings(clickhouse=f"chdb://{scratch.resolve()}", database="check_wallet",
                                          env={}))
        apply_schema(client)
        if client.query("SELECT count() FROM erc1155_transfers").result_rows[0][0]:
            raise UsageError(f"--scratch {scratch}: already holds data; give an empty or new directory")
        fig = check_wallet(client, rpc, address, from_block=args.from_block, to_block=args.to_block,
                           proxy=args.proxy, safe_scan=not args.no_safe_scan,
                           prices=Path(args.prices) if args.prices else None, window=args.window,
                           count_chain=args.count_chain, explain=not args.no_explain,
                           price_scan_blocks=args.price_scan_blocks)
    finally:
        if not args.scratch:
            shutil.rmtree(scratch, ignore_errors=True)
    checks = None
    if saved is not None or args.data_api:
        positions = saved if saved is not None else fetch_positions(args.data_api, fig.proxy or address)
        checks = compare_positions(fig, positions, tolerance)
    if args.json:
        print(json.dumps(to_json(fig, checks), indent=2))
    else:
        print(render_table(fig, checks))
    if checks is not None and not all(c.ok for c in checks):
        bad = sum(not c.ok for c in checks)
        raise CheckFailed(f"{bad} of {len(checks)} Polymarket positions differ by more than {tolerance}% "
                          f"(and one cent)")
    print(f"check-wallet {address}: {len(fig.markets)} markets, {fig.fetch.logs_fetched} logs fetched", file=sys.stderr)
    return 0
