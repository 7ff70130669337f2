"""One wallet's P&L figures read back from a built database (scratch or warehouse): both methods' totals, and per
market the cash-flow and average-cost rows, each outcome's book, and the oracle's explanation of the difference."""
from __future__ import annotations

from dataclasses import dataclass, field

from clickhouse_connect.driver.client import Client

from harness.chain import proxies
from harness.gates.checkwallet.fetch import FetchLog
from harness.gates.checkwallet.positions import PositionCheck
from harness.warehouse import sql


@dataclass
class Outcome:
    outcome_index: int
    token_id: int
    shares: int  # net shares held (micro-units)
    tracked: int  # shares the average-cost book tracks
    avg_price: int  # micro-USDC per share
    realized: int  # average-cost realized on this token, micro-USDC
    mark: int | None  # payout share (resolved) or market price, micro-USDC per share; None = unpriced


@dataclass
class Market:
    condition_id: str
    resolved: bool
    cashflow: int
    value: int
    cf_pnl: int
    ac_realized: int
    ac_unrealized: int
    ac_pnl: int
    outcomes: list[Outcome] = field(default_factory=list)
    reasons: tuple[str, ...] = ()
    polymarket: list[PositionCheck] = field(default_factory=list)
    in_cash_flow: bool = False  # the build wrote a wallet_market_pnl row (else the cash-flow figures are 0)
    in_average_cost: bool = False  # the build wrote a wallet_market_pnl_avgcost row

    @property
    def cost(self) -> int:
        """Average-cost basis of the tracked shares (the API's initialValue), micro-USDC."""
        return sum(o.tracked * o.avg_price // 10**6 for o in self.outcomes)


@dataclass
class WalletFigures:
    wallet: str  # the address asked about
    proxy: str | None  # the address whose P&L answers (itself, or its proxy), None when nothing was found
    link: proxies.ProxyLink | None
    realized: int = 0
    unrealized: int = 0
    total: int = 0
    ui_realized: int = 0
    ui_unrealized: int = 0
    ui_total: int = 0
    markets: list[Market] = field(default_factory=list)
    fetch: FetchLog = field(default_factory=FetchLog)
    from_block: int = 0
    to_block: int = 0
    chain_logs: int | None = None  # every log of the known contracts over the range, when counted
    notes: list[str] = field(default_factory=list)  # the scratch build's warnings (unmapped tokens, unpriced)


def read_figures(client: Client, wallet: str, *, explain: bool = True, suffix: str = ""
                 ) -> tuple[dict, list[Market]]:
    """Both methods' totals and the per-market rows of ``wallet`` from a built database (the scratch one, or a
    warehouse: its summary view ``wallet_pnl_summary_final<suffix>``)."""
    from harness.pnl.asof import wallet_tables
    from harness.pnl.build import NO_CUTOFF, _render, wallet_summary

    s = wallet_summary(client, wallet, suffix=suffix)  # checks the suffix
    ui = client.query(_render("checkwallet/ui_summary", suffix=suffix), parameters={"wallet": wallet}).result_rows
    tot = {"realized": s.realized_pnl if s else 0, "unrealized": s.unrealized_pnl if s else 0,
           "total": s.total_pnl if s else 0}
    tot.update(dict(zip(("ui_realized", "ui_unrealized", "ui_total"), (int(v) for v in ui[0]) if ui else (0, 0, 0))))
    markets: dict[str, Market] = {}
    for c, r, cash, value, pnl in client.query(sql.load("checkwallet/markets_cashflow"),
                                               parameters={"wallet": wallet}).result_rows:
        markets[c] = Market(c, bool(r), int(cash), int(value), int(pnl), 0, 0, 0, in_cash_flow=True)
    for c, r, re_, un, pnl in client.query(sql.load("checkwallet/markets_avgcost"),
                                           parameters={"wallet": wallet}).result_rows:
        m = markets.setdefault(c, Market(c, bool(r), 0, 0, 0, 0, 0, 0))
        m.ac_realized, m.ac_unrealized, m.ac_pnl, m.in_average_cost = int(re_), int(un), int(pnl), True
    rows = client.query(sql.load("checkwallet/outcomes"),
                        parameters={"wallet": wallet, "conditions": sorted(markets)}).result_rows
    for c, o, tok, n, amt, avg, rz, mark in rows:
        markets[c].outcomes.append(Outcome(int(o), int(tok), int(n or 0), int(amt or 0), int(avg or 0), int(rz or 0),
                                           None if mark is None else int(mark)))
    if explain and markets:
        from harness.pnl.explain import explain as explain_pnl

        tables = wallet_tables(client, [wallet], NO_CUTOFF)
        for d in explain_pnl(tables):
            if d.wallet == wallet and d.condition_id in markets:
                markets[d.condition_id].reasons = d.reasons
    return tot, sorted(markets.values(), key=lambda m: (m.resolved, -abs(m.cf_pnl), m.condition_id))
