"""What every router shares: the warehouse, and the proxy-aware wallet lookup, so every route answers an EOA with
its proxy wallet's rows exactly as /pnl does. Each router module has ``router(routes) -> APIRouter``."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from harness.serve.models import NotFound, ProxyOut
from harness.serve.warehouse import Warehouse


@dataclass(frozen=True)
class Routes:
    wh: Warehouse

    def answer_for(self, wallet: str, fetch: Callable[[str], list]) -> tuple[str, list, ProxyOut | None]:
        """(address whose P&L answers, its rows, proxy link): the wallet's own rows; for an address the warehouse
        does not know, its proxy wallet's (404 when it has none with rows)."""
        wh = self.wh
        rows = fetch(wallet)
        if rows or wh.rows("api/wallets_with_pnl", wallets=[wallet]):
            return wallet, rows, None
        link = wh.proxy_for(wallet)
        if link is None:
            self.known(wallet)  # raises the 404 (or, if the summary view knows it after all, answers with no rows)
            return wallet, rows, None
        return link.proxy, fetch(link.proxy), ProxyOut(owner=link.owner, proxy=link.proxy, kind=link.kind,
                                                       source=link.source)

    def known(self, wallet: str) -> tuple:
        """The wallet's summary row; NotFound (404) when the summary view does not know it."""
        rows = self.wh.rows("api/wallet_summary", summary_view=self.wh.summary_view, wallet=wallet)
        if not rows:
            raise NotFound(f"wallet {wallet} not found in {self.wh.summary_view}")
        return rows[0]
