"""polymarket-pnl-harness: raw Polygon logs to validated, deployed wallet-P&L views in ClickHouse."""

__version__ = "0.1.0"
