"""Settings shared by the CLI, the pytest plugin and the library.

Values come from explicit arguments first, then the environment; secrets are only ever read from the
environment and never appear in reprs or messages.
"""
from __future__ import annotations

import subprocess
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SQL_DIR = PROJECT_ROOT / "sql"
DATA_DIR = Path(__file__).resolve().parent / "data"

#: The plan's cutoff: 2025-10-31 23:59:59 UTC (the plan's own comment; its written constant is a year early). Only used
#: when asked for (``--cutoff``); builds and ingests default to no cutoff.
PLAN_CUTOFF_TS = 1761955199

#: Tables the plan keeps, and the broken enriched tables it drops in the cleanup phase.
KEPT_TABLES = ("trades_raw", "outcome_positions_v2", "trade_cashflows_v3", "winning_index")
#: The final views: the public contract the app reads (harness/data/view_contract.yaml declares their columns).
FINAL_VIEWS = ("realized_pnl_by_market_final", "wallet_realized_pnl_final", "wallet_pnl_summary_final")
BROKEN_TABLES = ("trades_enriched_with_condition", "trades_enriched", "trades_with_recovered_cid", "trades_dedup")


@dataclass(frozen=True)
class Contract:
    key: str
    address: str  # lower-case 0x
    name: str
    first_block: int | None
    role: str = "contract"  # see harness/data/contracts.yaml: what the address is to the P&L


@lru_cache(maxsize=1)
def _contracts_file() -> dict:
    with open(DATA_DIR / "contracts.yaml", encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def contracts() -> dict[str, Contract]:
    raw = _contracts_file()["contracts"]
    return {
        k: Contract(k, v["address"].lower(), v["name"], v.get("first_block"), v.get("role", "contract"))
        for k, v in raw.items()
    }


def addresses_with_role(*roles: str) -> list[str]:
    """Lower-case addresses of the contracts whose role is one of ``roles`` (sorted)."""
    return sorted(c.address for c in contracts().values() if c.role in roles)


def non_wallets() -> list[str]:
    """Every protocol address (all of contracts.yaml's contracts and tokens): none of them is ever a wallet."""
    toks = [v["address"].lower() for v in _contracts_file()["tokens"].values()]
    return sorted({c.address for c in contracts().values()} | set(toks))


def token_address(key: str) -> str:
    return _contracts_file()["tokens"][key]["address"].lower()


def other_address(key: str) -> str:
    return _contracts_file()["other"][key].lower()


def chain_id() -> int:
    return int(_contracts_file()["chain_id"])


@lru_cache(maxsize=1)
def code_version() -> str:
    """Git commit of the checkout (with '+dirty' when modified), else the package version."""
    from harness import __version__

    try:
        sha = subprocess.run(
            ["git", "-C", str(PROJECT_ROOT), "rev-parse", "--short=12", "HEAD"],
            capture_output=True, text=True, timeout=5, check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(PROJECT_ROOT), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True, text=True, timeout=5, check=True,
        ).stdout.strip()
        return sha + ("+dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return f"v{__version__}"
