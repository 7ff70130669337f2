"""``python -m harness``: the command line lives in harness.cli."""
from __future__ import annotations

import sys

from harness.cli import build_parser, client_from_args, main, warehouse_args

__all__ = ["build_parser", "client_from_args", "main", "warehouse_args"]

if __name__ == "__main__":
    sys.exit(main())
