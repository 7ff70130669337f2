"""Reconcile warehouse positions with contract state: net shares per (wallet, position id) at block N against
``balanceOfBatch`` on the ConditionalTokens contract of a node at the same block.

Why: the SQL build, the Python oracle and the simulator are three readings of the same events; they can agree and
all be wrong. The contract's own balances are not a reading of events, so a missing or doubled transfer, a
mis-decoded id or a reorg left unretracted shows up here as a (wallet, token) whose numbers differ. Only the
wallets asked for (or a seeded sample) are read, so the check stays bounded on a production-size warehouse.
Past blocks need an archive node; a node that has pruned the state says so and the error says it plainly.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from eth_abi import decode as abi_decode
from eth_abi import encode as abi_encode
from eth_hash.auto import keccak

from harness.config import contracts
from harness.errors import HarnessError
from harness.warehouse import sql

#: balanceOfBatch(address[],uint256[]) selector.
BALANCE_OF_BATCH = keccak(b"balanceOfBatch(address[],uint256[])")[:4]
#: (owner, id) pairs per eth_call, and eth_calls per JSON-RPC batch request.
PAIRS_PER_CALL = 400
CALLS_PER_BATCH = 20
_PRUNED = ("missing trie node", "state not available", "pruned", "historical state", "header not found",
           "state is not available", "not archive", "unknown block", "distance to target block exceeds")


class ReconcileError(HarnessError):
    """The node could not answer (e.g. no archive state at that block) or the input is unusable (exit 2)."""


@dataclass(frozen=True)
class Mismatch:
    wallet: str
    token_id: int
    condition_id: str
    outcome_index: int
    warehouse: int
    chain: int

    def __str__(self) -> str:
        return (f"{self.wallet} token {self.token_id} (condition {self.condition_id} outcome {self.outcome_index}): "
                f"warehouse {self.warehouse} chain {self.chain}")


@dataclass
class ReconcileResult:
    block: int
    wallets: list[str] = field(default_factory=list)
    positions: int = 0  # (wallet, token) pairs compared
    mismatches: list[Mismatch] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.mismatches

    def __str__(self) -> str:
        head = (f"reconcile at block {self.block}: {len(self.wallets)} wallets, {self.positions} positions, "
                f"{len(self.mismatches)} mismatches")
        if not self.mismatches:
            return head
        rows = ["wallet | token | condition | outcome | warehouse | chain"]
        rows += [f"{m.wallet} | {m.token_id} | {m.condition_id} | {m.outcome_index} | {m.warehouse} | {m.chain}"
                 for m in self.mismatches]
        return head + "\n" + "\n".join(rows)


def _norm_wallet(w: str) -> str:
    s = w.strip().lower()
    if len(s) != 42 or not s.startswith("0x") or any(c not in "0123456789abcdef" for c in s[2:]):
        raise ReconcileError(f"wallet {w!r} is not a 0x-prefixed 20-byte hex address")
    return s


def sample_wallets(client, k: int, *, seed: int = 0) -> list[str]:
    """``k`` wallets drawn repeatably (by seed) from those with a position row."""
    if k <= 0:
        return []
    rows = client.query(sql.load("reconcile/sample_wallets"), parameters={"k": int(k), "seed": int(seed)})
    return [r[0] for r in rows.result_rows]


def warehouse_balances(client, wallets: Sequence[str], block: int) -> dict[tuple[str, int], int]:
    """Net shares per (wallet, token) from raw ERC1155 transfers at or below ``block``."""
    if not wallets:
        return {}
    rows = client.query(sql.load("reconcile/wallet_balances"),
                        parameters={"wallets": list(wallets), "block": int(block)}).result_rows
    return {(w, int(t)): int(b) for w, t, b in rows}


def _siblings(client, tokens: Iterable[int]) -> dict[int, tuple[str, int]]:
    toks = sorted(set(tokens))
    if not toks:
        return {}
    rows = client.query(sql.load("reconcile/sibling_tokens"), parameters={"tokens": toks}).result_rows
    return {int(t): (c, int(o)) for t, c, o in rows}


def _condition_tokens(client, conditions: set[str]) -> list[int]:
    if not conditions:
        return []
    rows = client.query(sql.load("reconcile/condition_tokens"),
                        parameters={"conditions": sorted(conditions)}).result_rows
    return [int(r[0]) for r in rows]


def _encode_call(owners: Sequence[str], ids: Sequence[int]) -> str:
    return "0x" + (BALANCE_OF_BATCH + abi_encode(["address[]", "uint256[]"], [list(owners), list(ids)])).hex()


def chain_balances(batch: Callable[[list[tuple[str, list]]], list], ctf: str, pairs: Sequence[tuple[str, int]],
                   block: int) -> dict[tuple[str, int], int]:
    """balanceOfBatch for every (owner, id) pair at ``block``, through ``batch`` (an RpcClient.batch)."""
    out: dict[tuple[str, int], int] = {}
    chunks = [pairs[i:i + PAIRS_PER_CALL] for i in range(0, len(pairs), PAIRS_PER_CALL)]
    for j in range(0, len(chunks), CALLS_PER_BATCH):
        group = chunks[j:j + CALLS_PER_BATCH]
        calls = [("eth_call", [{"to": ctf, "data": _encode_call([o for o, _ in c], [t for _, t in c])}, hex(block)])
                 for c in group]
        try:
            results = batch(calls)
        except Exception as exc:  # the RPC layer already retried transient faults
            msg = str(exc)
            if any(p in msg.lower() for p in _PRUNED):
                raise ReconcileError(f"the node has no state at block {block} ({msg[:200]}); reconciling a past "
                                     "block needs an archive node") from exc
            raise ReconcileError(f"balanceOfBatch at block {block} failed: {msg[:300]}") from exc
        for c, res in zip(group, results):
            raw = bytes.fromhex(res[2:] if isinstance(res, str) and res.startswith("0x") else str(res))
            try:
                (values,) = abi_decode(["uint256[]"], raw)
            except Exception as exc:
                raise ReconcileError(f"balanceOfBatch at block {block} returned {len(raw)} bytes that are not a "
                                     f"uint256[]: is {ctf} the ConditionalTokens contract on this node?") from exc
            if len(values) != len(c):
                raise ReconcileError(f"balanceOfBatch returned {len(values)} balances for {len(c)} pairs")
            out.update({pair: int(v) for pair, v in zip(c, values)})
    return out


def reconcile(client, batch: Callable[[list[tuple[str, list]]], list], *, block: int,
              wallets: Sequence[str] = (), sample: int = 0, seed: int = 0,
              ctf: str | None = None) -> ReconcileResult:
    """Compare the warehouse with the node for ``wallets`` plus ``sample`` seeded wallets at ``block``."""
    if block < 0:
        raise ReconcileError(f"block={block} must not be negative")
    chosen = list(dict.fromkeys([_norm_wallet(w) for w in wallets] + sample_wallets(client, sample, seed=seed)))
    res = ReconcileResult(block=int(block), wallets=chosen)
    if not chosen:
        return res
    wh = warehouse_balances(client, chosen, block)
    claimed = client.query(sql.load("reconcile/wallet_conditions"),
                           parameters={"wallets": chosen, "block": int(block)}).result_rows
    tokens = _siblings(client, {t for _, t in wh} | set(_condition_tokens(client, {c for _, c in claimed})))
    touched: dict[str, set[str]] = {}
    for (w, t) in wh:
        if t in tokens:
            touched.setdefault(w, set()).add(tokens[t][0])
    for w, c in claimed:  # fills and CTF actions name conditions even when their transfers are missing
        touched.setdefault(w, set()).add(c)
    by_cond: dict[str, list[int]] = {}
    for t, (c, _o) in tokens.items():
        by_cond.setdefault(c, []).append(t)
    touched = {w: {c for c in cs if c in by_cond} for w, cs in touched.items()}
    pairs = {(w, t) for w, conds in touched.items() for c in conds for t in by_cond[c]}
    pairs |= set(wh)  # a token missing from token_map is still compared on its own
    # A chosen wallet with no rows at all is checked on every token the others touched (a wallet whose transfers
    # were all lost would otherwise never be compared); bounded by the chosen wallets' own conditions.
    seen = touched.keys() | {w for w, _ in wh}
    empty = [w for w in chosen if w not in seen]
    everyone = sorted({t for _, t in pairs})
    pairs = sorted(pairs | {(w, t) for w in empty for t in everyone})
    chain = chain_balances(batch, ctf or contracts()["ctf"].address, pairs, block)
    res.positions = len(pairs)
    for w, t in pairs:
        a, b = wh.get((w, t), 0), chain[(w, t)]
        if a != b:
            c, o = tokens.get(t, ("?", -1))
            res.mismatches.append(Mismatch(w, t, c, o, a, b))
    return res


#: Wallets the validate stage draws from the warehouse besides the reference wallets (bounded at any size).
DEFAULT_SAMPLE = 200


def reconcile_gate(client, rpc_url: str, wallets: Sequence[str], *, sample: int = DEFAULT_SAMPLE,
                   seed: int = 0) -> ReconcileResult:
    """The validate stage's check when a node is given: the reference wallets plus a seeded sample, at the
    warehouse's watermark (the highest block ingested)."""
    from harness.chain.rpc import RpcClient
    from harness.gates import watermark

    return reconcile(client, RpcClient(rpc_url).batch, block=watermark(client).block, wallets=wallets,
                     sample=sample, seed=seed)


# ---- command line --------------------------------------------------------------------------------------------
