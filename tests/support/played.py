"""A chain-world played once per test session and served to every xdist worker.

Why: playing the 300-wallet world as real transactions costs about 70 s of CPU; each worker used to play it
again. It is played once, under a file lock in the session's shared temp root: the world's files, the node's whole
state (blocks, transactions, logs, storage) and a pickle of what the tests read of the run (blocks, truth from
balances, the simulator). Every worker then serves that state from a fresh anvil of its own, so all of them test
the identical chain. As soon as collection shows a selected test needs it, one worker starts playing it in a
background process (``python -m tests.support.played``), so the other tests run meanwhile instead of a worker
waiting on the lock; whoever takes the lock first plays it. The pickle is a temp file this session wrote itself
(or, with HARNESS_PLAYED_DIR, an earlier session of the same CI job, in the directory that job created); nothing
else is ever unpickled.
"""
from __future__ import annotations

import fcntl
import os
import pickle
import signal
import subprocess
import sys
from pathlib import Path

from harness.chain.node import Anvil
from harness.worlds.chain_world import ChainWorld, play, start_node, write
from harness.worlds.model import WorldParams

STATE = "node-state.json"
PLAYED = "played.pkl"
#: The worlds served this way, by directory name. chain-world-big: the acceptance world of test_chain_world
#: (300 wallets, 40 markets, 3,000 matched trades).
WORLDS = {"chain-world-big": WorldParams(seed=11, wallets=300, markets=40, fills=3000)}


#: A directory shared by the sessions of one CI job (``.ci/run`` creates it with mktemp for its two passes, the
#: embedded one and the local-server one), so the second session serves the world the first one played.
SHARED_ENV = "HARNESS_PLAYED_DIR"


def session_root(tmp_path_factory) -> Path:
    """The temp directory every worker of this session shares (under xdist the parent of each worker's own);
    a single process uses its own, never a directory another session could have left behind.

    With HARNESS_PLAYED_DIR set (to a directory the caller created itself), a subdirectory of it named by the
    digest of the code that plays and serves a world, so another checkout's or another version's world is never
    served."""
    shared = os.environ.get(SHARED_ENV)
    if shared:
        root = Path(shared) / code_digest()
        root.mkdir(parents=True, exist_ok=True)
        return root
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


def code_digest() -> str:
    """Digest of the harness package and its data, this support package and the worlds' parameters."""
    from harness.config import PROJECT_ROOT
    from harness.gates import files_digest, source_files

    files = source_files(PROJECT_ROOT, ("harness/**/*.py", "harness/data/**/*", "tests/support/*.py",
                                        "tests/integration/conftest.py"))
    return files_digest(PROJECT_ROOT, files, seed=repr(sorted(WORLDS.items())).encode())


def played(params: WorldParams, root: Path, name: str) -> Path:
    """The directory of ``params``' world played once for the session (files, node state, run facts): made here
    when no worker has made it yet, else waited for while another plays it."""
    out = root / name
    with open(root / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (out / PLAYED).is_file():
            node = start_node(params)
            try:
                world = play(params, node)
                write(world, out)
                node.dump_state(out / STATE)
            finally:
                node.stop()
            world.sim.player = None  # the player holds the (stopped) node
            facts = {"params": params, "first_block": world.first_block, "last_block": world.last_block,
                     "txs": world.txs, "truth": world.truth, "sim": world.sim}
            tmp = out / f"{PLAYED}.tmp"
            tmp.write_bytes(pickle.dumps(facts))
            tmp.rename(out / PLAYED)
    return out


def serve(out: Path) -> ChainWorld:
    """A fresh anvil holding the played chain, with the run's facts: stop ``world.node`` when done. There is no
    ``pm`` (nothing may be sent to this chain: other workers serve the same one) and no ``sim_logs``."""
    facts = pickle.loads((out / PLAYED).read_bytes())
    node = Anvil.start(load_state=out / STATE)
    try:
        head = node.block_number()
        if head != facts["last_block"]:
            raise RuntimeError(f"the served chain ends at block {head}, the played one at {facts['last_block']}")
    except BaseException:
        node.stop()
        raise
    return ChainWorld(node, None, facts["sim"], first_block=facts["first_block"], last_block=facts["last_block"],
                      txs=facts["txs"], truth=facts["truth"])


def start_in_background(root: Path, name: str) -> subprocess.Popen | None:
    """Play ``WORLDS[name]`` in a child process unless this session already started one (the first caller wins);
    the child takes the lock like any worker. Stop it with stop_background() when the session ends."""
    try:
        fd = os.open(root / f"{name}.started", os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        return None
    os.close(fd)
    root_dir = Path(__file__).resolve().parents[2]
    with open(root / f"{name}.log", "w") as log:  # the child keeps its own copy of the descriptor
        return subprocess.Popen([sys.executable, "-m", "tests.support.played", str(root), name], cwd=root_dir,
                                stdout=subprocess.DEVNULL, stderr=log)


def stop_background(proc: subprocess.Popen | None) -> None:
    """SIGTERM (the child stops its node on the way out), then wait."""
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(10)


def _main(root: str, name: str) -> int:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # run the finally blocks: the node is stopped
    played(WORLDS[name], Path(root), name)
    return 0


if __name__ == "__main__":
    sys.exit(_main(*sys.argv[1:3]))
