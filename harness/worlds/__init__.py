"""Simulated worlds: the seeded simulator, its market names, chain-world on anvil, the world file format."""
