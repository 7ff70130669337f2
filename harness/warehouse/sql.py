"""Loading the project's .sql files: one statement per file, values bound by the caller, never pasted."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from harness.config import SQL_DIR


@lru_cache(maxsize=None)
def load(name: str) -> str:
    """Text of ``sql/<name>.sql`` (``name`` like ``build/outcome_positions``), comments kept."""
    path = SQL_DIR / f"{name}.sql"
    if not path.is_file():
        raise FileNotFoundError(f"no SQL file {path}")
    return path.read_text(encoding="utf-8").strip().rstrip(";")


def files(folder: str) -> list[Path]:
    """The .sql files of ``sql/<folder>/`` in apply order (by file name)."""
    return sorted((SQL_DIR / folder).glob("*.sql"))
