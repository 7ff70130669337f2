"""How a command (run in-process or as a child) names the session's warehouse, on whichever backend the session
runs: the embedded directory as chdb://…, or the server's URL (user and password come from CLICKHOUSE_USER /
CLICKHOUSE_PASSWORD, which the local-server backend sets), so the same test goes through the server path there."""
from __future__ import annotations

import pytest


def warehouse_args(settings, database: str) -> list[str]:
    """["--clickhouse", address, "--database", database] for the session's warehouse."""
    if settings.backend == "embedded":
        return ["--clickhouse", f"chdb://{settings.path.resolve()}", "--database", database]
    if settings.backend == "server" and settings.url:
        return ["--clickhouse", settings.url, "--database", database]
    pytest.skip(f"a command cannot name the {settings.backend} backend's warehouse by address")
