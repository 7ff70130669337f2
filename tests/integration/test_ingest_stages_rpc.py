"""The backfill and sync stages fed by a real node: anvil replaying the fixture world, over JSON-RPC."""
from __future__ import annotations

import os
import re
import subprocess

import pytest

from harness.config import PROJECT_ROOT
from harness.gates.pipeline import pytest_command

pytestmark = pytest.mark.anvil


def test_backfill_and_sync_stages_over_rpc(replayed_chain, tmp_path):
    node, rep = replayed_chain
    world_wallets = PROJECT_ROOT / "fixtures" / "world" / "wallets.yaml"
    if not world_wallets.is_file():
        pytest.skip("needs the committed fixture world (fixtures/world) for its reference wallets")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "HARNESS_RUN_ID"))}
    cmd = [*pytest_command(), "tests/stages/test_1_backfill.py", "tests/stages/test_2_sync.py",
           "-p", "no:cacheprovider", "-q", "-o", "addopts=-ra --strict-markers",
           "--rpc-url", node.url, "--from-block", "0", "--to-block", str(rep.last_block),
           "--wallets", str(world_wallets), "--reports", str(tmp_path / "reports")]
    done = subprocess.run(cmd, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=300, check=False)
    tail = "\n".join(done.stdout.splitlines()[-30:])
    assert done.returncode == 0, tail + done.stderr[-2000:]
    # every check of both stages ran and passed: nothing skipped, failed or errored
    assert re.match(r"\d+ passed in ", done.stdout.strip().splitlines()[-1]), tail
    assert "rpc:137: blocks 0.." in done.stdout, tail  # the gate table shows the RPC source was used
