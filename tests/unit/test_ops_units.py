"""The systemd units: failures reach the alert template, and the template's command is a real harness command
that posts the alert (received on loopback)."""
from __future__ import annotations

import configparser
import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

from tests.support.receiver import Receiver

ROOT = Path(__file__).resolve().parents[2]
OPS = ROOT / "ops"


def _unit(name: str) -> configparser.ConfigParser:
    cp = configparser.ConfigParser(strict=False, interpolation=None, delimiters=("=",))
    cp.optionxform = str
    cp.read_string((OPS / name).read_text())
    return cp


def _harness_args(exec_start: str, instance: str) -> list[str]:
    argv = shlex.split(exec_start.replace("%i", instance).replace("%H", "host1"))
    if argv[0].endswith("timeout"):
        argv = argv[argv.index("--kill-after=5m") + 2:]
    assert argv[0].endswith(".venv/bin/python") and argv[1:3] == ["-m", "harness"], argv
    return argv[3:]


def test_every_service_alerts_on_failure_through_the_template():
    services = sorted(p.name for p in OPS.glob("*.service") if "@" not in p.name)
    assert services == ["polymarket-pnl-freshness.service", "polymarket-pnl-sync.service"]
    for name in services:
        assert _unit(name)["Unit"]["OnFailure"] == "harness-alert@%n.service", name
    timers = {_unit(p.name)["Timer"]["Unit"] for p in OPS.glob("*.timer")}
    assert timers == set(services)


def test_each_exec_start_parses_as_a_harness_command():
    from harness.__main__ import build_parser

    parser = build_parser()
    for name in ("polymarket-pnl-sync.service", "polymarket-pnl-freshness.service", "harness-alert@.service"):
        args = parser.parse_args(_harness_args(_unit(name)["Service"]["ExecStart"], "polymarket-pnl-sync.service"))
        assert args.command in ("sync", "freshness", "notify"), name


def test_the_alert_template_posts_json_to_the_receiver():
    args = _harness_args(_unit("harness-alert@.service")["Service"]["ExecStart"], "polymarket-pnl-sync.service")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CLICKHOUSE_", "POLYGON_"))}
    with Receiver() as rx:
        env["HARNESS_NOTIFY_URL"] = rx.url
        r = subprocess.run([sys.executable, "-m", "harness", *args], cwd=ROOT, env=env, capture_output=True,
                           text=True, timeout=120, check=False)
    assert r.returncode == 0, r.stderr
    (body,) = rx.bodies
    assert set(body) == {"run_id", "stage", "outcome", "summary", "host", "time"}
    assert (body["stage"], body["outcome"]) == ("polymarket-pnl-sync.service", "failed")
    assert body["summary"] == ("systemd unit polymarket-pnl-sync.service failed on host1; "
                               "see journalctl -u polymarket-pnl-sync.service")
    assert body["run_id"].startswith("polymarket-pnl-sync.service-") and body["time"].endswith("Z")
    assert "s3cretToken" not in r.stdout + r.stderr + json.dumps(body)
    # nothing listening: not delivered, exit 1, one line, no traceback
    env["HARNESS_NOTIFY_URL"] = "http://127.0.0.1:9/hook"
    r = subprocess.run([sys.executable, "-m", "harness", *args], cwd=ROOT, env=env, capture_output=True,
                       text=True, timeout=120, check=False)
    assert r.returncode == 1 and "NOT sent" in r.stdout and "Traceback" not in r.stderr
