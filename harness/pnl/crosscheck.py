"""The validate stage's oracle cross-check, bounded at any warehouse size.

The pure-Python oracles (harness.pnl.oracle, .avgcost) recompute P&L from raw rows; reading every raw row of a production
warehouse (tens of millions of fills) into Python is not possible, so the check covers the reference wallets plus
a seeded random sample drawn from the raw rows, reads only those wallets' transactions and the market structure,
resolutions and last fills they touch (harness.pnl.asof.wallet_tables), and records exactly which wallets it checked.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from clickhouse_connect.driver.client import Client

from harness.pnl.avgcost import avg_cost_pnl
from harness.pnl.build import NO_CUTOFF, UI_VIEW
from harness.pnl.oracle import cashflow_pnl
from harness.pnl.rows import excluded_addresses
from harness.warehouse import sql

#: Wallets drawn at random on top of the reference wallets (``--oracle-sample``): enough that a rule wrong for
#: 1% of wallets is caught with probability 1 - 0.99**300 > 95%, small enough to stay seconds at any size.
DEFAULT_SAMPLE = 300
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

Triple = tuple[int, int, int]  # realized, unrealized, total (micro-USDC)


@dataclass(frozen=True)
class OracleDiff:
    wallet: str
    sql: Triple | None
    oracle: Triple | None

    def __str__(self) -> str:
        return f"{self.wallet}: sql={self.sql} oracle={self.oracle}"


@dataclass(frozen=True)
class CrossCheck:
    """What one bounded cross-check compared, and what differed."""

    wallets: tuple[str, ...]  # every wallet checked: references first, then the sample
    references: int
    seed: int
    rows_read: int
    cashflow: list[OracleDiff] = field(default_factory=list)
    avgcost: list[OracleDiff] = field(default_factory=list)
    contracts_with_rows: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.wallets) and not (self.cashflow or self.avgcost or self.contracts_with_rows)

    def summary(self) -> str:
        return (f"{len(self.wallets)} wallets checked ({self.references} reference, "
                f"{len(self.wallets) - self.references} sampled, seed {self.seed}; {self.rows_read:,} raw rows "
                f"read): cash-flow {len(self.cashflow)} differ, average-cost {len(self.avgcost)} differ, "
                f"{len(self.contracts_with_rows)} contracts with P&L rows")


def sample_wallets(client: Client, k: int, *, seed: int = 0) -> list[str]:
    """``k`` wallets drawn repeatably (by ``seed``) from every wallet the raw rows name, contracts left out."""
    if k <= 0:
        return []
    rows = client.query(sql.load("checks/oracle_sample"),
                        parameters={"k": int(k), "seed": int(seed), "excluded": excluded_addresses()})
    return [r[0] for r in rows.result_rows]


def _diffs(sql_rows: Mapping[str, Triple], oracle: Mapping[str, Triple], wallets: Iterable[str]) -> list[OracleDiff]:
    zero = (0, 0, 0)
    return [OracleDiff(w, sql_rows.get(w), oracle.get(w)) for w in wallets
            if sql_rows.get(w, zero) != oracle.get(w, zero)]


def _triples(client: Client, query: str, wallets: Sequence[str]) -> dict[str, Triple]:
    rows = client.query(query, parameters={"wallets": list(wallets)}).result_rows
    return {w: (int(r), int(u), int(t)) for w, r, u, t in rows}


def cashflow_oracle(tables: Mapping, cutoff: int | None) -> dict[str, Triple]:
    return {w: (p.realized, p.unrealized, p.total) for w, p in cashflow_pnl(tables, cutoff=cutoff).wallets.items()}


def avgcost_oracle(tables: Mapping, cutoff: int | None) -> dict[str, Triple]:
    acc: dict[str, list[int]] = {}
    for (w, _c), m in avg_cost_pnl(tables, cutoff=cutoff).markets.items():
        a = acc.setdefault(w, [0, 0])
        a[0], a[1] = a[0] + int(m.realized), a[1] + int(m.unrealized)
    return {w: (r, u, r + u) for w, (r, u) in acc.items()}


def _view(name: str) -> str:
    if not _IDENT.match(name):
        raise ValueError(f"view name {name!r}: letters, digits and _ only")
    return f"`{name}`"


def summary_view(suffix: str = "") -> tuple[str, str]:
    """(view, its realized/unrealized/total micro-USDC columns) of the cash-flow summary."""
    return _view("wallet_pnl_summary_final" + suffix), "realized_pnl, unrealized_pnl, total_pnl"


def ui_view(suffix: str = "") -> tuple[str, str]:
    return _view(UI_VIEW + suffix), "ui_realized_pnl, ui_unrealized_pnl, ui_total_pnl"


def compare(client: Client, view: tuple[str, str], oracle: Mapping[str, Triple], wallets: Sequence[str]
            ) -> list[OracleDiff]:
    """Wallets (of ``wallets``) whose (realized, unrealized, total) in ``view`` differ from the oracle's."""
    name, cols = view
    query = f"SELECT wallet, {cols} FROM {name} WHERE wallet IN {{wallets:Array(String)}}"
    return _diffs(_triples(client, query, wallets), oracle, wallets)


def cross_check(client: Client, *, wallets: Iterable[str] = (), sample: int = DEFAULT_SAMPLE, seed: int = 0,
                suffix: str = "", cutoff: int | None = None) -> CrossCheck:
    """Reference ``wallets`` plus ``sample`` seeded wallets: SQL summary view (``suffix``) and UI view against both
    oracles, recomputed from only those wallets' rows; plus no contract holding a P&L row."""
    from harness.pnl.asof import rows_read, wallet_tables

    if sample < 0:
        raise ValueError(f"oracle sample {sample} must not be negative")
    refs = list(dict.fromkeys(w.strip().lower() for w in wallets))
    chosen = list(dict.fromkeys(refs + sample_wallets(client, sample, seed=seed)))
    tables = wallet_tables(client, chosen, NO_CUTOFF if cutoff is None else int(cutoff))
    cf = compare(client, summary_view(suffix), cashflow_oracle(tables, cutoff), chosen)
    ui = compare(client, ui_view(suffix), avgcost_oracle(tables, cutoff), chosen)
    contracts = [r[0] for r in client.query(sql.load("checks/contract_pnl_rows"),
                                            parameters={"excluded": excluded_addresses()}).result_rows]
    return CrossCheck(tuple(chosen), len(refs), int(seed), rows_read(tables), cf, ui, contracts)
