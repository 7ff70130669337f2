"""check-wallet's output: our figures against Polymarket's positions (within a tolerance), the JSON result and the
per-market table."""
from __future__ import annotations

from decimal import Decimal

from harness.gates.checkwallet.figures import Market, WalletFigures
from harness.gates.checkwallet.positions import Position, PositionCheck
from harness.pnl.money import micros_to_decimal

#: Default per-market tolerance when the wallet is not in wallets.yaml: the reference wallets' ui_total one.
DEFAULT_TOLERANCE_PCT = Decimal(5)
#: Below this absolute difference (micro-USDC, one cent) a market always agrees: the API rounds to cents.
CENT = 10_000


def _within(ours: int, theirs: int, tolerance_pct: Decimal) -> bool:
    d = abs(ours - theirs)
    return d <= CENT or Decimal(d) * 100 <= tolerance_pct * abs(Decimal(theirs))


def compare_positions(fig: WalletFigures, positions: list[Position], tolerance_pct: Decimal) -> list[PositionCheck]:
    """Each of Polymarket's positions against our average-cost book of its token (size against the shares held).
    Our position P&L: the token's realized + tracked shares x (mark - average price)."""
    by_token = {o.token_id: (m, o) for m in fig.markets for o in m.outcomes}
    out = []
    for p in positions:
        hit = by_token.get(p.asset)
        if hit is None:
            chk = PositionCheck(p, None, None, None, False, ("no such position in the wallet's logs",))
        else:
            m, o = hit
            mark = o.mark if o.mark is not None else 0
            pnl = o.realized + o.tracked * (mark - o.avg_price) // 10**6
            problems = tuple(f"{name}: ours {micros_to_decimal(a)} vs Polymarket {micros_to_decimal(b)}"
                             for name, a, b in (("size", o.shares, p.size), ("avgPrice", o.avg_price, p.avg_price),
                                                ("pnl", pnl, p.pnl))
                             if not _within(a, b, tolerance_pct))
            chk = PositionCheck(p, o.shares, o.avg_price, pnl, not problems, problems)
            m.polymarket.append(chk)
        out.append(chk)
    return out


def _usd(micros: int | None) -> str:
    return "" if micros is None else micros_to_decimal(int(micros))


def to_json(fig: WalletFigures, checks: list[PositionCheck] | None = None) -> dict:
    """The machine-readable result: money as decimal strings with 6 places, as in the API."""
    def market(m: Market) -> dict:
        return {
            "condition_id": m.condition_id, "status": "resolved" if m.resolved else "open",
            "shares": {str(o.outcome_index): _usd(o.shares) for o in m.outcomes if o.shares},
            "outcomes": [{"outcome_index": o.outcome_index, "token_id": str(o.token_id), "shares": _usd(o.shares),
                          "tracked_shares": _usd(o.tracked), "avg_price": _usd(o.avg_price),
                          "realized": _usd(o.realized), "mark": _usd(o.mark)} for o in m.outcomes],
            "cost": _usd(m.cost),
            "cash_flow": {"cashflow": _usd(m.cashflow), "value": _usd(m.value), "pnl": _usd(m.cf_pnl)},
            "average_cost": {"realized": _usd(m.ac_realized), "unrealized": _usd(m.ac_unrealized),
                             "pnl": _usd(m.ac_pnl)},
            "explain": list(m.reasons),
            "polymarket": [check_json(c) for c in m.polymarket],
        }

    out = {
        "wallet": fig.wallet, "proxy": fig.proxy,
        "resolved_from": None if fig.link is None else {"owner": fig.link.owner, "proxy": fig.link.proxy,
                                                        "kind": fig.link.kind, "source": fig.link.source},
        "cash_flow": {"realized": _usd(fig.realized), "unrealized": _usd(fig.unrealized), "total": _usd(fig.total)},
        "average_cost": {"realized": _usd(fig.ui_realized), "unrealized": _usd(fig.ui_unrealized),
                         "total": _usd(fig.ui_total)},
        "markets": [market(m) for m in fig.markets],
        "logs_fetched": fig.fetch.logs_fetched,
        "fetch_steps": fig.fetch.steps, "receipts": fig.fetch.receipts, "seconds": round(fig.fetch.seconds, 3),
        "blocks": [fig.from_block, fig.to_block], "notes": fig.notes,
    }
    if fig.chain_logs is not None:
        out["chain_logs"] = fig.chain_logs
    if checks is not None:
        out["positions"] = [check_json(c) for c in checks]
        out["within_tolerance"] = all(c.ok for c in checks)
    return out


def check_json(c: PositionCheck) -> dict:
    p = c.position
    return {"asset": str(p.asset), "condition_id": p.condition_id, "title": p.title, "outcome": p.outcome,
            "polymarket": {"size": _usd(p.size), "avgPrice": _usd(p.avg_price), "pnl": _usd(p.pnl),
                           "cashPnl": _usd(p.cash_pnl), "realizedPnl": _usd(p.realized_pnl),
                           "curPrice": _usd(p.cur_price)},
            "ours": {"size": _usd(c.size), "avgPrice": _usd(c.avg_price), "pnl": _usd(c.pnl)},
            "ok": c.ok, "problems": list(c.problems)}


def render_table(fig: WalletFigures, checks: list[PositionCheck] | None = None) -> str:
    """The per-market table: shares, average price, cost, value and both P&Ls (Polymarket's beside, with the
    oracle's explanation of a market whose figures differ)."""
    who = fig.wallet if fig.proxy in (None, fig.wallet) else f"{fig.wallet} -> proxy {fig.proxy} ({fig.link.kind})"
    lines = [f"wallet {who}: blocks {fig.from_block}..{fig.to_block}"]
    if fig.proxy is None:
        lines.append("no P&L rows: neither the address nor a proxy of it has a position in these blocks")
    head = f"{'market':<14} {'status':<8} {'shares':>16} {'avg price':>10} {'cost':>16} {'value':>16} " \
           f"{'P&L cash-flow':>16} {'P&L avg-cost':>16}"
    if checks is not None:
        head += f" {'Polymarket P&L':>16}  ok"
    lines.append(head)
    for m in fig.markets:
        held = [o for o in m.outcomes if o.shares or o.tracked]
        shares = "/".join(f"{o.outcome_index}:{Decimal(o.shares) / 10**6:,.2f}" for o in held) or "0"
        avg = "/".join(f"{Decimal(o.avg_price) / 10**6:.6f}" for o in held if o.tracked) or "-"
        row = (f"{m.condition_id[:12] + '..':<14} {'resolved' if m.resolved else 'open':<8} {shares:>16} {avg:>10} "
               f"{_usd(m.cost):>16} {_usd(m.value):>16} {_usd(m.cf_pnl):>16} {_usd(m.ac_pnl):>16}")
        if checks is not None:
            pm = sum(c.position.pnl for c in m.polymarket) if m.polymarket else None
            row += f" {_usd(pm) if pm is not None else '-':>16}  " + (
                "-" if not m.polymarket else "yes" if all(c.ok for c in m.polymarket) else "NO")
        lines.append(row)
        if checks is not None and any(not c.ok for c in m.polymarket):
            for c in m.polymarket:
                lines += [f"    {c.position.outcome or c.position.asset}: {p}" for p in c.problems]
            lines += [f"    why (cash-flow vs average-cost): {r}" for r in m.reasons or ("no method difference",)]
    if checks is not None:
        for c in checks:
            if c.size is None:
                lines.append(f"Polymarket position not found here: {c.position.condition_id[:12]}.. asset "
                             f"{str(c.position.asset)[:16]}.. {c.position.title!r} P&L {_usd(c.position.pnl)}")
    lines.append(f"cash-flow:    realized {_usd(fig.realized)}  unrealized {_usd(fig.unrealized)}  "
                 f"total {_usd(fig.total)}")
    lines.append(f"average-cost: realized {_usd(fig.ui_realized)}  unrealized {_usd(fig.ui_unrealized)}  "
                 f"total {_usd(fig.ui_total)}")
    chain = f" (the chain holds {fig.chain_logs:,} logs of the known contracts over the range)" \
        if fig.chain_logs is not None else ""
    lines.append(f"logs fetched: {fig.fetch.logs_fetched:,}{chain}, {fig.fetch.receipts} receipts, "
                 f"{fig.fetch.seconds:.1f} s")
    lines += [f"note: {n}" for n in fig.notes]
    if checks is not None:
        bad = sum(not c.ok for c in checks)
        lines.append(f"Polymarket positions: {len(checks)} compared, {bad} outside tolerance")
    return "\n".join(lines)
