"""Apply ``sql/schema/*.sql`` in order, idempotently, and record what was applied.

Every file is one ``CREATE ... IF NOT EXISTS`` statement, so applying twice is a no-op; the version row
(file number + checksum) makes a drifted or partial schema visible instead of silently tolerated.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from clickhouse_connect.driver.client import Client

from harness.sql import files

_NUM = re.compile(r"^(\d+)_")


@dataclass(frozen=True)
class SchemaFile:
    version: int
    name: str
    text: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.text.encode()).hexdigest()[:16]


def schema_files() -> list[SchemaFile]:
    out = []
    for path in files("schema"):
        m = _NUM.match(path.name)
        if not m:
            raise ValueError(f"schema file {path} must start with a number, like 010_name.sql")
        out.append(SchemaFile(int(m.group(1)), path.name, path.read_text(encoding="utf-8").strip().rstrip(";")))
    versions = [f.version for f in out]
    if len(set(versions)) != len(versions):
        raise ValueError(f"duplicate schema file numbers in sql/schema: {sorted(versions)}")
    return out


_TABLE = re.compile(r"CREATE TABLE IF NOT EXISTS\s+`?(\w+)`?", re.I)


def _up_to_date(client: Client, sfiles: list[SchemaFile]) -> bool:
    """Every file recorded with its current checksum and every table present: nothing to do."""
    names = [m.group(1) for f in sfiles if (m := _TABLE.search(f.text))]
    present = {r[0] for r in client.query(
        "SELECT name FROM system.tables WHERE database = currentDatabase() AND name IN {n:Array(String)}",
        parameters={"n": names}).result_rows}
    if "schema_version" not in present or present != set(names):
        return False
    recorded = dict(client.query(
        "SELECT file, argMax(checksum, applied_at) FROM schema_version GROUP BY file").result_rows)
    return all(recorded.get(f.name) == f.checksum for f in sfiles)


def apply_schema(client: Client) -> int:
    """Create every table that is missing; return the schema version now in force.

    Skips the DDL (about 1.5 s on chDB) when the recorded checksums match the files and every table exists.
    """
    sfiles = schema_files()
    if _up_to_date(client, sfiles):
        return sfiles[-1].version
    for f in sfiles:
        client.command(f.text)
    client.insert(
        "schema_version",
        [[f.version, f.name, f.checksum] for f in sfiles],
        column_names=["version", "file", "checksum"],
    )
    return sfiles[-1].version


def current_version(client: Client) -> int | None:
    rows = client.query("SELECT max(version) FROM schema_version FINAL").result_rows
    return rows[0][0] if rows and rows[0][0] else None


def drifted(client: Client) -> list[str]:
    """Schema files whose recorded checksum differs from the file on disk (edited after apply)."""
    recorded = dict(client.query("SELECT file, argMax(checksum, applied_at) FROM schema_version GROUP BY file").result_rows)
    return [f.name for f in schema_files() if f.name in recorded and recorded[f.name] != f.checksum]
