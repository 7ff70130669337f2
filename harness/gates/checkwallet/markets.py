"""The market data one wallet's P&L needs, fetched by topic: FPMM creations, the preparations of every condition
and token it touched, the negRisk questions of its markets, their resolutions, and the last fills that price
its open markets."""
from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence

from clickhouse_connect.driver.client import Client

from harness.chain.events import address_of
from harness.gates.checkwallet.fetch import TOPIC_CHUNK, Fetcher, chunks, decode, first_block, pairs, topic0s
from harness.warehouse import sql

log = logging.getLogger(__name__)


def fetch_structure(f: Fetcher, dec) -> None:
    """Preparations (token_map), negRisk questions and resolutions of everything ``dec`` touches."""
    ctf = [address_of("ctf")]
    adapter = [address_of("neg_risk_adapter")]
    prep_lo = first_block(["ctf"], f.hi)
    conds = {r["condition_id"] for r in dec.as_dicts("ctf_actions")}
    markets = {r["market_id"] for r in dec.as_dicts("neg_risk_conversions")}
    fpmms = {r["fpmm"] for t in ("fpmm_trades", "fpmm_funding") for r in dec.as_dicts(t)}
    if fpmms:
        logs = f.get("FPMM creations", [address_of("fpmm_factory")],
                     [topic0s("fpmm_factory.FixedProductMarketMakerCreation")], first_block(["fpmm_factory"], f.hi), f.hi)
        made = [(lg, r) for lg, r in pairs(logs, "fpmm_creations") if r["fpmm"] in fpmms]
        f.keep(lg for lg, _r in made)
        conds |= {c.lower() for _lg, r in made for c in r["condition_ids"]}
    tokens = {int(r["token_id"]) for t in ("trades_raw", "erc1155_transfers") for r in dec.as_dicts(t)}
    tokens |= {int(r["token_id"]) for r in dec.as_dicts("fee_refunds") if int(r["token_id"])}
    preps: dict[str, dict] = {}  # condition -> its ConditionPreparation log
    token_cond: dict[int, str] = {}

    def take(logs: list[dict]) -> None:
        by_cid = {}
        for lg, r in pairs(logs, "condition_preparations"):
            by_cid.setdefault(r["condition_id"], lg)
        for r in decode(logs).as_dicts("token_map"):
            if r["condition_id"] in by_cid:
                token_cond[int(r["token_id"])] = r["condition_id"]
                preps.setdefault(r["condition_id"], by_cid[r["condition_id"]])

    def by_condition(cids: Iterable[str]) -> None:
        for chunk in chunks(sorted(set(cids) - set(preps)), TOPIC_CHUNK):
            take(f.get("preparations of conditions touched", ctf, [topic0s("ctf.ConditionPreparation"), chunk],
                       prep_lo, f.hi))

    by_condition(conds)
    unmapped = tokens - set(token_cond)
    if unmapped:  # fills and transfers name tokens, not conditions: scan back from the newest first use
        first_use: dict[int, int] = {}
        for t in ("trades_raw", "erc1155_transfers"):
            for r in dec.as_dicts(t):
                tok = int(r["token_id"])
                if tok in unmapped:
                    first_use[tok] = min(first_use.get(tok, f.hi), int(r["block_number"]))

        def found(logs: list[dict], _low: int) -> bool:
            take(logs)
            return not (unmapped - set(token_cond))

        f.backwards("preparations of tokens used", ctf, [topic0s("ctf.ConditionPreparation")], prep_lo,
                    max(first_use.values()), found)
    # negRisk: the questions of every market touched (conversions need them all), and their conditions
    neg = [decode([lg]).as_dicts("condition_preparations")[0] for lg in preps.values()]
    qids = sorted({r["question_id"] for r in neg if r["oracle"] == adapter[0]})
    qp = topic0s("adapter.QuestionPrepared")
    q_lo = first_block(["neg_risk_adapter"], f.hi)
    for chunk in chunks(qids, TOPIC_CHUNK):
        qs = f.get("negRisk questions of conditions", adapter, [qp, None, chunk], q_lo, f.hi)
        markets |= {r["market_id"] for r in decode(qs).as_dicts("neg_risk_questions")}
    for chunk in chunks(sorted(markets), TOPIC_CHUNK):
        qs = f.get("negRisk questions of markets", adapter, [qp, chunk], q_lo, f.hi)
        f.keep(qs)
        by_condition(r["condition_id"] for r in decode(qs).as_dicts("neg_risk_questions"))
    f.keep(preps.values())
    for chunk in chunks(sorted(preps), TOPIC_CHUNK):
        f.keep(f.get("resolutions", ctf, [topic0s("ctf.ConditionResolution"), chunk], prep_lo, f.hi))
    missing = tokens - set(token_cond)
    if missing:
        log.warning("check-wallet: %d token ids have no ConditionPreparation in blocks %d..%d (first: %s)",
                    len(missing), prep_lo, f.hi, sorted(missing)[:3])


def needs_price(client: Client, wallets: Sequence[str]) -> dict[str, int]:
    """Open conditions in which a wallet holds shares or tracked average-cost shares and no imported price covers
    every outcome -> the block of the newest fill already ingested for them (0 when none)."""
    rows = client.query(sql.load("checkwallet/needs_price"), parameters={"wallets": list(wallets)}).result_rows
    return {c: int(b or 0) for c, b in rows}


def fetch_prices(client: Client, f: Fetcher, need: dict[str, int], *, max_blocks: int | None = None,
                 notes: list[str] | None = None) -> list[dict]:
    """The fills that price the open conditions in ``need``: every fill of their tokens from the end of the range
    back to the newest one (a binary condition: either outcome's; others: each outcome's), or back to the newest
    fill already held. Fills carry no token topic, so this reads every fill of those blocks: ``max_blocks`` bounds
    the scan (a condition not settled within it keeps the newest fill held, and ``notes`` says so). Returns the
    fills to add."""
    if not need:
        return []
    tmap = {int(t): (c, int(o)) for t, c, o in client.query(
        sql.load("checkwallet/token_map"), parameters={"conditions": sorted(need)}).result_rows}
    outcomes: dict[str, set[int]] = {}
    for c, o in tmap.values():
        outcomes.setdefault(c, set()).add(o)
    todo = {c: (set(os_) if len(os_) != 2 else {-1}) for c, os_ in outcomes.items()}
    kept: list[dict] = []
    exchanges = sorted({address_of(k) for k in ("ctf_exchange", "neg_risk_exchange", "ctf_exchange_v2",
                                          "neg_risk_exchange_v2")})

    def done(logs: list[dict], low: int) -> bool:
        for lg, r in pairs(logs, "trades_raw"):
            hit = tmap.get(int(r["token_id"]))
            if hit is None or not int(r["shares"]):
                continue
            c, o = hit
            kept.append(lg)
            todo.get(c, set()).discard(-1 if len(outcomes[c]) == 2 else o)
        for c in list(todo):
            if not todo[c] or (need.get(c) and low <= need[c]):
                del todo[c]
        return not todo

    lo = first_block(["ctf_exchange"], f.hi)
    if max_blocks is not None:
        lo = max(lo, f.hi - max_blocks + 1)
    f.backwards("last fills of open markets", exchanges, [topic0s("exchange.OrderFilled", "exchange_v2.OrderFilled")],
                lo, f.hi, done)
    if todo and notes is not None:
        notes.append(f"{len(todo)} open markets have no fill in the last {max_blocks} blocks scanned "
                     f"({lo}..{f.hi}): priced by the newest fill held, or unpriced (first: {min(todo)})")
    return kept
