"""`simulate` and `chain-world`: write a seeded world, from the fast simulator or played on anvil."""
from __future__ import annotations

import argparse
from pathlib import Path

from harness.cli.options import fraction, non_negative_float, non_negative_int, positive_int
from harness.errors import UsageError
from harness.worlds.chain_world import play, start_node, write
from harness.worlds.model import WorldParams
from harness.worlds.simulate import write_world


def world_options(p: argparse.ArgumentParser) -> None:
    """The seeded world's size options, shared by simulate and chain-world (validated before anything runs)."""
    d = WorldParams()
    p.add_argument("--seed", type=non_negative_int, default=d.seed)
    p.add_argument("--wallets", type=positive_int, default=d.wallets)
    p.add_argument("--markets", type=positive_int, default=d.markets)
    p.add_argument("--fills", type=positive_int, default=d.fills, help="matched trades (one matchOrders tx each)")
    p.add_argument("--fpmm-markets", type=non_negative_int, default=d.fpmm_markets,
                   help="legacy AMM (FPMM) markets on top of --markets (default 0)")
    p.add_argument("--span-days", type=non_negative_int, default=d.span_days,
                   help=f"spread the trading over at least this many days (default {d.span_days}; 2 s blocks, "
                        "the empty blocks between trades skipped)")


def add_simulate(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("simulate", help="write a simulated world (logs, prices, truth, wallets.yaml)")
    d = WorldParams()
    world_options(p)
    p.add_argument("--neg-risk-share", type=fraction, default=d.neg_risk_share)
    p.add_argument("--open-share", type=fraction, default=d.open_share)
    p.add_argument("--proxy-share", type=fraction, default=d.proxy_share,
                   help="wallets that are proxies of an EOA: half Safes (ProxyCreation), half CREATE2 proxies")
    p.add_argument("--out", type=Path, required=True)
    p.set_defaults(func=_cmd_simulate)


def _cmd_simulate(args: argparse.Namespace) -> int:
    meta = write_world(args.out, WorldParams(seed=args.seed, wallets=args.wallets, markets=args.markets,
                                             fills=args.fills, neg_risk_share=args.neg_risk_share,
                                             open_share=args.open_share, fpmm_markets=args.fpmm_markets,
                                             proxy_share=args.proxy_share, span_days=args.span_days))
    print(f"wrote {args.out}: {meta['logs']} logs in blocks {meta['block_range'][0]}..{meta['block_range'][1]}, "
          f"{meta['wallets_with_pnl']} wallets with P&L, {meta['markets']['conditions']} conditions")
    return 0


def add_chain_world(sub) -> None:
    p = sub.add_parser("chain-world", help="play a seeded world as transactions on anvil; truth from balances")
    world_options(p)
    p.add_argument("--out", type=Path, required=True, help="world directory to write")
    p.add_argument("--port", type=int, help="anvil port (default: a free one)")
    p.add_argument("--serve", action="store_true",
                   help="keep the node running after writing, so `backfill --rpc-url` and `reconcile` can use it")
    p.add_argument("--progress-every", type=non_negative_float, metavar="SECONDS", default=None,
                   help="seconds between progress log lines (default 5)")
    p.set_defaults(func=_cmd_chain_world)


def _cmd_chain_world(args) -> int:
    import time

    from harness.chain.contracts.artefacts import available
    from harness.chain.node import NodeError

    try:
        params = WorldParams(seed=args.seed, wallets=args.wallets, markets=args.markets, fills=args.fills,
                             fpmm_markets=args.fpmm_markets, span_days=args.span_days)
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    if args.progress_every is not None:
        from harness.ingest import progress

        progress.LOG_EVERY = args.progress_every
    why = available()
    if why:
        raise UsageError(why)
    t0 = time.monotonic()
    try:
        node = start_node(params, port=args.port)
    except NodeError as exc:
        raise UsageError(str(exc)) from exc
    with node:
        world = play(params, node)
        meta = write(world, args.out)
        print(f"wrote {args.out}: {meta['txs']} transactions, {meta['logs']} logs in blocks "
              f"{world.first_block}..{world.last_block}, {meta['wallets_with_pnl']} wallets with P&L from contract "
              f"state ({time.monotonic() - t0:.1f} s)")
        if args.serve:
            print(f"serving the chain on {node.url} (chain id 137); Ctrl-C to stop", flush=True)
            try:
                while node.proc.poll() is None:
                    time.sleep(1)
            except KeyboardInterrupt:
                pass
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:
    add_simulate(sub)
    add_chain_world(sub)
