"""Money as exact decimal strings: micro-units (USDC's 6 decimals) in, never a float on the way.

Why one place: the API, the export, check-wallet's report and the simulator's ledger all print the same amounts,
and a second formatter would drift (the simulator had its own until the layout regroup).
"""
from __future__ import annotations

MICROS = 1_000_000


def micros_to_decimal(value: int) -> str:
    """Exact decimal string of a micro-unit integer: -1 -> "-0.000001", 123456789 -> "123.456789"."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"money must be an int of micro-units, got {type(value).__name__} {value!r}")
    whole, frac = divmod(abs(value), MICROS)
    return f"{'-' if value < 0 else ''}{whole}.{frac:06d}"
