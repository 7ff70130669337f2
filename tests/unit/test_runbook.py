"""RUNBOOK.md names only real commands: every `python -m harness` line parses, every unit it names ships in ops/."""
from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TEXT = (ROOT / "RUNBOOK.md").read_text(encoding="utf-8")


def _harness_lines() -> list[str]:
    out = []
    for m in re.finditer(r"python -m harness ([^`\n#]*)", TEXT):
        out.append(m.group(1).split("   ")[0].strip())
    return out


LINES = _harness_lines()


def test_runbook_has_the_sections_an_operator_needs():
    for heading in ("## Daily checks", "## What each alert means", "## Re-running a range",
                    "## Deploying and rolling back a deploy", "## Restoring an archived table",
                    "## Rotating credentials"):
        assert heading in TEXT
    assert len(LINES) >= 12


@pytest.mark.parametrize("line", LINES)
def test_every_harness_command_parses(line):
    from harness.__main__ import build_parser

    args = build_parser().parse_args(shlex.split(line))  # an unknown command or option exits 2 here
    assert callable(args.func)


def test_every_unit_named_ships_in_ops():
    named = set(re.findall(r"\b((?:polymarket-pnl|harness-alert)[\w@.-]*\.(?:service|timer))", TEXT))
    for name in named:
        assert (ROOT / "ops" / name).is_file(), name
    assert {"polymarket-pnl-freshness.timer", "polymarket-pnl-sync.service"} <= named
    assert "OnFailure=harness-alert@%n.service" in TEXT and (ROOT / "ops" / "harness-alert@.service").is_file()
