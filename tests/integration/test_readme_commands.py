"""README.md stays true: its main job, then every line of its "Other commands" block, run as written on the main
job's database (issue 23 point 8). Each command is its own process, as a user types it.

Cost: one main job (about 40-60 s on 2 cores) plus ten short commands and one API start (about 40 s).
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import shlex
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from harness.chain.node import free_port
from tests.integration.test_api_process import wait_until_serving

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
WORLD = ROOT / "fixtures" / "world"

pytestmark = pytest.mark.skipif(not (WORLD / "logs.jsonl.gz").is_file(), reason="fixture world not generated")


def bash_block(text: str, heading: str) -> list[str]:
    """The command lines (``.venv/bin/python ...``) of the first bash block after ``heading``."""
    after = text[text.index(heading):]
    block = re.search(r"```bash\n(.*?)```", after, re.DOTALL).group(1)
    return [ln.strip() for ln in block.splitlines() if ln.strip().startswith(".venv/bin/python")]


def argv(line: str) -> list[str]:
    words = shlex.split(line, comments=True)
    assert words[:3] == [".venv/bin/python", "-m", "harness"], line
    return [sys.executable, *words[1:]]


def _option(words: list[str], name: str) -> str:
    return words[words.index(name) + 1]


def _get(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=30) as r:
        return json.loads(r.read())


def test_readme_lists_the_commands_a_user_reads():
    """The inline commands of the main job's section are lines of the Other commands block (so they are run
    too), and every line there names the main job's database (or needs none)."""
    text = README.read_text(encoding="utf-8")
    (main,) = bash_block(text, "## The main job")
    db = _option(shlex.split(main), "--database")
    others = bash_block(text, "## Other commands")
    assert len(others) >= 10
    section = text[text.index("## The main job"):text.index("## CI gate job")]
    inline = re.findall(r"`(\.venv/bin/python -m harness [^`]+)`", section)
    assert inline and all(any(shlex.split(o, comments=True) == shlex.split(i) for o in others) for i in inline)
    for line in others:
        words = shlex.split(line, comments=True)
        assert words[3] == "simulate" or _option(words, "--database") == db, line


def test_main_job_then_every_other_command_exits_0(tmp_path):
    text = README.read_text(encoding="utf-8")
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("CLICKHOUSE_", "PYTEST_XDIST", "POLYGON_", "HARNESS_NOTIFY", "HARNESS_LOG"))}
    env["HARNESS_WAREHOUSE_DIR"] = str(tmp_path / "wh")

    def run(cmd: list[str], timeout: int = 300) -> subprocess.CompletedProcess:
        return subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False)

    (main,) = bash_block(text, "## The main job")
    done = run(argv(main) + ["--reports", str(tmp_path / "reports")], timeout=900)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    wallet = re.search(r"name: sim_top_winner\n\s+address: \"(0x[0-9a-f]{40})\"",
                       (WORLD / "wallets.yaml").read_text()).group(1)
    truth = json.loads((WORLD / "truth.json").read_text())["wallets"][wallet]
    ran = []
    for line in bash_block(text, "## Other commands"):
        cmd = argv(line)
        name = cmd[3]
        ran.append(name)
        if name == "api":
            port = free_port()
            cmd[cmd.index("--port") + 1] = str(port)  # 8000 may be taken on a shared machine
            proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                    text=True)
            try:
                wait_until_serving(proc, f"http://127.0.0.1:{port}/health")
                # the demo shows market names: on its P&L rows and its positions
                pnl = _get(f"http://127.0.0.1:{port}/wallets/{wallet}/pnl")
                assert pnl["markets"] and all(m["question"] for m in pnl["markets"])
                pos = _get(f"http://127.0.0.1:{port}/wallets/{wallet}/positions")["positions"]
                assert pos and all(p["question"] and p["outcome"] in ("Yes", "No") for p in pos)
                proc.send_signal(signal.SIGINT)  # "stop with Ctrl-C"
                _out, err = proc.communicate(timeout=60)
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
            assert proc.returncode == 0 and not re.search(r"^error:| ERROR ", err, re.MULTILINE), err[-3000:]
            continue
        if name == "simulate":  # as written but for --out: the test must not rewrite the committed fixture
            cmd[cmd.index("--out") + 1] = str(tmp_path / "world")
        done = run(cmd)
        assert done.returncode == 0, (line, done.stdout[-2000:], done.stderr[-2000:])
        if name == "pnl":
            usd = f"{abs(truth['total']) // 10**6:,}.{abs(truth['total']) % 10**6:06d}"
            assert f"total {'-' if truth['total'] < 0 else ''}{usd} USDC" in done.stdout, done.stdout
        elif name == "export":
            assert done.stdout.startswith("wallet,condition_id,")
        elif name == "gaps":
            assert "file:world 60000000.." in done.stderr and "0 gap(s)" in done.stderr
        elif name == "freshness":
            assert done.stdout.startswith("ok:") and "the world's own clock" in done.stdout
        elif name == "ingest-markets":
            assert "84" in done.stdout, done.stdout
        elif name == "simulate":
            for f in ("logs.jsonl.gz", "truth.json", "markets.jsonl"):
                assert hashlib.sha256((tmp_path / "world" / f).read_bytes()).digest() == \
                    hashlib.sha256((WORLD / f).read_bytes()).digest(), f
    assert ran[-1] == "simulate" and {"pnl", "export", "gaps", "freshness", "api", "build"} <= set(ran)
