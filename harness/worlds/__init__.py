"""Simulated worlds: the seeded simulator (its driver, state, ledger and one module per protocol), its market names,
chain-world on anvil, the world file format."""
