"""P&L: the derived-table build, the pure-Python oracles (cash flow, average cost) and why they differ, as-of and
bounded cross-checks, the FPMM pool arithmetic, money formatting."""
