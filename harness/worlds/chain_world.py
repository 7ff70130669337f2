"""chain-world: the seeded simulated world played as real transactions on anvil, with a truth read from balances.

Why: the simulator, the Python oracle and the SQL build are one reading of the protocol written three times; their
agreement proves consistency, not truth. Here every operation the simulator decides (splits, merges, matched
orders on V1/V2/negRisk exchanges, transfers, conversions, resolutions, redemptions, some through the V2
collateral adapters or the fee module) is sent as a transaction to the real ConditionalTokens bytecode and our
settlement contracts (harness.chain.contracts), and the world's files are written from the node's own eth_getLogs.
``truth.json`` comes from contract state only: per wallet, collateral now - collateral funded + for each condition
floor(sum of shares x payout numerator / denominator) read from the CTF (resolved) or shares x the world's mark
price (open). No event is read to make it. Only the world's wallets get P&L; contracts never do.
"""
from __future__ import annotations

import json
import logging
import time as _time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from harness.chain.contracts.abi import MAX_UINT, calldata
from harness.chain.contracts.artefacts import artefact
from harness.chain.contracts.exchange import OPERATOR, Order, Side
from harness.chain.contracts.polymarket import Polymarket
from harness.chain.node import Anvil
from harness.config import contracts
from harness.errors import CheckFailed
from harness.ingest import world_files as files
from harness.pnl.money import micros_to_decimal
from harness.worlds.model import SCALE, WorldParams
from harness.worlds.negrisk import market_metadata
from harness.worlds.simulate import Simulation

#: Collateral each world wallet starts with, in each of USDC.e and pUSD (micro-units): far more than any world spends.
FUNDING = 10**12
#: Seconds between set-up blocks (install, funding, approvals) before the world's first block.
SETUP_GAP = 30
LOG_CHUNK_BLOCKS = 500

log = logging.getLogger(__name__)


class ChainWorldError(CheckFailed):
    """The world could not be played on the node (the message names the operation and the block; exit 1)."""


@dataclass
class ChainTruth:
    """One wallet's cash-flow P&L from contract state (micro-USDC)."""

    cash: int = 0  # collateral now - collateral funded (USDC.e + pUSD)
    value: int = 0  # sum over conditions of floor(shares x mark / denominator)
    total: int = 0


@dataclass
class ChainWorld:
    """What a played world produced."""

    node: Anvil
    pm: Polymarket
    sim: Simulation
    first_block: int = 0
    last_block: int = 0
    txs: int = 0
    truth: dict[str, ChainTruth] = field(default_factory=dict)
    sim_logs: list[dict] = field(default_factory=list)


class Player:
    """Receives the simulator's decided operations and sends them as transactions, one simulated block at a time
    (the transactions of one simulated block are mined together, at its timestamp)."""

    def __init__(self, pm: Polymarket, sim: Simulation) -> None:
        self.pm, self.sim = pm, sim
        self._block: int | None = None
        self._time = 0
        self._pending: list[Callable[[], object]] = []
        self.markets: dict[str, object] = {}  # negRisk market id -> the adapter's Market
        self.txs = 0
        self._t0 = self._last = _time.monotonic()

    def progress(self, *, final: bool = False) -> None:
        """A log line every harness.ingest.progress.LOG_EVERY seconds (and at the end): matched trades done of
        the world's, transactions sent, simulated time, elapsed, ETA. A 300-wallet world plays for minutes."""
        from harness.ingest.progress import LOG_EVERY, hms

        now = _time.monotonic()
        if not final and now - self._last < LOG_EVERY:
            return
        self._last = now
        done, total, el = self.sim._fills, self.sim.p.fills, now - self._t0
        eta = el / done * max(total - done, 0) if done else 0.0
        from datetime import UTC, datetime

        log.info("chain-world: %s %s/%s matched trades (%d%%), %s transactions, simulated %s, elapsed %s, ETA %s",
                 "played" if final else "playing", f"{done:,}", f"{total:,}", 100 * done // total if total else 100,
                 f"{self.txs:,}", datetime.fromtimestamp(self._time, UTC).strftime("%Y-%m-%d %H:%M"), hms(el),
                 hms(0 if final else eta))

    def play(self, op: str, block: int, time: int, kw: dict) -> None:
        if block != self._block:
            self.flush()
            self._block, self._time = block, time
        fn = getattr(self, f"_op_{op}", None)
        if fn is None:
            raise ChainWorldError(f"chain-world cannot play operation {op!r}")
        self._pending.append(lambda: fn(**kw))

    def flush(self) -> None:
        if not self._pending:
            return
        todo, self._pending = self._pending, []
        try:
            with self.pm.block(self._time):
                for f in todo:
                    f()
        except Exception as exc:
            raise ChainWorldError(f"simulated block {self._block} (time {self._time}): {exc}") from exc
        self.txs += len(todo)
        self.progress()

    # -- operations -----------------------------------------------------------------------------------------
    def _via(self, m) -> str:
        """How a wallet's own split/merge/redeem/convert reaches the CTF in this market."""
        if m.v2:
            return "neg_risk_adapter_v2" if m.neg_risk else "ctf_adapter_v2"
        return "neg_risk_adapter" if m.neg_risk else "ctf"

    def _op_prepare(self, m) -> None:
        if m.neg_risk:
            got = self.pm.prepare_neg_risk_market(len(m.conditions), oracle=self.sim.oracle,
                                                  metadata=market_metadata(m.key))
            if got.market_id != m.market_id or got.condition_ids != m.conditions:
                raise ChainWorldError(f"negRisk market {m.key}: the adapter made {got.market_id}, the simulator "
                                      f"{m.market_id}")
            self.markets[m.market_id] = got
        else:
            self.pm.prepare_condition(self.sim.oracle, m.question_ids[0])
        for c in m.conditions:
            self.pm.register(c, neg_risk=m.neg_risk)

    def _op_split(self, w, m, ci, amount) -> None:
        self.pm.split(w, m.conditions[ci], amount, via=self._via(m))

    def _op_merge(self, w, m, ci, amount) -> None:
        self.pm.merge(w, m.conditions[ci], amount, via=self._via(m))

    def _op_transfer(self, frm, to, tok, v) -> None:
        self.pm.transfer(frm, to, tok, v)

    def _op_convert(self, w, m, index_set, amount) -> None:
        self.pm.convert(w, m.market_id, index_set, amount, via=self._via(m))

    def _op_resolve(self, m, questions) -> None:
        if m.neg_risk:
            for i in questions:
                self.pm.resolve_question(self.markets[m.market_id], i, m.payouts[m.conditions[i]][0] == 1)
        else:
            self.pm.resolve(self.sim.oracle, m.question_ids[0], m.payouts[m.conditions[0]])

    def _op_redeem(self, w, m, ci, amounts) -> None:
        self.pm.redeem(w, m.conditions[ci], via=self._via(m), amounts=amounts)

    def _op_fpmm_create(self, m, creator, fee) -> None:
        self.pm.create_fpmm(creator, m.fpmm, m.conditions[0], fee)

    def _op_fpmm_add(self, w, m, funds, hint) -> None:
        self.pm.fpmm_add(w, m.fpmm, funds, hint or ())

    def _op_fpmm_remove(self, w, m, shares) -> None:
        self.pm.fpmm_remove(w, m.fpmm, shares)

    def _op_fpmm_buy(self, w, m, outcome, investment, tokens) -> None:
        self.pm.fpmm_buy(w, m.fpmm, investment, outcome, tokens)

    def _op_fpmm_sell(self, w, m, outcome, returned, tokens) -> None:
        self.pm.fpmm_sell(w, m.fpmm, returned, outcome, tokens)

    def _op_create_proxy(self, owner, proxy) -> None:
        """The owner asks the (emulated) SafeProxyFactory for its Safe: ProxyCreation(proxy, owner)."""
        self.pm._send(owner, contracts()["safe_proxy_factory"].address, calldata("createProxy(address)", proxy),
                      f"SafeProxyFactory.createProxy for {owner}")

    def _op_match(self, m, orders, fee_module, operator_fees) -> None:
        """The simulator's orders (taker first, salts included, so the order hashes agree), each filled whole."""
        t, *ms = [Order(w, tok, Side(side), make, take, bps, salt) for w, tok, side, make, take, bps, salt in orders]
        self.pm.match(m.exchange_key, t, ms, t.maker_amount, [o.maker_amount for o in ms], fee_module=fee_module,
                      operator_fees=operator_fees)


def start_node(params: WorldParams, *, port: int | None = None) -> Anvil:
    """anvil at chain id 137 whose clock starts before the world's first block (set-up blocks fit in between)."""
    return Anvil.start(timestamp=params.start_time - 20 * SETUP_GAP, port=port)


def approve_all(pm: Polymarket, wallets: list[str], time: int) -> None:
    """Every wallet approves every spender: one block per (token, spender), one tx per wallet in it. anvil mines a
    block of many senders far faster than the same transactions as per-sender nonce chains (8 s against 60 s for
    300 wallets)."""
    a = pm.addr
    k = 0
    for spender in pm.spenders():
        calls = [(tok, calldata("approve(address,uint256)", spender, MAX_UINT)) for tok in (a.usdc, a.pusd)]
        if spender != a.ctf:
            calls.append((a.ctf, calldata("setApprovalForAll(address,bool)", spender, True)))
        for to, data in calls:
            with pm.block(time + k):
                for w in wallets:
                    pm._send(w, to, data, f"approve {spender} on {to} for {w}")
            k += 1


def play(params: WorldParams, node: Anvil) -> ChainWorld:
    """Install the contracts, fund and approve the world's wallets, play every operation, read the truth."""
    t = params.start_time - 10 * SETUP_GAP
    log.info("chain-world: installing the contracts on %s", node.url)
    pm = Polymarket.install(node, timestamp=t)
    node.batch([("anvil_setCode", [contracts()["safe_proxy_factory"].address,
                                   artefact("SafeProxyFactory")["deployedBytecode"]])])
    sim = Simulation(params, fee_receiver=OPERATOR)
    wallets = sim.wallets
    log.info("chain-world: funding and approving %d wallets", len(wallets))
    with pm.block(t + SETUP_GAP):
        for w in wallets:
            pm.fund(w, usdc=FUNDING, pusd=FUNDING)
    approve_all(pm, wallets, t + 2 * SETUP_GAP)
    world = ChainWorld(node, pm, sim)
    player = Player(pm, sim)
    sim.player = player
    world.first_block = node.block_number() + 1
    log.info("chain-world: playing %s matched trades on %d markets (seed %d)", f"{params.fills:,}",
             params.markets + params.fpmm_markets, params.seed)
    world.sim_logs = list(sim.logs())  # the fast simulator's own logs of the same world, for the cross-check
    player.flush()
    player.progress(final=True)
    world.last_block = node.block_number()
    world.txs = player.txs
    log.info("chain-world: reading the truth from contract state at block %d", world.last_block)
    world.truth = state_truth(pm, sim, world.last_block)
    return world


def _payouts(pm: Polymarket, conditions: list[str], block: int) -> dict[str, tuple[list[int], int]]:
    """(payout numerators, denominator) per condition, from the CTF's storage; resolved ones only."""
    ctf = pm.addr.ctf
    calls = []
    for c in conditions:
        calls.append(("eth_call", [{"to": ctf, "data": calldata("payoutDenominator(bytes32)", bytes.fromhex(c[2:]))},
                                   hex(block)]))
        for o in range(2):
            calls.append(("eth_call", [{"to": ctf, "data": calldata("payoutNumerators(bytes32,uint256)",
                                                                    bytes.fromhex(c[2:]), o)}, hex(block)]))
    res = [int(r, 16) for r in pm.node.batch(calls)]
    out = {}
    for i, c in enumerate(conditions):
        den, nums = res[3 * i], res[3 * i + 1:3 * i + 3]
        if den:
            out[c] = (nums, den)
    return out


def state_truth(pm: Polymarket, sim: Simulation, block: int) -> dict[str, ChainTruth]:
    """Per world wallet, cash-flow P&L from balances at ``block``: nothing here reads an event."""
    wallets = sorted(sim.wallets)
    conds = [c for m in sim.markets for c in m.conditions]
    toks = {c: (t0, t1) for m in sim.markets for c, (t0, t1) in zip(m.conditions, m.tokens)}
    payouts = _payouts(pm, conds, block)
    px = {(c, o): v for c, o, v in sim.prices()}
    usdc, pusd = pm.balance_of("usdc", wallets, block), pm.balance_of("pusd", wallets, block)
    held = pm.positions(wallets, [t for c in conds for t in toks[c]], block)
    out: dict[str, ChainTruth] = {}
    for w in wallets:
        t = ChainTruth(cash=usdc[w] + pusd[w] - pm.funded[w]["usdc"] - pm.funded[w]["pusd"])
        for c in conds:
            bals = [held.get((w, tok), 0) for tok in toks[c]]
            if not any(bals):
                continue
            if c in payouts:
                nums, den = payouts[c]
                gross = sum(b * n for b, n in zip(bals, nums))
            else:
                den = SCALE
                gross = sum(b * px.get((c, o), 0) for o, b in enumerate(bals))
            t.value += gross // den
        t.total = t.cash + t.value
        if t.total or t.cash or t.value:
            out[w] = t
    return out


# ---- files -----------------------------------------------------------------------------------------------------

def node_logs(node: Anvil, first: int, last: int) -> list[dict]:
    """Every log of the protocol contracts in [first, last], as the node returns it, with blockTimestamp; and the
    FPMMs' events, by topic from any address (their addresses come from the factory's logs)."""
    from harness.chain.events import any_address_events

    addrs = sorted({c.address for c in contracts().values() if c.role != "zero"})
    logs: list[dict] = []
    for lo in range(first, last + 1, LOG_CHUNK_BLOCKS):
        hi = min(last, lo + LOG_CHUNK_BLOCKS - 1)
        logs += node.call("eth_getLogs", {"fromBlock": hex(lo), "toBlock": hex(hi), "address": addrs})
        fpmm = node.call("eth_getLogs", {"fromBlock": hex(lo), "toBlock": hex(hi),
                                         "topics": [sorted(any_address_events())]})
        if fpmm:
            logs = sorted(logs + fpmm, key=lambda x: (int(x["blockNumber"], 16), int(x["logIndex"], 16)))
    missing = sorted({int(x["blockNumber"], 16) for x in logs if "blockTimestamp" not in x})
    if missing:
        blocks = node.batch([("eth_getBlockByNumber", [hex(b), False]) for b in missing])
        times = {b: blk["timestamp"] for b, blk in zip(missing, blocks)}
        for x in logs:
            x.setdefault("blockTimestamp", times.get(int(x["blockNumber"], 16)))
    return logs


def write(world: ChainWorld, out: str | Path) -> dict:
    """The world directory in the file-world format (logs.jsonl.gz, prices.csv, truth.json, wallets.yaml,
    world.json), logs straight from the node, truth from balances."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    log.info("chain-world: reading the node's logs of blocks %d..%d", world.first_block, world.last_block)
    logs = node_logs(world.node, world.first_block, world.last_block)
    files.write_logs(out / files.LOGS_FILE, logs, compresslevel=6)
    sim = world.sim
    files.write_prices(out / files.PRICES_FILE, sim.prices())
    truth = world.truth
    (out / "truth.json").write_text(json.dumps({
        "definition": "cash-flow P&L from contract state at the last block: collateral now - funded + "
                      "sum over conditions of floor(shares x payout / denominator) (open: x mark price / 1e6); "
                      "micro-USDC ints; no event was read",
        "seed": sim.p.seed, "block": world.last_block, "operator": OPERATOR,
        "not_compared": {OPERATOR: "the exchanges' operator: a protocol account (contracts.yaml role operator), "
                                   "no P&L row; its collateral fees are ERC20 transfers, which no table reads"},
        "wallets": {w: asdict(t) for w, t in sorted(truth.items())}}, indent=1, sort_keys=True) + "\n",
        encoding="utf-8")
    lines = [f"# Reference wallets of the chain-world (seed {sim.p.seed}): targets are contract-state truth",
             "wallets:"]
    ranked = sorted(truth.items(), key=lambda kv: (-kv[1].total, kv[0]))
    picks = ranked[:3] + ranked[-3:] if len(ranked) > 6 else ranked
    times = [int(x["blockTimestamp"], 16) for x in logs[-1:]]
    as_of = times[0] if times else sim.time
    for i, (w, t) in enumerate(picks):
        lines += [f"  - name: chain_{i}", f"    address: \"{w}\"", f"    target_usd: \"{micros_to_decimal(t.total)}\"",
                  "    tolerance_pct: 0", "    expected_bias_pct: 0", "    metric: total",
                  f"    source: \"contract state (balanceOf/balanceOfBatch), chain-world seed {sim.p.seed}\"",
                  f"    as_of: \"{_date(as_of)}\"", "    level: must"]
    (out / "wallets.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    meta = sim.meta()
    meta.update({"source": "chain-world", "block_range": [world.first_block, world.last_block],
                 "logs": len(logs), "txs": world.txs, "wallets_with_pnl": len(truth),
                 "sum_total_pnl": sum(t.total for t in truth.values())})
    files.write_meta(out, meta)
    return meta


def _date(ts: int) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d")


# ---- command line --------------------------------------------------------------------------------------------


# ---- the fast simulator against the contracts ----------------------------------------------------------------

#: Columns that name where and when a log was, not what it says: left out when comparing two runs of one world.
PLACE_COLUMNS = ("tx_hash", "log_index", "block_number", "block_time", "_version", "_deleted")


def decoded_rows(logs) -> list[tuple[str, tuple]]:
    """Every decoded row in chain order as (table, row without PLACE_COLUMNS), the form two runs are compared in."""
    from harness.chain.decode import COLUMNS, Decoded, Decoder

    out: list[tuple[str, tuple]] = []
    dec = Decoder()
    for log in sorted(logs, key=lambda x: (int(x["blockNumber"], 16) if isinstance(x["blockNumber"], str)
                                           else x["blockNumber"],
                                           int(x["logIndex"], 16) if isinstance(x["logIndex"], str)
                                           else x["logIndex"])):
        d = dec.feed([log], Decoded())
        for table, rows in d.rows.items():
            if table == "token_map":
                continue
            keep = [i for i, c in enumerate(COLUMNS[table]) if c not in PLACE_COLUMNS]
            out += [(table, tuple(r[i] for i in keep)) for r in rows]
    return out


def first_differences(a: list, b: list, n: int = 5) -> list[str]:
    """Where two row sequences part: up to ``n`` positions with both sides (for a readable failure)."""
    out = []
    for i in range(max(len(a), len(b))):
        x, y = (a[i] if i < len(a) else None), (b[i] if i < len(b) else None)
        if x != y:
            out.append(f"row {i}: simulator {x} | contracts {y}")
            if len(out) >= n:
                break
    return out
