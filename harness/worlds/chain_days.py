"""chain-world in daily instalments: the seeded world played on anvil one simulated day at a time.

Why: production is a loop (each day a sync, the checks and a deploy on data that grew since yesterday), and only a
loop shows that the gates, the sync and the deployed views hold day after day. ``DailyWorld`` plays the same
operations as ``chain_world.play`` (trades, splits, merges, conversions, resolutions, redemptions) but spreads the
world's blocks over ``days`` days of chain time and mines one day per ``play_day`` call, then ``confirmations``
empty blocks, so the day's last block is final for a sync that stays that far behind the head. ``truth`` reads
contract state at a block (balances, payouts) as ``chain_world.state_truth`` does; an open condition is marked at
the price of the last match this player sent on it (what the warehouse marks to without imported prices), read
from the orders sent, never from an event.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

from harness.chain.contracts.abi import calldata
from harness.chain.contracts.artefacts import artefact
from harness.chain.contracts.exchange import OPERATOR
from harness.chain.contracts.polymarket import Polymarket
from harness.chain.node import Anvil
from harness.config import contracts
from harness.worlds.chain_world import FUNDING, SETUP_GAP, ChainWorldError, Player, approve_all
from harness.worlds.model import SCALE, WorldParams
from harness.worlds.simulate import Simulation

DAY = 86_400
#: Chain time left quiet at each end of a day (the day's operations fall between).
DAY_MARGIN = 3_600


@dataclass
class Day:
    """What one ``play_day`` mined: activity blocks first..last (0, 0 when the day had none), then the tail."""

    index: int
    first_block: int
    last_block: int
    head: int
    end_time: int  # unix time of the day's last block (the tail's last)
    blocks: int  # activity blocks mined


class DayPlayer(Player):
    """A Player that mines nothing by itself: blocks queue until ``mine_until`` takes the ones of a day, and each
    simulated block is played at the chain time ``clock`` gives it."""

    def __init__(self, pm: Polymarket, sim: Simulation, clock: Callable[[int], int]) -> None:
        super().__init__(pm, sim)
        self.clock = clock
        self.queue: list[tuple[int, int, list[Callable[[], object]]]] = []  # (sim block, chain time, ops)
        self.marks: dict[str, tuple[int, int]] = {}  # condition -> (outcome, price micros) of the last match sent
        self.last_ops: list[Callable[[], object]] = []
        self.last_time = 0

    def play(self, op: str, block: int, time: int, kw: dict) -> None:
        fn = getattr(self, f"_op_{op}", None)
        if fn is None:
            raise ChainWorldError(f"chain-world cannot play operation {op!r}")
        if not self.queue or self.queue[-1][0] != block:
            self.queue.append((block, self.clock(block), []))
        self.queue[-1][2].append(lambda: fn(**kw))

    def mine_block(self, time: int, ops: list[Callable[[], object]], *, snapshot: bool = False) -> str | None:
        """Mine ``ops`` in one block at ``time``; with ``snapshot``, the node's state before it (for a reorg)."""
        snap = self.pm.node.snapshot() if snapshot else None
        try:
            with self.pm.block(time):
                for f in ops:
                    f()
        except Exception as exc:
            raise ChainWorldError(f"block at time {time}: {exc}") from exc
        self.txs += len(ops)
        self.last_ops, self.last_time = ops, time
        return snap

    def _op_match(self, m, orders, fee_module, operator_fees) -> None:
        super()._op_match(m, orders, fee_module, operator_fees)
        _w, tok, side, make, take, _bps, _salt = orders[0]  # the taker's order prices the match
        shares, usdc = (take, make) if int(side) == 0 else (make, take)  # side 0 = BUY: pays collateral
        cond, outcome = self.sim.tmap[tok]
        self.marks[cond] = (outcome, min(usdc * SCALE // shares, SCALE) if shares else 0)


class DailyWorld:
    """The world of ``params`` played over ``days`` days on ``node`` (started with ``chain_world.start_node``)."""

    def __init__(self, params: WorldParams, days: int, node: Anvil, *, confirmations: int = 64,
                 history_pct: int = 30) -> None:
        """``history_pct`` of the world's blocks fall on day 1 (the history a first backfill finds: some markets
        already resolved); the other days share the rest evenly."""
        if days < 1 or not 0 < history_pct <= 100:
            raise ValueError(f"days={days} must be 1 or more and history_pct={history_pct} in 1..100")
        # the daily world times blocks itself (``clock`` below): the simulator's own span (35 days of block gaps
        # between trades) would only skew which simulated blocks fall on which day
        params = replace(params, span_days=0)
        self.p, self.days, self.node, self.confirmations = params, days, node, confirmations
        dry = Simulation(params, fee_receiver=OPERATOR)  # the same seeded world, once, to learn its length
        for _ in dry.logs():
            pass
        self.sim_first, span = dry.first_block, max(dry.last_block - dry.first_block + 1, 1)
        self.t0 = params.start_time
        head = span * (history_pct if days > 1 else 100) // 100 or 1
        rest = max(span - head, 1)
        usable = DAY - 2 * DAY_MARGIN

        def clock(b: int) -> int:
            """Each simulated block to a chain time: day 1 holds the history, the other days their share, in order."""
            i = b - self.sim_first
            if i < head:
                day, pos = 0, i * usable // head
            else:
                j = (i - head) * (days - 1)
                day, pos = 1 + j // rest, (j % rest) * usable // rest
            return self.t0 + day * DAY + DAY_MARGIN + pos

        self.clock = clock
        t = params.start_time - 10 * SETUP_GAP
        self.pm = pm = Polymarket.install(node, timestamp=t)
        node.batch([("anvil_setCode", [contracts()["safe_proxy_factory"].address,
                                       artefact("SafeProxyFactory")["deployedBytecode"]])])
        self.sim = Simulation(params, fee_receiver=OPERATOR)
        with pm.block(t + SETUP_GAP):
            for w in self.sim.wallets:
                pm.fund(w, usdc=FUNDING, pusd=FUNDING)
        approve_all(pm, self.sim.wallets, t + 2 * SETUP_GAP)
        self.player = DayPlayer(pm, self.sim, self.clock)
        self.sim.player = self.player
        self._gen = self.sim.logs()
        self._done = False
        self.played: list[Day] = []
        self._reorg: tuple[str, int, list] | None = None  # (snapshot before the last activity block, time, ops)

    def day_end(self, d: int) -> int:
        """Chain time at which day ``d`` (0-based) ends."""
        return self.t0 + (d + 1) * DAY

    def play_day(self) -> Day:
        """Mine the next day's blocks (each at its own time), then the confirmation tail; what was mined."""
        d = len(self.played)
        if d >= self.days:
            raise ChainWorldError(f"all {self.days} days are played")
        end = self.day_end(d)
        q = self.player.queue
        while not self._done and (not q or q[-1][1] < end):
            try:
                next(self._gen)
            except StopIteration:
                self._done = True
        todo = [b for b in q if b[1] < end]
        del q[:len(todo)]
        first = last = 0
        for i, (_b, time, ops) in enumerate(todo):
            snap = self.player.mine_block(time, ops, snapshot=i == len(todo) - 1)
            last = self.node.block_number()
            first = first or last
            if snap is not None:
                self._reorg = (snap, time, ops)
        tail_start = (self.player.last_time if todo else end - DAY + DAY_MARGIN) + 2
        head = self.mine_tail(tail_start)
        day = Day(d, first, last, head, tail_start + 2 * (self.confirmations - 1), len(todo))
        self.played.append(day)
        return day

    def mine_tail(self, start: int) -> int:
        """``confirmations`` empty blocks, 2 s apart from ``start``: the day's last activity block becomes final."""
        if self.confirmations:
            self.node.call("evm_setNextBlockTimestamp", hex(start))
            self.node.call("anvil_mine", hex(self.confirmations), hex(2))
        return self.node.block_number()

    def reorg_last_block(self) -> Day:
        """Replace the last played day's last activity block and tail with different blocks: an empty block in its
        place, then its transactions one block later behind an extra harmless one (so every log moves to another
        block and log index), then a new tail. Contract state after it equals the state before."""
        if self._reorg is None:
            raise ChainWorldError("no activity block to reorg yet")
        snap, time, ops = self._reorg
        self.node.revert(snap)
        self.pm._nonces.clear()  # the reverted transactions' nonces are free again
        self.node.mine(time)
        w = self.sim.wallets[0]
        harmless = lambda: self.pm._send(w, self.pm.addr.ctf, calldata("setApprovalForAll(address,bool)",
                                                                      OPERATOR, True), "reorg: harmless approval")
        self._reorg = None
        self.player.mine_block(time + 1, [harmless, *ops])
        last = self.node.block_number()
        head = self.mine_tail(time + 3)
        old = self.played[-1]
        self.played[-1] = Day(old.index, old.first_block, last, head, time + 3 + 2 * (self.confirmations - 1),
                              old.blocks + 1)
        return self.played[-1]

    def truth(self, block: int | None = None) -> dict[str, int]:
        """Per world wallet, total cash-flow P&L in micro-USDC from contract state at ``block`` (default: head)."""
        from harness.worlds.chain_world import _payouts

        block = self.node.block_number() if block is None else block
        pm, sim = self.pm, self.sim
        wallets = sorted(sim.wallets)
        conds = [c for m in sim.markets for c in m.conditions]
        toks = {c: (t0, t1) for m in sim.markets for c, (t0, t1) in zip(m.conditions, m.tokens)}
        payouts = _payouts(pm, conds, block)
        usdc, pusd = pm.balance_of("usdc", wallets, block), pm.balance_of("pusd", wallets, block)
        held = pm.positions(wallets, [t for c in conds for t in toks[c]], block)
        out: dict[str, int] = {}
        for w in wallets:
            total = usdc[w] + pusd[w] - pm.funded[w]["usdc"] - pm.funded[w]["pusd"]
            for c in conds:
                bals = [held.get((w, tok), 0) for tok in toks[c]]
                if not any(bals):
                    continue
                if c in payouts:
                    nums, den = payouts[c]
                    total += sum(b * n for b, n in zip(bals, nums)) // den
                elif c in self.player.marks:
                    o, px = self.player.marks[c]
                    prices = (px, SCALE - px) if o == 0 else (SCALE - px, px)
                    total += sum(b * q for b, q in zip(bals, prices)) // SCALE
            if total:
                out[w] = total
        return out

    def reference_wallets(self, truth: dict[str, int], as_of: int, n: int = 3) -> str:
        """A wallets.yaml naming the ``n`` best and worst wallets with their truth as target, at ``as_of``."""
        from harness.pnl.money import micros_to_decimal

        ranked = sorted(truth.items(), key=lambda kv: (-kv[1], kv[0]))
        picks = ranked[:n] + ranked[-n:] if len(ranked) > 2 * n else ranked
        lines = [f"# chain-world (seed {self.p.seed}) day {len(self.played)}: targets are contract-state truth",
                 "wallets:"]
        for i, (w, total) in enumerate(picks):
            lines += [f"  - name: day_{i}", f"    address: \"{w}\"", f"    target_usd: \"{micros_to_decimal(total)}\"",
                      "    tolerance_pct: 0", "    expected_bias_pct: 0", "    metric: total",
                      "    source: \"contract state (balanceOf/balanceOfBatch)\"", f"    as_of: \"{as_of}\"",
                      "    level: must"]
        return "\n".join(lines) + "\n"


@dataclass
class DayReport:
    """One day of the operation: what ran, how it ended, and whether the deployed views equal the chain."""

    day: int
    runs: list[tuple[str, int, float]] = field(default_factory=list)  # (stages, exit code, seconds)
    fault: str = ""
    wallets: int = 0
    equal: int = 0
    differ: list[str] = field(default_factory=list)
    freshness: str = ""
    freshness_why: str = ""  # freshness's reasons when it is not ok
    seconds: float = 0.0
    head: int = 0

    @property
    def exit_code(self) -> int:
        return self.runs[-1][1] if self.runs else -1

    def line(self) -> str:
        runs = ", ".join(f"{s} exit {c} ({t:.0f} s)" for s, c, t in self.runs) or "no run (missed day)"
        return (f"day {self.day:>2} {self.fault or '-':<22} {runs}; wallets equal {self.equal}/{self.wallets}; "
                f"freshness {self.freshness or '-'}{f' ({self.freshness_why})' if self.freshness_why else ''}; "
                f"{self.seconds:.0f} s")


# ---- the daily operation: `python -m harness run` each day against a warehouse standing in for production ------

@dataclass(frozen=True)
class Target:
    """Where the daily runs go: ``prod`` (a ClickHouse server: CLICKHOUSE_URL/USER/PASSWORD/DATABASE in ``env``,
    what production runs) or ``embedded`` (a chDB directory in HARNESS_WAREHOUSE_DIR, deploy with the test-only
    stand-in). The operation is the same; only these arguments differ."""

    kind: str
    database: str
    env: dict[str, str] = field(repr=False, default_factory=dict)

    def run_args(self) -> list[str]:
        return ["--target", self.kind] + (["--database", self.database] if self.kind == "embedded" else [])


#: Run in a child process (chDB lets one process open a directory): the deployed totals and freshness at a time.
_READ = """
import json, os, sys
from harness.gates.freshness import check
from harness.warehouse import connect, resolve_settings
db, now, stmt = sys.argv[1], int(sys.argv[2]), sys.argv[3]
c = connect(resolve_settings(database=db, env=os.environ), create_database=False)
if stmt:
    c.command(stmt, settings={"mutations_sync": 2})
    print(json.dumps({})); sys.exit(0)
f = check(c, warn_after=26 * 3600, error_after=50 * 3600, now=now)
deployed = c.query("EXISTS TABLE wallet_pnl_summary_final").result_rows[0][0]
rows = c.query("SELECT wallet, toString(total_pnl) FROM wallet_pnl_summary_final").result_rows if deployed else []
print(json.dumps({"freshness": f.status, "reasons": f.reasons, "totals": {w: int(t) for w, t in rows}}))
"""


class Operation:
    """Day after day: play the day on the node, run the stages as production does, compare with the chain.

    ``rpc_url`` is the node (anvil); ``reports`` where run reports and the day's wallets files go. Each day's
    result is a DayReport; nothing here raises on a failed day (the caller asserts what it expects).
    """

    def __init__(self, world: DailyWorld, target: Target, reports, *, notify_url: str | None = None,
                 timeout: float = 900) -> None:
        from pathlib import Path

        self.world, self.target, self.reports = world, target, Path(reports)
        self.reports.mkdir(parents=True, exist_ok=True)
        self.notify_url, self.timeout = notify_url, timeout
        self.ran_backfill = False

    # -- one run of `python -m harness run` -----------------------------------------------------------------
    def run(self, stages: str, rpc_url: str, *, notify_url: str | None = None,
            kill: Callable[[], bool] | None = None) -> tuple[int, float]:
        """(exit code, seconds) of one `run`; with ``kill``, SIGKILL its process group once ``kill()`` is true."""
        import os
        import signal
        import subprocess
        import sys
        import time

        from harness.config import PROJECT_ROOT

        day = len(self.world.played)
        wallets = self.reports / f"wallets-day{day:02d}.yaml"
        argv = [sys.executable, "-m", "harness", "run", *self.target.run_args(), "--stages", stages,
                "--rpc-url", rpc_url, "--reports", str(self.reports)]
        url = notify_url if notify_url is not None else self.notify_url
        if url:
            argv += ["--notify-url", url]
        argv += ["--", "--wallets", str(wallets), "--since", "26h"]
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("CLICKHOUSE_", "PYTEST_", "HARNESS_RUN_ID", "HARNESS_WAREHOUSE_DIR"))}
        env.update(self.target.env)
        t0 = time.monotonic()
        with open(self.reports / f"day{day:02d}-{stages.replace('..', '-')}.log", "ab") as out:
            proc = subprocess.Popen(argv, cwd=PROJECT_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                    start_new_session=True)
            try:
                if kill is not None:
                    while proc.poll() is None and not kill():
                        time.sleep(0.05)
                    if proc.poll() is None:
                        os.killpg(proc.pid, signal.SIGKILL)
                rc = proc.wait(timeout=self.timeout)
            except BaseException:
                if proc.poll() is None:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()
                raise
        return rc, time.monotonic() - t0

    def _child(self, now: int, stmt: str = "") -> dict:
        import json
        import os
        import subprocess
        import sys

        from harness.config import PROJECT_ROOT

        env = {k: v for k, v in os.environ.items() if not k.startswith(("CLICKHOUSE_", "HARNESS_WAREHOUSE_DIR"))}
        env.update(self.target.env)
        done = subprocess.run([sys.executable, "-c", _READ, self.target.database, str(now), stmt], cwd=PROJECT_ROOT,
                              env=env, capture_output=True, text=True, timeout=300, check=False)
        if done.returncode != 0:
            raise ChainWorldError(f"reading the warehouse failed: {done.stderr.strip().splitlines()[-1:]}")
        return json.loads(done.stdout.strip().splitlines()[-1])

    def edit_by_hand(self, stmt: str) -> None:
        """A statement run on the warehouse outside every harness command (what an operator's hand edit is)."""
        self._child(0, stmt)

    # -- one day --------------------------------------------------------------------------------------------
    def day(self, rpc_url: str, *, fault: str = "", run: bool = True, notify_url: str | None = None,
            kill: Callable[[], bool] | None = None, mend: bool = False,
            before_run: Callable[[], None] | None = None) -> DayReport:
        """Play the next day, then (unless ``run`` is false: a missed day) run the daily stages; with ``mend``, a
        refused run is followed by the documented mend, ``run --stages backfill..deploy``. Then compare every
        wallet of the deployed views with contract-state truth at the day's last block, and check freshness."""
        import time

        t0 = time.monotonic()
        played = self.world.play_day()
        rep = DayReport(played.index + 1, fault=fault, head=played.head)
        truth = self.world.truth(played.head)
        (self.reports / f"wallets-day{rep.day:02d}.yaml").write_text(
            self.world.reference_wallets(truth, played.end_time), encoding="utf-8")
        if before_run is not None:
            before_run()
        if run:
            stages = "sync..deploy" if self.ran_backfill else "backfill..deploy"
            rc, secs = self.run(stages, rpc_url, notify_url=notify_url, kill=kill)
            rep.runs.append((stages, rc, secs))
            if rc == 0 and stages.startswith("backfill"):
                self.ran_backfill = True
            if mend and rc == 3:
                rc, secs = self.run("backfill..deploy", self.world.node.url, notify_url=notify_url)
                rep.runs.append(("backfill..deploy", rc, secs))
        self.compare(rep, truth, played.end_time + 1800)
        rep.seconds = time.monotonic() - t0
        return rep

    def compare(self, rep: DayReport, truth: dict[str, int], now: int) -> None:
        """Every wallet of the deployed views against the truth (the exchanges' fee receiver aside: its fees
        arrive as ERC20 transfers no table reads), and freshness as of ``now``."""
        got = self._child(now)
        rep.freshness = got["freshness"]
        rep.freshness_why = "; ".join(got.get("reasons") or [])[:300] if rep.freshness != "ok" else ""
        totals = {w: t for w, t in got["totals"].items() if w != OPERATOR.lower()}
        every = sorted(set(truth) | set(totals))
        rep.wallets = len(every)
        rep.differ = [f"{w}: views {totals.get(w, 0)}, chain {truth.get(w, 0)}" for w in every
                      if totals.get(w, 0) != truth.get(w, 0)]
        rep.equal = rep.wallets - len(rep.differ)
