"""`reconcile`: the warehouse's net shares against balanceOfBatch on the node."""
from __future__ import annotations

import argparse

from harness.cli.common import client_from_args, warehouse_args
from harness.errors import CheckFailed, UsageError
from harness.gates.reconcile import reconcile


def add_commands(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("reconcile", help="compare warehouse net shares with balanceOfBatch on a node at one block")
    warehouse_args(p)
    p.add_argument("--rpc-url", help="JSON-RPC URL (env POLYGON_RPC_URL); past blocks need an archive node")
    p.add_argument("--block", type=int, help="block to compare at (default: the warehouse watermark)")
    p.add_argument("--wallet", action="append", default=[], help="a wallet to check (repeatable)")
    p.add_argument("--sample", type=int, default=0, help="also check K wallets drawn from the warehouse (seeded)")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=_cmd_reconcile)


def _cmd_reconcile(args: argparse.Namespace) -> int:
    import os

    from harness.chain.rpc import RpcClient
    from harness.gates import watermark

    url = args.rpc_url or os.environ.get("POLYGON_RPC_URL")
    if not url:
        raise UsageError("reconcile needs --rpc-url or POLYGON_RPC_URL")
    if args.sample < 0:
        raise UsageError(f"--sample={args.sample} must not be negative")
    if not args.wallet and not args.sample:
        raise UsageError("name wallets with --wallet or ask for --sample K")
    rpc = RpcClient(url)  # the URL is checked before the warehouse is opened
    client, _settings = client_from_args(args)
    block = args.block if args.block is not None else watermark(client).block
    res = reconcile(client, rpc.batch, block=block, wallets=args.wallet, sample=args.sample,
                    seed=args.seed)
    print(res)
    if not res.ok:
        raise CheckFailed(f"{len(res.mismatches)} positions differ from the chain at block {block}")
    return 0
