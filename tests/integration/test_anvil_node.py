"""The local node the tests start: what it leaves behind."""
from __future__ import annotations


def test_a_stopped_node_leaves_no_state_on_disk(anvil_bin):
    """anvil offloads old block states under $HOME/.foundry/anvil/tmp and leaves them when stopped; each node gets a
    private HOME that goes with it, so a test session (or CI) never piles gigabytes of states on the disk."""
    from pathlib import Path

    from harness.chain.node import Anvil

    node = Anvil.start(binary=anvil_bin)
    home = Path(node._home)
    node.call("anvil_mine", hex(300))
    assert home.is_dir()
    node.stop()
    assert not home.exists()
    assert node.proc.poll() is not None
