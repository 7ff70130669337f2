"""The contracts' compiled artefacts: the audited ConditionalTokens build from npm and our own settlement contracts
(harness/data/contracts), their runtime bytecode and event ABIs, and whether they can be installed at all."""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from eth_hash.auto import keccak

from harness.config import DATA_DIR, PROJECT_ROOT

CTF_ARTEFACT = Path(".tools/node_modules/@gnosis.pm/conditional-tokens-contracts/build/contracts/"
                    "ConditionalTokens.json")
ARTEFACT_DIR = DATA_DIR / "contracts"


class ContractError(RuntimeError):
    """A contract call reverted or the contracts cannot be installed; the message names the call and why."""


def ctf_artefact_path() -> Path:
    return PROJECT_ROOT / CTF_ARTEFACT


def ctf_runtime() -> str:
    """The ConditionalTokens runtime bytecode from the npm package (never committed to this repo)."""
    p = ctf_artefact_path()
    if not p.is_file():
        raise ContractError(f"{p} not found: run `bash scripts/setup.sh` (installs "
                            "@gnosis.pm/conditional-tokens-contracts with npm into .tools/)")
    code = json.loads(p.read_text(encoding="utf-8"))["deployedBytecode"]
    if "__" in code:
        raise ContractError(f"{p}: deployedBytecode has unlinked library placeholders")
    return code


def artefact(name: str) -> dict:
    """abi + runtime bytecode of one of our contracts (harness/data/contracts/<name>.json)."""
    p = ARTEFACT_DIR / f"{name}.json"
    if not p.is_file():
        raise ContractError(f"{p} not found: run `bash scripts/compile-contracts.sh`")
    return json.loads(p.read_text(encoding="utf-8"))


def available() -> str | None:
    """None when the contracts can be installed, else why not (for a test's skip reason)."""
    if not ctf_artefact_path().is_file():
        return (f"ConditionalTokens build not installed ({CTF_ARTEFACT}): run `bash scripts/setup.sh` "
                "(needs npm)")
    return None


@lru_cache(maxsize=1)
def event_abis() -> dict[str, tuple[str, dict]]:
    """topic0 -> (contract name, ABI event entry) for the CTF build and every artefact of ours."""
    out: dict[str, tuple[str, dict]] = {}
    sources = [("ConditionalTokens", json.loads(ctf_artefact_path().read_text(encoding="utf-8"))["abi"])]
    sources += [(p.stem, json.loads(p.read_text(encoding="utf-8"))["abi"]) for p in sorted(ARTEFACT_DIR.glob("*.json"))]
    for name, abi in sources:
        for e in abi:
            if e["type"] == "event":
                sig = f"{e['name']}({','.join(i['type'] for i in e['inputs'])})"
                out.setdefault("0x" + keccak(sig.encode()).hex(), (name, e))
    return out
