"""Gate records, stage order and the data watermark: what may run next, and on which data."""
from __future__ import annotations

from dataclasses import dataclass

from clickhouse_connect.driver.client import Client

from harness.sql import load


@dataclass(frozen=True)
class Watermark:
    """Highest block ingested and its unix time; gates only count for the watermark they ran on."""

    block: int
    time: int


def watermark(client: Client) -> Watermark:
    row = client.query(load("checks/watermark")).result_rows[0]
    return Watermark(int(row[0] or 0), int(row[1] or 0))
