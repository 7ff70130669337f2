"""The validate stage's reference wallets (wallets.yaml): judged from the warehouse's rows when it has them, else by
check-wallet on a scratch database; compared per position when a wallet names a positions file."""
from __future__ import annotations

from dataclasses import dataclass

from clickhouse_connect.driver.client import Client

from harness.chain.rpc import RpcClient
from harness.gates.checkwallet.figures import WalletFigures, read_figures
from harness.gates.checkwallet.positions import PositionCheck, load_positions
from harness.gates.checkwallet.report import check_json, compare_positions
from harness.gates.checkwallet.scratch import check_wallet, scratch_database


@dataclass
class ReferenceCheck:
    """One wallets.yaml wallet judged on its metric, and which path computed it: ``warehouse`` (its rows) or
    ``check-wallet`` (its own logs on a scratch database); per-position checks when it names a positions file."""

    check: object  # harness.gates.wallets.WalletCheck
    path: str
    figures: WalletFigures | None = None
    positions: list[PositionCheck] | None = None

    @property
    def positions_ok(self) -> bool:
        return self.positions is None or all(c.ok for c in self.positions)

    def detail(self) -> dict:
        out = {"path": self.path}
        if self.figures is not None:
            out.update(proxy=self.figures.proxy, logs_fetched=self.figures.fetch.logs_fetched,
                       blocks=[self.figures.from_block, self.figures.to_block], markets=len(self.figures.markets))
        if self.positions is not None:
            out["positions"] = [check_json(c) for c in self.positions]
        return out


def metric_value(fig: WalletFigures, metric: str) -> int | None:
    """A wallets.yaml metric (total, realized, unrealized, ui_total, ui_realized) of the figures; None when no
    address had rows."""
    if fig.proxy is None:
        return None
    return int(getattr(fig, metric))


def check_reference_wallet(settings, rpc: RpcClient | str, wallet, **kw) -> ReferenceCheck:
    """check-wallet for one wallets.yaml wallet (up to the last block at or before its ``as_of``), judged on its
    metric, and compared per position when it names a ``positions`` file."""
    from harness.gates.wallets import judge

    rpc = rpc if isinstance(rpc, RpcClient) else RpcClient(rpc)
    to_block = None
    if wallet.as_of_ts is not None:
        to_block = min(rpc.block_number(), rpc.last_block_at_or_before(wallet.as_of_ts))
    with scratch_database(settings) as scratch:
        fig = check_wallet(scratch, rpc, wallet.address, to_block=to_block, **kw)
    positions = (compare_positions(fig, load_positions(wallet.positions), wallet.tolerance_pct)
                 if wallet.positions else None)
    return ReferenceCheck(judge(wallet, metric_value(fig, wallet.metric)), "check-wallet", fig, positions)


def warehouse_positions(client: Client, wallet, *, suffix: str = "") -> list[PositionCheck] | None:
    """A wallet with rows in the warehouse, compared per position with its ``positions`` file (None without)."""
    if not wallet.positions:
        return None
    fig = WalletFigures(wallet.address, wallet.address, None)
    _tot, fig.markets = read_figures(client, wallet.address, suffix=suffix)
    return compare_positions(fig, load_positions(wallet.positions), wallet.tolerance_pct)
