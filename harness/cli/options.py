"""Option types and the parser class: bad options become one redacted line and exit code 2.

The library checks the same rules on its own inputs (harness.errors.require / check_span).
"""
from __future__ import annotations

import argparse

from harness.errors import EXIT_ERROR, redact


def _int(text: str) -> int:
    try:
        return int(str(text).strip(), 0) if str(text).strip().lower().startswith("0x") else int(str(text).strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None


def positive_int(text: str) -> int:
    """argparse type: an integer >= 1."""
    v = _int(text)
    if v < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1 (got {v})")
    return v


def non_negative_int(text: str) -> int:
    """argparse type: an integer >= 0 (block numbers, confirmations, margins, unix times)."""
    v = _int(text)
    if v < 0:
        raise argparse.ArgumentTypeError(f"must not be negative (got {v})")
    return v


def _float(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None


def positive_float(text: str) -> float:
    """argparse type: a finite number > 0 (seconds)."""
    v = _float(text)
    if not (v > 0 and v != float("inf")):
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds (got {text})")
    return v


def non_negative_float(text: str) -> float:
    """argparse type: a finite number >= 0 (seconds)."""
    v = _float(text)
    if not (v >= 0 and v != float("inf")):
        raise argparse.ArgumentTypeError(f"must be a number of seconds >= 0 (got {text})")
    return v


def port_number(text: str) -> int:
    """argparse type: a TCP port, 1..65535."""
    v = _int(text)
    if not 1 <= v <= 65535:
        raise argparse.ArgumentTypeError(f"must be a TCP port 1..65535 (got {v})")
    return v


def fraction(text: str) -> float:
    """argparse type: a number from 0 to 1."""
    v = _float(text)
    if not 0 <= v <= 1:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1 (got {text})")
    return v


class OneLineParser(argparse.ArgumentParser):
    """argparse that reports a bad option as one redacted line and exit code 2."""

    def error(self, message: str):
        import sys

        sys.stderr.write(f"{self.prog}: error: {redact(message)}\n")
        raise SystemExit(EXIT_ERROR)
