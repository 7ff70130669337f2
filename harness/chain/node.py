"""A local anvil node that replays recorded logs as real transactions, for tests and benchmarks.

Why: ingestion must be exercised against a real JSON-RPC node (real getLogs, real block timestamps, real
reorgs), not a mock. Every Polymarket contract address gets the same tiny hand-assembled "emitter" contract;
one transaction carries a packed list of log records and the contracts emit them in order (forwarding a record
to the contract whose address it names), so a replayed transaction has the same logs, addresses and order as
the recorded one. Usable without pytest: ``with Anvil.start() as node: node.replay(logs)``.
"""
from __future__ import annotations

import itertools
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
import weakref
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Self

import requests

from harness.config import PROJECT_ROOT
from harness.errors import HarnessError

ANVIL_REL = Path(".tools/node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil")
#: anvil's first dev account (unlocked, funded): the sender of every replayed transaction.
DEV_ACCOUNT = "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266"
TX_GAS = 15_000_000  # under the 2**24 per-transaction cap of recent hardforks


class NodeError(HarnessError, RuntimeError):
    """anvil is missing, would not start, or rejected a call (the message names which)."""


def find_anvil() -> Path | None:
    """The anvil binary: $ANVIL_BIN, the project's .tools install (scripts/setup.sh), or PATH."""
    env = os.environ.get("ANVIL_BIN")
    for cand in (Path(env) if env else None, PROJECT_ROOT / ANVIL_REL):
        if cand and cand.is_file() and os.access(cand, os.X_OK):
            return cand
    found = shutil.which("anvil")
    return Path(found) if found else None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- the emitter contract ---------------------------------------------------------------------------------------
# Calldata is a packed list of records: target address (20 bytes) | topic count n (1) | data length L (2) |
# n topics (32 each) | data (L). A record whose target is this contract is emitted with LOGn; any other is
# forwarded with CALL to its target (which runs the same code), so one transaction emits logs from several
# addresses in recorded order.

_OPS = {
    "STOP": 0x00, "ADD": 0x01, "SUB": 0x03, "GT": 0x11, "EQ": 0x14, "ISZERO": 0x15, "AND": 0x16, "SHL": 0x1B,
    "SHR": 0x1C, "ADDRESS": 0x30, "CALLDATALOAD": 0x35, "CALLDATASIZE": 0x36, "CALLDATACOPY": 0x37, "POP": 0x50,
    "JUMP": 0x56, "JUMPI": 0x57, "GAS": 0x5A, "JUMPDEST": 0x5B, "CALL": 0xF1, "REVERT": 0xFD,
}
_OPS.update({f"DUP{i}": 0x7F + i for i in range(1, 17)})
_OPS.update({f"SWAP{i}": 0x8F + i for i in range(1, 17)})
_OPS.update({f"LOG{i}": 0xA0 + i for i in range(5)})


def _assemble(program: list) -> bytes:
    """Two passes: ops are names, ("push", value, size), ("label", name), ("to", name) = PUSH2 label."""
    def size(item) -> int:
        if isinstance(item, str):
            return 1
        return {"push": 1 + item[2] if item[0] == "push" else 0, "label": 1, "to": 3}[item[0]]

    labels, pc = {}, 0
    for item in program:
        if not isinstance(item, str) and item[0] == "label":
            labels[item[1]] = pc
        pc += size(item)
    out = bytearray()
    for item in program:
        if isinstance(item, str):
            out.append(_OPS[item])
        elif item[0] == "push":
            out.append(0x5F + item[2])
            out += item[1].to_bytes(item[2], "big")
        elif item[0] == "label":
            out.append(_OPS["JUMPDEST"])
        else:
            out.append(0x61)
            out += labels[item[1]].to_bytes(2, "big")
    return bytes(out)


def _p(v: int, n: int = 1):
    return ("push", v, n)


def _emitter_program() -> list:
    # stack comments: bottom ... top
    prog = [
        _p(0),                                                    # [ptr]
        ("label", "loop"), "DUP1", "CALLDATASIZE", "GT", ("to", "body"), "JUMPI", "STOP",
        ("label", "body"),
        "DUP1", "CALLDATALOAD",                                   # [ptr, w]
        "DUP1", _p(96), "SHR", "SWAP1",                           # [ptr, target, w]
        "DUP1", _p(88), "SHR", _p(0xFF), "AND", "SWAP1",          # [ptr, target, n, w]
        _p(72), "SHR", _p(0xFFFF, 2), "AND",                      # [ptr, target, n, L]
        "DUP4", _p(23), "ADD",                                    # [.., tp]
        "DUP3", _p(5), "SHL", "DUP2", "ADD",                      # [.., tp, dp]
        "DUP3", "DUP2", "ADD",                                    # [ptr, target, n, L, tp, dp, newptr]
        "ADDRESS", "DUP7", "EQ", ("to", "emit"), "JUMPI",
        # forward the whole record to its target
        "DUP7", "DUP2", "SUB",                                    # [.., newptr, size]
        "DUP1", "DUP9", _p(0), "CALLDATACOPY",
        _p(0), _p(0), "DUP3", _p(0), _p(0), "DUP12", "GAS", "CALL",
        "ISZERO", ("to", "fail"), "JUMPI", "POP", ("to", "next"), "JUMP",
        ("label", "emit"),
        "DUP4", "DUP3", _p(0), "CALLDATACOPY",                    # memory[0:L] = data
    ]
    for k in range(5):
        prog += ["DUP5"] + (["ISZERO"] if k == 0 else [_p(k), "EQ"]) + [("to", f"log{k}"), "JUMPI"]
    prog += [("label", "fail"), _p(0), "DUP1", "REVERT"]
    for k in range(5):
        prog.append(("label", f"log{k}"))
        for m, i in enumerate(range(k, 0, -1)):                   # push topic k first, topic 1 last
            prog.append(f"DUP{3 + m}")
            if i > 1:
                prog += [_p(32 * (i - 1)), "ADD"]
            prog.append("CALLDATALOAD")
        prog += [f"DUP{4 + k}", _p(0), f"LOG{k}", ("to", "next"), "JUMP"]
    prog += [("label", "next"), "SWAP6"] + ["POP"] * 6 + [("to", "loop"), "JUMP"]
    return prog


EMITTER_CODE = _assemble(_emitter_program())


def encode_records(logs: Iterable[dict]) -> bytes:
    """Calldata that makes the emitter emit these logs, in order."""
    out = bytearray()
    for log in logs:
        topics = log.get("topics") or []
        data = bytes.fromhex(_strip(log.get("data") or "0x"))
        if len(topics) > 4 or len(data) > 0xFFFF:
            raise ValueError(f"log {log.get('transactionHash')}#{log.get('logIndex')}: cannot replay "
                             f"{len(topics)} topics / {len(data)} data bytes")
        out += bytes.fromhex(_strip(log["address"]).rjust(40, "0"))
        out += bytes([len(topics)]) + len(data).to_bytes(2, "big")
        for t in topics:
            out += bytes.fromhex(_strip(t).rjust(64, "0"))
        out += data
    return bytes(out)


def _strip(h: str) -> str:
    return h[2:] if h.startswith(("0x", "0X")) else h


def _int(v) -> int:
    return int(v, 16) if isinstance(v, str) else int(v)


# --- the node -------------------------------------------------------------------------------------------------

@dataclass
class Replay:
    """What a replay produced: recorded block -> anvil block, and the anvil block range it filled."""

    blocks: dict[int, int] = field(default_factory=dict)
    first_block: int | None = None
    last_block: int | None = None
    txs: int = 0
    logs: int = 0


class Anvil:
    """A running anvil process on a loopback port (chain id 137 by default); stop() or use as a context manager."""

    def __init__(self, proc: subprocess.Popen, port: int) -> None:
        self.proc, self.port = proc, port
        self.url = f"http://127.0.0.1:{port}"
        self._session = requests.Session()
        self._ids = itertools.count(1)

    @classmethod
    def start(cls, *, chain_id: int = 137, timestamp: int | None = None, port: int | None = None,
              binary: Path | None = None, timeout: float = 20.0, load_state: str | Path | None = None) -> Anvil:
        """Start anvil with mining off (blocks are mined explicitly) and FIFO ordering inside a block; with
        ``load_state``, holding the chain a dump_state() file recorded (read from the file: a large state is
        beyond what anvil takes in one JSON-RPC request)."""
        exe = binary or find_anvil()
        if exe is None:
            raise NodeError("anvil not found: run `bash scripts/setup.sh` (installs it with npm into .tools/) "
                            "or set ANVIL_BIN")
        if port and not _port_free(port):
            raise NodeError(f"port {port} on 127.0.0.1 is already in use by another process: not starting anvil "
                            "there (its answers would come from a node this harness did not start)")
        port = port or free_port()
        cmd = [str(exe), "--host", "127.0.0.1", "--port", str(port), "--chain-id", str(chain_id),
               "--no-mining", "--order", "fifo", "--disable-block-gas-limit", "--base-fee", "0",
               "--gas-price", "0", "--accounts", "1", "--silent"]
        if timestamp is not None:
            cmd += ["--timestamp", str(timestamp)]
        if load_state is not None:
            if not Path(load_state).is_file():
                raise NodeError(f"no node state file at {load_state}")
            cmd += ["--load-state", str(load_state)]
        # anvil offloads old block states to $HOME/.foundry/anvil/tmp and leaves them there when stopped (GBs per
        # long run: it filled CI's disk). A private HOME per node, removed with it, keeps them ours and bounded.
        home = tempfile.mkdtemp(prefix="anvil-home-")
        env = {**os.environ, "HOME": home}
        try:
            proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
        except BaseException:
            shutil.rmtree(home, ignore_errors=True)
            raise
        node = cls(proc, port)
        node._home = home
        node._cleanup = weakref.finalize(node, _remove_home, proc, home)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                err = proc.stderr.read().decode(errors="replace")[-500:] if proc.stderr else ""
                raise NodeError(f"anvil exited with {proc.returncode} on port {port}: {err.strip()}")
            try:
                if node.call("eth_chainId") is not None:
                    if not _listens(proc.pid, port):
                        node.stop()
                        raise NodeError(f"a process other than the anvil started here answers on port {port}: "
                                        "refusing to use a node this harness did not start")
                    return node
            except (requests.ConnectionError, NodeError) as exc:
                if isinstance(exc, NodeError) and "refusing" in str(exc):
                    raise
                time.sleep(0.05)
        node.stop()
        raise NodeError(f"anvil did not answer on {node.url} within {timeout}s")

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self._session.close()
        cleanup = getattr(self, "_cleanup", None)
        if cleanup is not None:
            cleanup()  # the node's private HOME, with any block states it offloaded there

    # JSON-RPC -------------------------------------------------------------------------------------------------
    def call(self, method: str, *params):
        body = {"jsonrpc": "2.0", "id": next(self._ids), "method": method, "params": list(params)}
        resp = self._session.post(self.url, json=body, timeout=60).json()
        if "error" in resp:
            raise NodeError(f"anvil {method}: {resp['error']}")
        return resp["result"]

    #: JSON-RPC calls and bytes per HTTP request: anvil refuses very large batches with one error object.
    BATCH_LIMIT = 500
    BATCH_BYTES = 1_000_000

    def batch(self, calls: list[tuple[str, list]]) -> list:
        size = sum(len(json.dumps(p)) for _m, p in calls) if len(calls) > 1 else 0
        if len(calls) > self.BATCH_LIMIT or size > self.BATCH_BYTES:
            half = min(self.BATCH_LIMIT, len(calls) // 2)
            return self.batch(calls[:half]) + self.batch(calls[half:])
        if not calls:
            return []
        body = [{"jsonrpc": "2.0", "id": i, "method": m, "params": p} for i, (m, p) in enumerate(calls)]
        resp = self._session.post(self.url, json=body, timeout=120).json()
        if isinstance(resp, dict):  # the whole batch was refused (e.g. a request body over the node's limit)
            raise NodeError(f"anvil refused a batch of {len(calls)} calls ({calls[0][0]}, ...): {resp.get('error')}")
        out = [None] * len(calls)
        for r in resp:
            if "error" in r:
                m = calls[r["id"]][0]
                raise NodeError(f"anvil {m} (batch item {r['id']}): {r['error']}")
            out[r["id"]] = r["result"]
        return out

    def block_number(self) -> int:
        return _int(self.call("eth_blockNumber"))

    def dump_state(self, path: str | Path) -> Path:
        """The node's whole state (accounts, code, storage, blocks with their transactions and logs) to a JSON
        file that ``Anvil.start(load_state=path)`` serves again in about a second, without replaying the chain."""
        import gzip

        path = Path(path)
        path.write_bytes(gzip.decompress(bytes.fromhex(_strip(self.call("anvil_dumpState")))))
        return path

    def install_emitter(self, addresses: Iterable[str]) -> None:
        """Put the emitter contract at each address (the real Polymarket ones, normally)."""
        code = "0x" + EMITTER_CODE.hex()
        self.batch([("anvil_setCode", [a.lower(), code]) for a in sorted({a.lower() for a in addresses})])

    def mine(self, timestamp: int | None = None) -> int:
        """Mine one block (with the pending transactions), optionally at a given unix time; its number."""
        if timestamp is not None:
            self.call("evm_setNextBlockTimestamp", hex(timestamp))
        self.call("evm_mine")
        return self.block_number()

    def snapshot(self) -> str:
        return self.call("evm_snapshot")

    def revert(self, snap: str) -> None:
        if not self.call("evm_revert", snap):
            raise NodeError(f"evm_revert({snap}) refused")

    def send_logs(self, tx_logs: list[list[dict]]) -> list[str]:
        """Queue one transaction per list of logs (to the first log's address); their hashes."""
        calls = []
        for logs in tx_logs:
            calls.append(("eth_sendTransaction", [{
                "from": DEV_ACCOUNT, "to": logs[0]["address"].lower(), "gas": hex(TX_GAS), "gasPrice": "0x0",
                "data": "0x" + encode_records(logs).hex()}]))
        return self.batch(calls)

    def replay(self, logs: Iterable[dict], *, install: bool = True) -> Replay:
        """Replay recorded logs: one anvil block per recorded block (same timestamp), one tx per recorded tx.

        Logs must come in chain order with blockNumber, transactionHash and a blockTimestamp (or the block is
        mined at anvil's own clock). Removed logs are skipped: a replay is the canonical chain.
        """
        rep = Replay()
        blocks = _group_blocks(log for log in logs if not log.get("removed"))
        pending: list[tuple[int, int | None, list[list[dict]]]] = []
        if install:
            pending = list(blocks)
            self.install_emitter({log["address"] for _, _, txs in pending for tx in txs for log in tx})
            blocks = iter(pending)
        for number, ts, txs in blocks:
            hashes = self.send_logs(txs)
            got = self.mine(ts)
            receipts = self.batch([("eth_getTransactionReceipt", [h]) for h in hashes])
            for h, r in zip(hashes, receipts):
                if r is None or _int(r["status"]) != 1 or _int(r["blockNumber"]) != got:
                    raise NodeError(f"replayed tx {h} for recorded block {number} failed or missed block {got}")
            rep.blocks[number] = got
            rep.first_block = got if rep.first_block is None else rep.first_block
            rep.last_block = got
            rep.txs += len(txs)
            rep.logs += sum(len(t) for t in txs)
        return rep


def _group_blocks(logs: Iterable[dict]) -> Iterator[tuple[int, int | None, list[list[dict]]]]:
    """(block number, timestamp, [logs of each tx in order]) per block, keeping chain order."""
    cur, ts, txs, last_tx = None, None, [], None
    for log in logs:
        b = _int(log["blockNumber"])
        if b != cur:
            if cur is not None:
                yield cur, ts, txs
            cur, txs, last_tx = b, [], None
            ts = _int(log["blockTimestamp"]) if log.get("blockTimestamp") is not None else None
        tx = log.get("transactionHash")
        if tx != last_tx or not txs:
            txs.append([])
            last_tx = tx
        txs[-1].append(log)
    if cur is not None:
        yield cur, ts, txs


def _remove_home(proc: subprocess.Popen, home: str) -> None:
    """Stop the node if still running (a process exiting without stop()), then remove its private HOME."""
    if proc.poll() is None:
        proc.kill()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            pass
    shutil.rmtree(home, ignore_errors=True)


def _port_free(port: int) -> bool:
    """Can this process bind 127.0.0.1:port right now?"""
    import socket

    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _listens(pid: int, port: int) -> bool:
    """Is ``pid`` the process listening on 127.0.0.1:port? (Linux /proc; elsewhere: is it still running.)"""
    import os

    tables = [Path("/proc/net/tcp"), Path("/proc/net/tcp6")]
    if not tables[0].exists():
        try:
            os.kill(pid, 0)
            return True
        except OSError:
            return False
    inodes = set()
    for table in tables:
        if not table.exists():
            continue
        for line in table.read_text().splitlines()[1:]:
            f = line.split()
            if len(f) > 9 and f[3] == "0A" and int(f[1].rsplit(":", 1)[1], 16) == port:  # 0A = LISTEN
                inodes.add(f[9])
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return False
    for fd in fds:
        try:
            link = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if link.startswith("socket:[") and link[8:-1] in inodes:
            return True
    return False
