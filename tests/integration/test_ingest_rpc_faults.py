"""The RPC source against a real node (anvil) when endpoints misbehave: windows that keep timing out are halved,
a dead endpoint hands over to the next, every event of the known contracts is fetched (unknown ones counted), and
a backfill whose stderr is a file logs timestamped progress."""
from __future__ import annotations

import os
import re
import socket
import subprocess
import sys

import pytest
from eth_hash.auto import keccak

from harness import ingest
from harness.chain.faultproxy import FaultPlan
from harness.chain.rpc import RetryPolicy, RpcClient
from harness.config import PROJECT_ROOT
from harness.gates.pipeline import RAW_TABLES, fingerprint

pytestmark = pytest.mark.anvil
FAST = RetryPolicy(attempts=30, base=0.005, cap=0.02)


def _dead_url() -> str:
    """A loopback URL nothing listens on (connection refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1/DEADKEY4242424242"


@pytest.fixture(scope="module")
def clean_fp(replayed_chain, module_db):
    """The raw tables of a plain backfill of the replayed chain: what every faulty run must end with."""
    node, rep = replayed_chain
    db = module_db()
    ingest.backfill(db, node.url, 0, rep.last_block, confirmations=0)
    return fingerprint(db, RAW_TABLES)


def test_windows_that_keep_timing_out_are_halved_and_the_log_set_is_exact(replayed_chain, fault_proxy, new_db,
                                                                          clean_fp):
    """The node stalls past the client's timeout on any getLogs wider than 16 blocks (Cascadian's failure): the
    window halves until it answers, grows back after a streak, and the tables equal a clean run's."""
    node, rep = replayed_chain
    proxy = fault_proxy(node.url, FaultPlan(rate=0.0, slow_range=16, timeout_seconds=1.0))
    rpc = RpcClient(proxy.url, timeout=0.25, retry=FAST, halve_after=2)
    db = new_db()
    stats = ingest.backfill(db, rpc, 0, rep.last_block, confirmations=0, window=200, preparations=False)
    assert stats.timeout_halvings >= 4, stats  # 200 -> 100 -> 50 -> 25 -> 12 at least once
    assert proxy.stats.faults["timeout(range)"] >= 2 * stats.timeout_halvings
    assert stats.range_errors == 0  # nothing was refused as "too many results": these were timeouts
    assert fingerprint(db, RAW_TABLES) == clean_fp
    assert ingest.gaps(db, stats.source, 0, rep.last_block) == []


def test_a_dead_first_endpoint_hands_over_to_the_second(replayed_chain, new_db, clean_fp):
    node, rep = replayed_chain
    dead = _dead_url()
    rpc = RpcClient(f"{dead},{node.url}", retry=FAST, fail_limit=2, cool_down=3600)
    assert [e.url for e in rpc.endpoints] == [dead, node.url]
    db = new_db()
    stats = ingest.backfill(db, rpc, 0, rep.last_block, confirmations=0, preparations=False)
    assert stats.failovers == 1 and rpc.url == node.url  # once over, the dead one rests: no flapping
    assert fingerprint(db, RAW_TABLES) == clean_fp
    assert "DEADKEY4242424242" not in repr(rpc)


def test_every_endpoint_dead_is_one_error_naming_them_redacted(new_db):
    rpc = RpcClient([_dead_url(), _dead_url()], retry=RetryPolicy(attempts=4, base=0.001, cap=0.001),
                    fail_limit=1, cool_down=0.01)
    with pytest.raises(ingest.IngestError.__mro__[1]) as exc:  # HarnessError: RpcError from the first call
        ingest.backfill(new_db(), rpc, 0, 10, confirmations=0)
    msg = str(exc.value)
    assert "gave up after 4 attempts" in msg and "127.0.0.1" in msg and "DEADKEY4242424242" not in msg


def test_unknown_events_of_known_contracts_are_fetched_and_counted(pm, new_db):
    """setApprovalForAll on the real CTF emits ApprovalForAll, which no table decodes: it is fetched anyway
    (no topic filter), counted per run, stored, and said in the summary."""
    from tests.support.flows import addr

    first = pm.node.block_number() + 1
    w = addr("unknown-events", "A")
    pm.fund(w, usdc=10**6)
    pm.approve([w])
    last = pm.node.block_number()
    db = new_db()
    stats = ingest.backfill(db, pm.node.url, first, last, confirmations=0, preparations=False)
    approval = "0x" + keccak(b"ApprovalForAll(address,address,bool)").hex()
    ctf = pm.addr.ctf.lower()
    assert stats.unknown[(ctf, approval)] == len(pm.spenders()) - (ctf in [s.lower() for s in pm.spenders()])
    n = stats.unknown[(ctf, approval)]
    assert f"{n} logs not decoded (ApprovalForAll {n})" in str(stats) and "unknown logs" not in str(stats)
    stored = {(a, t): n for a, t, n, _ in ingest.unknown_events(db, stats.source)}
    assert stored == dict(stats.unknown)
    assert {"address": ctf, "topic0": approval, "event": "ApprovalForAll", "logs": n} in stats.unknown_events()


_STAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|\+00:00)? ")


@pytest.mark.embedded_only("runs commands on an embedded warehouse directory of its own (HARNESS_WAREHOUSE_DIR / chdb://), the default path")
def test_a_backfill_with_stderr_to_a_file_logs_timestamped_progress(replayed_chain, tmp_path):
    """The acceptance of issue 15 point 1: cron's view of a backfill (stderr a file, not a terminal); two
    endpoints, the first dead, so the failover is in the log too, redacted."""
    node, rep = replayed_chain
    dead = _dead_url()
    err = tmp_path / "backfill.err"
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT), }
    with open(err, "w", encoding="utf-8") as fh:
        done = subprocess.run(
            [sys.executable, "-m", "harness", "backfill", "--rpc-url", dead, "--rpc-url", node.url,
             "--rpc-fail-limit", "1", "--retries", "4", "--progress-every", "0", "--clickhouse", f"chdb://{tmp_path / 'wh'}",
             "--database", "p", "--from-block", "0", "--to-block", str(rep.last_block), "--confirmations", "0",
             "--window", "20", "--max-window", "20", "--batch-logs", "50", "--no-preparations"],
            cwd=PROJECT_ROOT, env=env, stdout=subprocess.PIPE, stderr=fh, text=True, timeout=300, check=False)
    text = err.read_text(encoding="utf-8")
    assert done.returncode == 0, text[-2000:]
    lines = text.splitlines()
    progress = [ln for ln in lines if " progress " in ln]
    assert len(progress) >= 2, text[-2000:]
    assert all(_STAMP.match(ln) for ln in progress), progress[:3]
    assert re.search(rf"\d+/{rep.last_block + 1:,} blocks \(\d+%\), [\d,]+ logs, [\d,]+ logs/s", progress[-1])
    assert any(" finished " in ln and f"{rep.last_block + 1:,}/{rep.last_block + 1:,} blocks" in ln
               for ln in lines), text[-2000:]
    assert any("failover" in ln for ln in lines) and "DEADKEY4242424242" not in text
    assert "\r" not in text  # no terminal bar in a file
