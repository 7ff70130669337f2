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


def test_a_dumped_chain_is_served_again_identically(anvil_bin, tmp_path):
    """dump_state / load_state (how the suite shares one played chain-world between workers): a fresh node loaded
    from the dump has the same head, the same logs with their block times, the same balances at the head, and a
    refused file names itself."""
    import pytest

    from harness.chain.node import Anvil, NodeError
    from tests.support.chainlogs import make_logs

    logs = make_logs(seed=5, blocks=6)
    first_ts = min(int(x["blockTimestamp"], 16) for x in logs)
    with Anvil.start(binary=anvil_bin, timestamp=first_ts - 3600) as a:
        rep = a.replay(logs)
        want = a.call("eth_getLogs", {"fromBlock": hex(rep.first_block), "toBlock": hex(rep.last_block)})
        dev = a.call("eth_getBalance", "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266", "latest")
        head = a.block_number()
        state = a.dump_state(tmp_path / "state.json")
    assert len(want) == len(logs)
    with Anvil.start(binary=anvil_bin, load_state=state) as b:
        assert b.block_number() == head
        assert b.call("eth_getLogs", {"fromBlock": hex(rep.first_block), "toBlock": hex(rep.last_block)}) == want
        assert b.call("eth_getBalance", "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266", hex(head)) == dev
    with pytest.raises(NodeError, match="no node state file"):
        Anvil.start(binary=anvil_bin, load_state=tmp_path / "missing.json")
