"""Every command ends bad input with one line and exit code 2 (1 for a failed check), never a traceback; a run
that dies is marked failed and leaves nothing counted as covered."""
from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
WORLD = ROOT / "fixtures" / "world"


def _harness(*args, tmp_path: Path, env_extra=None):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CLICKHOUSE_", "POLYGON_", "PYTEST_"))}
    env["HARNESS_WAREHOUSE_DIR"] = str(tmp_path / "wh")
    env.update(env_extra or {})
    return subprocess.run([sys.executable, "-m", "harness", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=300, check=False)


def _one_line(r, code=2):
    assert r.returncode == code, (r.returncode, r.stdout[-2000:], r.stderr[-2000:])
    assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr[-3000:]
    return r.stderr.strip()


def _world_with(tmp_path: Path, change) -> Path:
    """A copy of a tiny world whose first known log is changed by ``change(log)``."""
    out = tmp_path / "world"
    out.mkdir()
    with gzip.open(WORLD / "logs.jsonl.gz", "rt") as fh:
        src = [json.loads(ln) for ln in fh][:50]
    change(src[10])
    with gzip.open(out / "logs.jsonl.gz", "wt") as fh:
        for log in src:
            fh.write(json.dumps(log) + "\n")
    return out


def _runs_and_rows(tmp_path, db):
    code = ("from harness.warehouse import *\nc = connect(resolve_settings(database=%r))\n"
            "print(c.query('SELECT status, detail FROM ingest_runs FINAL').result_rows)\n"
            "print(c.query('SELECT count() FROM ingest_checkpoints').result_rows[0][0])\n"
            "print(sum(c.query(f'SELECT count() FROM {t}').result_rows[0][0] for t in "
            "('trades_raw', 'erc1155_transfers', 'ctf_actions', 'orders_matched', 'fee_charged')))\n") % db
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLICKHOUSE_")}
    env["HARNESS_WAREHOUSE_DIR"] = str(tmp_path / "wh")
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                       timeout=120, check=False)
    assert r.returncode == 0, r.stderr
    runs, checkpoints, rows = r.stdout.strip().splitlines()
    return runs, int(checkpoints), int(rows)


needs_world = pytest.mark.skipif(not (WORLD / "logs.jsonl.gz").is_file(), reason="fixture world not generated")


@needs_world
@pytest.mark.parametrize("field, value", [
    ("logIndex", hex(2**32)), ("blockTimestamp", hex(2**40)), ("blockNumber", ["0x1"]),
    ("transactionHash", "0x" + "zz" * 32), ("removed", "false"), ("logIndex", -1),
])
@pytest.mark.embedded_only("runs commands on an embedded warehouse directory of its own (HARNESS_WAREHOUSE_DIR / chdb://), the default path")
def test_bad_log_fields_in_files_are_one_line_and_nothing_counts(tmp_path, field, value):
    world = _world_with(tmp_path, lambda log: log.__setitem__(field, value))
    r = _harness("ingest-files", str(world), "--database", "bad", tmp_path=tmp_path)
    msg = _one_line(r)
    assert field in msg or (field == "transactionHash" and "transaction hash" in msg), msg
    runs, checkpoints, rows = _runs_and_rows(tmp_path, "bad")
    assert "'running'" not in runs and "'failed'" in runs, runs
    assert checkpoints == 0 and rows == 0, (checkpoints, rows)  # no partial insert, nothing covered


@pytest.mark.embedded_only("runs commands on an embedded warehouse directory of its own (HARNESS_WAREHOUSE_DIR / chdb://), the default path")
def test_commands_on_bad_input_are_one_line(tmp_path):
    _one_line(_harness("pnl", "0x" + "11" * 20, "--database", "noviews", tmp_path=tmp_path))
    _one_line(_harness("schema", "--clickhouse", "http://localhost:notaport", tmp_path=tmp_path))
    _one_line(_harness("schema", "--database", "bad-name!", tmp_path=tmp_path))
    _one_line(_harness("pipeline", "--database", "bad-name!", tmp_path=tmp_path))
    _one_line(_harness("simulate", "--wallets", "0", "--out", str(tmp_path / "w"), tmp_path=tmp_path))
    _one_line(_harness("pnl", "not-an-address", "--database", "noviews", tmp_path=tmp_path))
    _one_line(_harness("api", "--port", "99999", tmp_path=tmp_path))
    _one_line(_harness("sync", "--since", "yesterday", tmp_path=tmp_path,
                       env_extra={"POLYGON_RPC_URL": "http://127.0.0.1:9"}))
    _one_line(_harness("ingest-files", str(tmp_path / "nowhere"), "--database", "x", tmp_path=tmp_path))


@pytest.mark.embedded_only("runs commands on an embedded warehouse directory of its own (HARNESS_WAREHOUSE_DIR / chdb://), the default path")
def test_pipeline_on_a_locked_warehouse_is_one_line(tmp_path):
    """chDB lets one process open a directory: a pipeline while another process holds it says so in one line."""
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from harness.warehouse import *\n"
         "c = connect(resolve_settings(database='x')); print('ready', flush=True); time.sleep(60)"],
        cwd=ROOT, env={**{k: v for k, v in os.environ.items() if not k.startswith("CLICKHOUSE_")},
                       "HARNESS_WAREHOUSE_DIR": str(tmp_path / "wh")},
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "ready"
        msg = _one_line(_harness("pipeline", "--database", "locked", tmp_path=tmp_path))
        assert "one process" in msg or "warehouse" in msg, msg
    finally:
        holder.kill()
        holder.wait()


@pytest.mark.embedded_only("runs commands on an embedded warehouse directory of its own (HARNESS_WAREHOUSE_DIR / chdb://), the default path")
def test_non_utf8_wallets_file_is_one_line(tmp_path):
    from harness.gates.wallets import WalletsFileError, load_wallets

    f = tmp_path / "wallets.yaml"
    f.write_bytes(b"wallets:\n  - name: \xff\xfe\n")
    with pytest.raises(WalletsFileError, match="wallets.yaml.*UTF-8"):
        load_wallets(f)


class _StallingNode:
    """Answers the chain id, head and block headers at once; eth_getLogs never answers (a stuck provider)."""

    def __init__(self):
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        class H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                return None

            def do_POST(self):
                import time

                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
                if isinstance(body, list):
                    out = [{"jsonrpc": "2.0", "id": b["id"], "result": {
                        "number": b["params"][0], "timestamp": hex(1_700_000_000 + int(b["params"][0], 16)),
                        "hash": "0x" + "00" * 32}} for b in body]
                elif body["method"] == "eth_getLogs":
                    stalled.set()  # the run is recorded and stuck: what the signal must interrupt
                    time.sleep(120)
                    return
                else:
                    out = {"jsonrpc": "2.0", "id": body["id"],
                           "result": {"eth_chainId": "0x89", "eth_blockNumber": hex(5000)}[body["method"]]}
                data = json.dumps(out).encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.stalled = stalled = threading.Event()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.mark.embedded_only("runs commands on an embedded warehouse directory of its own (HARNESS_WAREHOUSE_DIR / chdb://), the default path")
@pytest.mark.parametrize("sig", ["TERM", "KILL"])
def test_a_run_that_dies_is_marked_failed(tmp_path, sig):
    import signal
    import time

    node = _StallingNode()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CLICKHOUSE_", "POLYGON_", "PYTEST_"))}
    env["HARNESS_WAREHOUSE_DIR"] = str(tmp_path / "wh")
    proc = subprocess.Popen([sys.executable, "-m", "harness", "backfill", "--rpc-url", node.url, "--from-block",
                             "0", "--to-block", "100", "--database", "dies"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # connected, schema applied, run recorded, stuck in eth_getLogs (however slow the machine is to get there)
    assert node.stalled.wait(120), "the backfill never reached eth_getLogs"
    time.sleep(0.5)
    proc.send_signal(getattr(signal, f"SIG{sig}"))
    _out, err = proc.communicate(timeout=60)
    node.server.shutdown()
    if sig == "TERM":
        assert proc.returncode == 2 and "stopped by signal" in err and "Traceback" not in err, err
    else:  # nothing runs after SIGKILL: the next writer finds the run abandoned and marks it
        r = _harness("gaps", "--source", "rpc:137", "--from-block", "0", "--to-block", "1", "--database", "dies",
                     tmp_path=tmp_path)
        assert r.returncode == 1
        code = ("from harness.warehouse import *; from harness.ingest import mark_abandoned_runs\n"
                "from harness.warehouse.lease import writer_lease\nc = connect(resolve_settings(database='dies'))\n"
                "with writer_lease(c, 'test'):\n    print(mark_abandoned_runs(c))\n")
        subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, check=True, timeout=120)
    runs, checkpoints, _rows = _runs_and_rows(tmp_path, "dies")
    assert "'running'" not in runs and "'failed'" in runs, runs
    assert checkpoints == 0
