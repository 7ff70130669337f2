"""The shipped crontab line and systemd units run a command the CLI really accepts, on a sane schedule."""
from __future__ import annotations

import configparser
import shlex

from harness.__main__ import build_parser
from harness.config import PROJECT_ROOT

OPS = PROJECT_ROOT / "ops"


def _harness_args(command_line: str) -> list[str]:
    words = shlex.split(command_line)
    i = words.index("harness")
    assert words[i - 1] == "-m", command_line
    out = []
    for w in words[i + 1:]:
        if any(ch in w for ch in "<>|&;"):  # the shell's part of the line starts here
            break
        out.append(w)
    return out


def _cli_ok(args: list[str]) -> None:
    ns = build_parser().parse_args(args)
    assert ns.command == "sync"
    from harness.gates.pipeline import parse_age

    assert parse_age(ns.since) >= 24 * 3600, "the daily run must cover at least a day"


def test_systemd_service_runs_the_sync_command():
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.read(OPS / "polymarket-pnl-sync.service")
    assert unit["Service"]["Type"] == "oneshot"
    _cli_ok(_harness_args(unit["Service"]["ExecStart"]))


def test_systemd_timer_is_daily_and_persistent():
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.read(OPS / "polymarket-pnl-sync.timer")
    assert unit["Timer"]["OnCalendar"].startswith("*-*-* ")
    assert unit["Timer"]["Persistent"] == "true"
    assert unit["Timer"]["Unit"] == "polymarket-pnl-sync.service"


def test_crontab_line_runs_the_sync_command_daily():
    lines = [ln for ln in (OPS / "crontab").read_text().splitlines() if ln and not ln.startswith("#")
             and "=" not in ln.split()[0]]
    assert len(lines) == 1
    minute, hour, dom, month, dow, *cmd = lines[0].split()
    assert (dom, month, dow) == ("*", "*", "*") and minute.isdigit() and hour.isdigit()
    _cli_ok(_harness_args(" ".join(cmd)))
