"""Seeded market simulator: real ABI-encoded logs in chain order, plus each wallet's exact P&L.

It plays binary and negRisk markets: CLOB matches with the exchange's maker and taker legs (normal, MINT via a
split with stakeholder = exchange/adapter, MERGE), wallet splits and merges (CTF and NegRiskAdapter), wallet-to-
wallet ERC1155 transfers, negRisk conversions, resolutions and redemptions; some markets stay open with a price.
This module is the world driver and its entry points; each protocol's flows are a module of their own (clob, ctf,
negrisk, amm in harness.worlds), all playing on one ``WorldState`` (harness.worlds.state), whose ledger
(harness.worlds.ledger) knows ``truth`` to the micro-dollar without reading the logs back.

Its logs decode to the same rows as the same world played on the contracts (harness.worlds.chain_world, checked by
tests/integration/test_chain_world.py), tx hashes and block times aside: the negRisk V1 exchange moves shares
through the NegRiskAdapter (operator = adapter), conversions send the NO tokens to the burn address, a V2 market's
MINT/MERGE and a wallet's own split/merge/redeem/convert there go through the V2 collateral adapter (stakeholder =
adapter), order hashes are keccak256(abi.encode(order)) with salts the simulator picks, and a share of V1 matches
with fee-paying orders go through the fee module (fee receiver = the module, FeeRefunded after OrdersMatched).
Some wallets are proxy wallets of an EOA (``WorldParams.proxy_share``): Safes, whose ProxyCreation(proxy, owner)
the SafeProxyFactory emits before trading starts, and ProxyWalletFactory clones at the owner's CREATE2 address
(no event); ``meta()["proxies"]`` maps each owner to its proxy. Left out, because no table reads them: ERC20
transfers (USDC.e, pUSD, wcol), TokenRegistered, MarketPrepared and OutcomeReported. V2 emits only the V2
OrderFilled (the registry holds no V2 OrdersMatched/FeeCharged).
"""
from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Iterator
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

from harness.chain.tokens import condition_id, neg_risk_condition_id, token_id
from harness.ingest import world_files as world
from harness.pnl.fpmm import Pool
from harness.pnl.money import micros_to_decimal
from harness.worlds import amm, clob, ctf, ledger, negrisk
from harness.worlds.ledger import WalletTruth
from harness.worlds.model import ZERO32, Market, SimulationError, WorldParams, seeded_address, seeded_hash
from harness.worlds.state import WorldState

SIMULATOR_VERSION = 1


class Simulation(WorldState):
    """Run once: iterate ``logs()``; afterwards ``truth``, ``prices``, ``meta`` and ``reference_wallets``."""

    def _prepare_markets(self) -> None:
        """Draw the markets, their resolution points and their FPMMs; log their preparation."""
        r, p = self.rng, self.p
        for k in range(p.markets):
            neg = r.random() < p.neg_risk_share
            if neg:
                nq = r.randint(3, 5)
                mid = negrisk.neg_risk_market_id(self.oracle, 0, negrisk.market_metadata(k))
                qids = [mid[:-2] + format(i, "02x") for i in range(nq)]
                conds = [neg_risk_condition_id(q) for q in qids]
            else:
                qids = [seeded_hash("question", p.seed, k)]
                conds = [condition_id(self.oracle, qids[0], 2)]
                mid = ZERO32
            m = Market(k, conds, qids, [(token_id(c, 0, neg_risk=neg), token_id(c, 1, neg_risk=neg)) for c in conds],
                       neg, mid, [r.randint(5, 95) for _ in conds])
            for c, (t0, t1) in zip(conds, m.tokens):
                self.tmap[t0], self.tmap[t1] = (c, 0), (c, 1)
            m.v2 = r.random() < p.v2_share
            if r.random() >= p.open_share:
                m.winner = r.randrange(len(conds)) if neg else r.randrange(2)
            self.markets.append(m)
            self.live.append(m)
            if neg:
                self.live_neg.append(m)
        for k in range(p.markets, p.markets + p.fpmm_markets):  # the legacy AMM's binary markets, after the rest
            qids = [seeded_hash("question", p.seed, k)]
            conds = [condition_id(self.oracle, qids[0], 2)]
            m = Market(k, conds, qids, [(token_id(conds[0], 0), token_id(conds[0], 1))], False, ZERO32,
                       [r.randint(10, 90)], fpmm=seeded_address("fpmm", p.seed, k))
            self.tmap[m.tokens[0][0]], self.tmap[m.tokens[0][1]] = (conds[0], 0), (conds[0], 1)
            if r.random() >= p.open_share:
                m.winner = r.randrange(2)
            self.pools[m.fpmm] = Pool()
            self.book.never = self.book.never | {m.fpmm}
            self.markets.append(m)
            self.live.append(m)
        for m in self.markets:  # resolution point, in matched trades done
            if m.winner is not None:
                m.resolve_at = int(p.fills * r.uniform(0.3, 0.95))
                if m.neg_risk and r.random() < 0.5:  # some losing questions resolve first, question by question
                    losers = [i for i in range(len(m.conditions)) if i != m.winner]
                    m.early = sorted(r.sample(losers, r.randint(1, len(losers) - 1)))
                    m.early_at = int(m.resolve_at * r.uniform(0.4, 0.9))
        for m in self.markets:
            self.new_tx()
            self.play("prepare", m=m)
            for i, (c, q) in enumerate(zip(m.conditions, m.question_ids)):
                self.emit("ctf.ConditionPreparation", {"conditionId": c, "oracle": self.adapter if m.neg_risk
                                                       else self.oracle, "questionId": q, "outcomeSlotCount": 2},
                          self.addr["ctf"])
                if m.neg_risk:
                    data = "0x" + negrisk.question_data(i).hex()
                    self.emit("adapter.QuestionPrepared", {"marketId": m.market_id, "questionId": q, "index": i,
                                                           "data": data}, self.adapter)
        for m in self.markets:
            if m.fpmm is not None:
                amm.create(self, m)

    def logs(self) -> Iterator[dict]:
        """The world's logs in chain order (a generator: memory stays bounded by the world, not the log count)."""
        if self._done:
            raise SimulationError("a Simulation runs once; make a new one")
        self._prepare_markets()
        yield from self._flush()
        for proxy, (owner, kind) in self.proxies.items():
            if kind == "safe":
                self.new_tx()
                self.play("create_proxy", owner=owner, proxy=proxy)
                self.emit("safe_factory.ProxyCreation", {"proxy": proxy, "owner": owner},
                          self.addr["safe_proxy_factory"])
        yield from self._flush()
        r = self.rng
        pending = sorted([(m.resolve_at, m.key, m, None) for m in self.markets if m.resolve_at is not None]
                         + [(m.early_at, m.key, m, m.early) for m in self.markets if m.early],
                         key=lambda e: e[:2])
        ops = (ctf.op_split, ctf.op_merge, ctf.op_transfer, negrisk.op_convert, ctf.op_redeem)
        weights = (6, 4, 5, 4, 11)
        fills = 0
        while True:
            while pending and pending[0][0] <= fills:
                ctf.resolve(self, pending[0][2], pending.pop(0)[3])
                yield from self._flush()
            if fills >= self.p.fills or not self.live:
                break
            if self.pools and r.random() < 0.2:  # the legacy AMM, only in a world that has it
                amm.op_fpmm(self)
            elif r.random() < 0.7:
                fills += clob.op_match(self)
                self._fills = fills
            else:
                r.choices(ops, weights)[0](self)
            yield from self._flush()
        self._fills = self.p.fills  # what is left (resolutions, late redemptions) happens at the span's end
        while pending:
            ctf.resolve(self, pending[0][2], pending.pop(0)[3])
            yield from self._flush()
        self.fills_done = fills
        for _ in range(max(1, self.p.fills // 10)):  # a tail of late redemptions
            ctf.op_redeem(self)
            yield from self._flush()
        self.last_block = self.block
        self._done = True

    def prices(self) -> list[tuple[str, int, int]]:
        """(condition_id, outcome_index, price_micros) for every open condition."""
        return ledger.open_prices(self.markets)

    def truth(self) -> dict[str, WalletTruth]:
        """Per wallet, the cash-flow P&L of the shared definition, from the simulator's own ledger and book."""
        if not self._done:
            raise SimulationError("run logs() to the end first")
        truth, self.value_dust = ledger.cash_flow_truth(self.markets, self.book, self.cash, self.tmap,
                                                         self.excluded())
        return truth

    def meta(self) -> dict:
        """world.json's summary: parameters, block and time range, log and operation counts, fees, proxies."""
        params = asdict(self.p)
        if not params["fpmm_markets"]:  # a world without the legacy AMM keeps its world.json as it was
            del params["fpmm_markets"]
        return {
            "simulator_version": SIMULATOR_VERSION, "params": params,
            "block_range": [self.first_block, getattr(self, "last_block", self.block)],
            "time_range": [self.p.start_time, self.time],
            "logs": sum(self.counts.values()), "logs_by_event": dict(sorted(self.counts.items())),
            "ops": dict(sorted(self.ops.items())),
            "markets": {"binary": sum(not m.neg_risk for m in self.markets),
                        "neg_risk": sum(m.neg_risk for m in self.markets),
                        "conditions": sum(len(m.conditions) for m in self.markets),
                        "resolved": sum(m.resolved for m in self.markets),
                        "open": sum(not m.resolved for m in self.markets)},
            "fees_usdc": self.fees_usdc, "fees_shares": self.fees_shares,
            "fee_refunds_usdc": self.refunds_usdc, "fee_refunds_shares": self.refunds_shares,
            "fee_receiver": self.fee_receiver, "oracle": self.oracle,
            "proxies": {o: {"proxy": p, "kind": k} for p, (o, k) in sorted(self.proxies.items(), key=lambda x: x[1])},
        }

    def gamma_markets(self) -> list[dict]:
        """The world's markets file: one Gamma-shaped record per condition (harness.worlds.names), with the
        world's own ids and token ids; ``endDate`` is the resolution's block time, or 7-27 days after the world's
        end for a market still open."""
        from harness.worlds.names import binary_question, gamma_record, neg_risk_questions, slugify

        if not self._done:
            raise SimulationError("run logs() to the end first")
        out, slugs = [], set()
        for m in self.markets:
            late = self.time + (7 + m.key % 21) * 86_400
            ends = [self.resolved_time.get(c, late) for c in m.conditions]
            qs = (neg_risk_questions(self.p.seed, m.key, len(m.conditions)) if m.neg_risk
                  else [binary_question(self.p.seed, m.key, ends[0])])
            for i, c in enumerate(m.conditions):
                slug = base = slugify(qs[i])
                while slug in slugs:
                    slug = f"{base}-{len(out)}"
                slugs.add(slug)
                out.append(gamma_record(gamma_id=500_000 + len(out), question=qs[i], slug=slug, condition_id=c,
                                        question_id=m.question_ids[i], tokens=m.tokens[i], neg_risk=m.neg_risk,
                                        market_id=m.market_id, end=ends[i], closed=c in m.payouts))
        return out

    def reference_wallets(self, truth: dict[str, WalletTruth], n: int = 8) -> list[dict]:
        """~n varied wallets: biggest winner and loser, largest open book, a converter, a fee payer, ..."""
        ws = [w for w in truth if w != self.fee_receiver]
        if not ws:
            return []
        picks: list[tuple[str, str, str]] = []

        def add(label: str, pool: list[str], key, metric: str = "total") -> None:
            """The best of ``pool`` by ``key`` not picked yet (so every role gets its own wallet)."""
            taken = {p[1] for p in picks}
            free = [w for w in pool if w not in taken]
            if free and len(picks) < n:
                picks.append((label, max(free, key=lambda w: (key(w), w)), metric))

        add("top_winner", ws, lambda w: truth[w].total)
        add("top_loser", ws, lambda w: -truth[w].total)
        add("open_book", ws, lambda w: abs(truth[w].unrealized), "unrealized")
        add("realized", ws, lambda w: abs(truth[w].realized), "realized")
        add("converter", sorted(self.converters & set(ws)), lambda w: truth[w].markets_resolved)
        add("fee_payer", [w for w in ws if self.fee_bps.get(w)],
            lambda w: truth[w].markets_resolved + truth[w].markets_open)
        add("flat", ws, lambda w: -abs(truth[w].total))
        rest = [w for w in ws if w not in {p[1] for p in picks}]
        pick = random.Random(self.p.seed)
        while len(picks) < n and rest:
            w = rest.pop(pick.randrange(len(rest)))
            add(f"random_{len(picks)}", [w], lambda _w: 0)
        as_of = datetime.fromtimestamp(self.time, UTC).strftime("%Y-%m-%d")
        out = []
        for label, w, metric in picks:
            t = truth[w]
            v = {"total": t.total, "realized": t.realized, "unrealized": t.unrealized}[metric]
            out.append({"name": f"sim_{label}", "address": w, "target_usd": micros_to_decimal(v), "tolerance_pct": 0,
                        "expected_bias_pct": 0, "metric": metric,
                        "source": f"simulator ledger, seed {self.p.seed}", "as_of": as_of, "level": "must"})
        return out


def iter_world(params: WorldParams | None = None, **kw) -> Iterator[dict]:
    """The logs of a world, in chain order, in-process (no files): ``for log in iter_world(seed=7): ...``."""
    return Simulation(params, **kw).logs()


# ---- files ------------------------------------------------------------------------------------------------------

WORLD_FILES = (world.LOGS_FILE, world.PRICES_FILE, world.TRUTH_FILE, world.WALLETS_FILE, world.META_FILE,
               world.MARKETS_FILE)


def write_world(out: str | Path, params: WorldParams | None = None, **kw) -> dict:
    """Write a world directory (files in WORLD_FILES), byte-identical for the same parameters."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    sim = Simulation(params, **kw)
    world.write_logs(out / world.LOGS_FILE, sim.logs())
    truth = sim.truth()
    world.write_prices(out / world.PRICES_FILE, sim.prices())
    world.write_markets(out / world.MARKETS_FILE, sim.gamma_markets())
    meta = sim.meta()
    meta["wallets_with_pnl"] = len(truth)
    meta["sum_total_pnl"] = sum(t.total for t in truth.values())
    (out / "truth.json").write_text(json.dumps({
        "definition": "cash-flow P&L (shared definition), micro-USDC ints", "seed": sim.p.seed,
        "fee_receiver": sim.fee_receiver, "fees_usdc": sim.fees_usdc,
        "wallets": {w: asdict(t) for w, t in truth.items()}}, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    refs = sim.reference_wallets(truth)
    lines = [f"# Reference wallets of the simulated world (seed {sim.p.seed}); targets are the simulator's exact",
             ("# ledger (tolerance 0 = exact to the micro-dollar). Regenerate: python -m harness simulate "
             f"--seed {sim.p.seed} --wallets {sim.p.wallets} --markets {sim.p.markets} --fills {sim.p.fills}"
              + (f" --fpmm-markets {sim.p.fpmm_markets}" if sim.p.fpmm_markets else "")),
             "wallets:"]
    for w in refs:
        lines.append(f"  - name: {w['name']}")
        for k in ("address", "target_usd", "tolerance_pct", "expected_bias_pct", "metric", "source", "as_of",
                  "level"):
            v = w[k]
            lines.append(f"    {k}: " + (json.dumps(v) if isinstance(v, str) else str(v)))
    (out / "wallets.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    world.write_meta(out, meta)
    return meta


def read_world_logs(world_dir: str | Path) -> Iterator[dict]:
    """Stream the logs of a written world back (one JSON object per line)."""
    return world.read_logs(world_dir)


def world_hashes(world: str | Path) -> dict[str, str]:
    return {f: hashlib.sha256((Path(world) / f).read_bytes()).hexdigest() for f in WORLD_FILES}
