"""Fixtures for tests against a real JSON-RPC node: anvil on loopback (chain id 137), a fault proxy in front.

anvil comes from scripts/setup.sh (npm package @foundry-rs/anvil-linux-amd64 into .tools/). When it is missing
and npm exists it is installed here; the tests skip, saying why, only when npm itself is unavailable.
"""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from harness.chain.node import Anvil, find_anvil
from harness.config import PROJECT_ROOT
from harness.ingest.world_files import read_logs_file

ANVIL_PKG = "@foundry-rs/anvil-linux-amd64@1.7.1"


@pytest.fixture(scope="session")
def anvil_bin() -> Path:
    exe = find_anvil()
    if exe is None:
        if shutil.which("npm") is None:
            pytest.skip("anvil tests need npm to install anvil (npm not found on PATH)")
        subprocess.run(["npm", "install", "--prefix", str(PROJECT_ROOT / ".tools"), "--no-audit", "--no-fund",
                        "--no-save", "--silent", ANVIL_PKG], check=True, timeout=600,
                       stdout=subprocess.DEVNULL)
        exe = find_anvil()
        assert exe is not None, "npm install of anvil succeeded but no binary was found"
    return exe


def source_logs() -> list[dict]:
    """The simulator's committed fixture world when present, else a seeded synthetic stream of real shapes."""
    world = PROJECT_ROOT / "fixtures" / "world" / "logs.jsonl.gz"
    if world.is_file():
        return list(read_logs_file(world))
    from tests.support.chainlogs import make_logs

    return make_logs(seed=3, blocks=60)


@pytest.fixture(scope="session")
def chain_logs() -> list[dict]:
    return source_logs()


def _start(anvil_bin: Path, logs: list[dict]) -> Anvil:
    first_ts = min(int(log["blockTimestamp"], 16) for log in logs) if logs else None
    return Anvil.start(binary=anvil_bin, timestamp=None if first_ts is None else first_ts - 3600)


@pytest.fixture
def anvil_node(anvil_bin, chain_logs):
    """A fresh anvil (genesis an hour before the source's first block), stopped after the test."""
    node = _start(anvil_bin, chain_logs)
    yield node
    node.stop()


@pytest.fixture(scope="session")
def replayed_chain(anvil_bin, chain_logs):
    """(node, replay) with the source logs replayed once for the session; tests must not mine on it."""
    node = _start(anvil_bin, chain_logs)
    rep = node.replay(chain_logs)
    yield node, rep
    node.stop()


@pytest.fixture
def fault_proxy():
    """Factory: fault_proxy(upstream_url, plan) -> a running FaultProxy, closed after the test."""
    from harness.chain.faultproxy import FaultProxy

    made = []

    def make(upstream: str, plan=None) -> FaultProxy:
        p = FaultProxy(upstream, plan)
        made.append(p)
        return p

    yield make
    for p in made:
        p.close()


@pytest.fixture(scope="module")
def pm(anvil_bin):
    """A node with the real ConditionalTokens bytecode and our settlement contracts at the real addresses."""
    from harness.chain.contracts.artefacts import available
    from harness.chain.contracts.polymarket import Polymarket

    why = available()
    if why:
        pytest.skip(why)
    node = Anvil.start(binary=anvil_bin)
    try:
        yield Polymarket.install(node)
    finally:
        node.stop()


_PLAYER = pytest.StashKey[object]()


def pytest_collection_finish(session: pytest.Session) -> None:
    """When a selected test needs the session's shared chain-world (tests/support/played.py), start playing it in
    a background process now, so the tests before it run meanwhile instead of a worker waiting on its lock."""
    from harness.chain.contracts.artefacts import available

    if session.config.option.collectonly or not any(
            item.path.name == "test_chain_world.py" and "big" in getattr(item, "fixturenames", ())
            for item in session.items):
        return
    if find_anvil() is None or available():
        return  # the fixture installs anvil or skips, saying why
    from tests.support.played import session_root, start_in_background

    session.config.stash[_PLAYER] = start_in_background(session_root(session.config._tmp_path_factory),
                                                        "chain-world-big")


def pytest_unconfigure(config: pytest.Config) -> None:
    from tests.support.played import stop_background

    stop_background(config.stash.get(_PLAYER, None))
