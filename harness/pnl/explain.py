"""Why the two P&L definitions differ, per wallet and condition: fees, plain transfers, clamped sells, negRisk
conversions that move basis between conditions, FPMM liquidity. Both oracles run on the same rows.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from harness.pnl.avgcost import avg_cost_pnl
from harness.pnl.oracle import cashflow_pnl
from harness.pnl.rows import Tables, excluded_addresses, fpmm_addresses, fpmm_markets, live


@dataclass(frozen=True)
class Difference:
    wallet: str
    condition_id: str
    cashflow_pnl: int
    avg_cost_pnl: int  # subgraph rounding, realized + unrealized
    diff: int
    fees_usdc: int
    fee_shares: int
    transfer_in: int  # shares received by plain wallet-to-wallet transfers (the subgraph does not track them)
    transfer_out: int
    clamped_shares: int
    untracked_shares: int  # sum over outcomes of |shares held - shares the average-cost book tracks|
    converted: bool
    reasons: tuple[str, ...]


def explain(tables: Tables, *, cutoff: int | None = None, excluded: Iterable[str] | None = None) -> list[Difference]:
    """Per (wallet, condition): both P&Ls and the causes that separate them, worst difference first."""
    ex = set(excluded_addresses() if excluded is None else excluded) | fpmm_addresses(tables)
    cf = cashflow_pnl(tables, cutoff=cutoff, excluded=ex)
    ac = avg_cost_pnl(tables, cutoff=cutoff, excluded=ex)
    tmap = {int(r["token_id"]): r["condition_id"] for r in live(tables, "token_map", None)}
    busy_tx = {r["tx_hash"] for n in ("trades_raw", "ctf_actions", "neg_risk_conversions", "fpmm_trades",
                                      "fpmm_funding") for r in live(tables, n, cutoff)}
    tin: dict[tuple[str, str], int] = defaultdict(int)
    tout: dict[tuple[str, str], int] = defaultdict(int)
    for r in live(tables, "erc1155_transfers", cutoff):
        c = tmap.get(int(r["token_id"]))
        if c is None or r["tx_hash"] in busy_tx or r["from_addr"] in ex or r["to_addr"] in ex:
            continue
        tin[(r["to_addr"], c)] += int(r["value"])
        tout[(r["from_addr"], c)] += int(r["value"])
    untracked: dict[tuple[str, str], int] = defaultdict(int)
    tracked: dict[tuple[str, int], int] = {}
    for (w, tok), st in ac.tokens.items():
        if tok in tmap:
            tracked[(w, tok)] = st.amount
    tok_of = {(r["condition_id"], int(r["outcome_index"])): int(r["token_id"]) for r in live(tables, "token_map", None)}
    seen = set()
    for (w, c, o), n in cf.positions.items():
        tok = tok_of.get((c, o))
        seen.add((w, tok))
        untracked[(w, c)] += abs(n - tracked.get((w, tok), 0))
    for (w, tok), amount in tracked.items():
        if (w, tok) not in seen and amount:
            untracked[(w, tmap[tok])] += abs(amount)
    fpmms = fpmm_markets(tables)
    funded = {(r["funder"], fpmms[r["fpmm"]]) for r in live(tables, "fpmm_funding", cutoff) if r["fpmm"] in fpmms}
    conv_markets = {r["market_id"] for r in live(tables, "neg_risk_conversions", cutoff)}
    conv_conds = {r["condition_id"] for r in live(tables, "neg_risk_questions", None) if r["market_id"] in conv_markets}
    out = []
    for k in set(cf.markets) | set(ac.markets):
        m = cf.markets.get(k)
        a = ac.markets.get(k)
        cpnl = m.pnl if m else 0
        apnl = int(a.total) if a else 0
        reasons = []
        if m and (m.fees or m.fee_shares):
            reasons.append(f"fees: {m.fees} micro-USDC and {m.fee_shares} share units in cash-flow, ignored by avg-cost")
        if tin[k] or tout[k]:
            reasons.append(f"plain transfers: +{tin[k]} / -{tout[k]} shares valued by cash-flow, untracked by avg-cost")
        if untracked[k]:
            reasons.append(f"untracked shares: {untracked[k]} share units held differ from the avg-cost book "
                           "(transfers, fee shares): cash-flow values what is held")
        if a and a.clamped_shares:
            reasons.append(f"clamped sells: {a.clamped_shares} shares sold without tracked basis earn 0 in avg-cost")
        if k[1] in conv_conds:
            reasons.append("negRisk conversion: basis moves between conditions (wallet totals still comparable)")
        if k in funded:
            reasons.append("FPMM liquidity: LP shares count 0 in both; a funding removal's shares are booked "
                           "against the LP sale in avg-cost (the pnl-subgraph's rule), 2x their cost lower")
        if cpnl != apnl and not reasons:
            reasons.append("rounding: subgraph truncates prices and each realized delta")
        out.append(Difference(k[0], k[1], cpnl, apnl, cpnl - apnl, m.fees if m else 0, m.fee_shares if m else 0,
                              tin[k], tout[k], a.clamped_shares if a else 0, untracked[k], k[1] in conv_conds,
                              tuple(reasons)))
    return sorted(out, key=lambda d: (-abs(d.diff), d.wallet, d.condition_id))
