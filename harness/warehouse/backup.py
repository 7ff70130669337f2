"""Verified table backups: a copy of every row in ``<db>_archive``, checked by row count and recorded in
``backups``, before anything destructive.

Why in the warehouse layer: the schema's adoption of a legacy warehouse archives tables with the same primitive
that cleanup and deploy use, and no destructive statement may run without one.
"""
from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timezone

from clickhouse_connect.driver.client import Client

from harness.errors import HarnessError
from harness.warehouse.sql import load

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,200}$")


class BackupError(HarnessError, RuntimeError):
    """A backup was refused or failed; the message says what was (not) changed."""


def quote_ident(name: str) -> str:
    if not _IDENT.match(name):
        raise BackupError(f"{name!r} is not a plain table or view name")
    return f"`{name}`"


def _database(client: Client) -> str:
    return client.query("SELECT currentDatabase()").result_rows[0][0]


def archive_database(client: Client) -> str:
    return _database(client) + "_archive"


def table_exists(client: Client, name: str, database: str | None = None) -> bool:
    rows = client.query(
        "SELECT count() FROM system.tables WHERE database = {db:String} AND name = {n:String}",
        parameters={"db": database or _database(client), "n": name},
    ).result_rows
    return rows[0][0] > 0


@dataclass(frozen=True)
class Backup:
    backup_id: str
    table: str
    archive_db: str
    archive_table: str
    source_rows: int
    archive_rows: int

    @property
    def verified(self) -> bool:
        return self.source_rows == self.archive_rows


def unique_backup_id(client: Client, wanted: str | None = None) -> str:
    """``wanted`` when no backup used it yet, else ``wanted`` with a random suffix: a backup id names one backup."""
    bid = wanted or new_backup_id()
    if not re.fullmatch(r"[A-Za-z0-9_]{1,100}", bid):
        raise BackupError(f"backup id {bid!r}: letters, digits and _ only")
    while client.query(load("checks/backup_ids"), parameters={"id": bid, "adb": archive_database(client)}).result_rows:
        bid = f"{wanted or 'backup'}_{secrets.token_hex(3)}"
    return bid


@dataclass(frozen=True)
class BrokenBackup:
    """A backup the ledger lists as verified that could not be restored: its archive table is gone, or it no
    longer holds the rows it was verified with."""

    backup_id: str
    table: str
    archive_db: str
    archive_table: str
    archive_rows: int
    rows_now: int | None  # None: the archive table is gone (or is not a table with a row count)

    def __str__(self) -> str:
        where = f"backup {self.backup_id} of {self.table}: {self.archive_db}.{self.archive_table}"
        if self.rows_now is None:
            return f"{where} is gone (the ledger says {self.archive_rows} rows, verified)"
        return f"{where} holds {self.rows_now} rows, the ledger says {self.archive_rows}"


def missing_backups(client: Client) -> list[BrokenBackup]:
    """Backups listed in ``backups`` whose archive is absent or changed: should be none. Metadata only (the
    ledger and system.tables of the archive databases), so it is cheap at any warehouse size."""
    if not table_exists(client, "backups"):
        return []
    rows = client.query(load("checks/backups_missing")).result_rows
    return [BrokenBackup(bid, t, adb, at, int(n), int(now) if present and now is not None else None)
            for bid, t, adb, at, n, present, now in rows]


def backup_table(client: Client, table: str, *, backup_id: str, reason: str) -> Backup:
    """Copy every row of ``table`` into ``<db>_archive.<table>__<backup_id>`` and check the row count.

    Never overwrites: an archive table of that name already existing is an error, and the ``backups`` row is
    written only once the archive exists (a failed copy leaves neither).
    """
    db = _database(client)
    adb = archive_database(client)
    atable = f"{table}__{backup_id}"
    client.command(f"CREATE DATABASE IF NOT EXISTS {quote_ident(adb)}")
    src_rows = client.query(f"SELECT count() FROM {quote_ident(table)}").result_rows[0][0]
    if table_exists(client, atable, adb):
        raise BackupError(f"backup {adb}.{atable} already exists: backups are never overwritten "
                          "(use a new backup id); nothing was changed")
    # A plain MergeTree snapshot: a backup keeps rows as they are, it must not merge or deduplicate them.
    try:
        client.command(
            f"CREATE TABLE {quote_ident(adb)}.{quote_ident(atable)} ENGINE = MergeTree ORDER BY tuple() "
            f"AS SELECT * FROM {quote_ident(db)}.{quote_ident(table)}"
        )
    except Exception as exc:
        if "already exists" in str(exc).lower():
            raise BackupError(f"backup {adb}.{atable} already exists: backups are never overwritten; "
                              "nothing was changed") from None
        client.command(f"DROP TABLE IF EXISTS {quote_ident(adb)}.{quote_ident(atable)}")  # our own partial copy
        raise
    arch_rows = client.query(f"SELECT count() FROM {quote_ident(adb)}.{quote_ident(atable)}").result_rows[0][0]
    b = Backup(backup_id, table, adb, atable, int(src_rows), int(arch_rows))
    client.insert(
        "backups",
        [[backup_id, db, table, adb, atable, b.source_rows, b.archive_rows, int(b.verified), reason]],
        column_names=["backup_id", "source_db", "source_table", "archive_db", "archive_table", "source_rows",
                      "archive_rows", "verified", "reason"],
    )
    return b


def new_backup_id() -> str:
    return datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S") + "_" + secrets.token_hex(3)
