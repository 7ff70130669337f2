"""P&L: the derived-table build, the pure-Python oracles, as-of and bounded cross-checks, FPMM, check-wallet."""
