"""Mark prices from a CSV (a world's prices.csv) into imported_prices; the build applies them over fill prices."""
from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from clickhouse_connect.driver.client import Client

from harness.ingest import world_files as world
from harness.ingest.result import IngestError

PRICE_COLUMNS = ("condition_id", "outcome_index", "price_micros", "as_of", "source")


def read_prices(path: Path) -> list[tuple[str, int, int]]:
    """(condition id, outcome index, price in micro-USDC) rows; any bad line is an error naming file and line."""
    try:
        return world.read_prices(path)
    except world.WorldError as exc:
        raise IngestError(str(exc)) from None


def ingest_prices(client: Client, path: Path, *, source: str, as_of: int) -> int:
    """Import a prices CSV into imported_prices, dated ``as_of``; the build applies them over fill prices."""
    rows = read_prices(path)
    when = datetime.fromtimestamp(as_of, UTC)
    if rows:
        client.insert("imported_prices", [[c, i, p, when, source] for c, i, p in rows],
                      column_names=list(PRICE_COLUMNS))
    return len(rows)
