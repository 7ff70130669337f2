"""Apply ``sql/schema/*.sql`` forward only, refuse (or adopt) a legacy warehouse, and record what was applied.

Each file is one statement: ``CREATE TABLE IF NOT EXISTS`` or ``ALTER TABLE``. A file is applied once and recorded
(version, file, checksum) in ``schema_version``; an applied file whose text changed is an error, because the live
table would silently keep its old columns. Changes go in a new numbered ALTER file. A table of the harness's name
with other columns (Cascadian's own ``outcome_positions_v2``, say) is never written into: it is refused, or on
request archived and renamed out of the way first. The harness's columns are read from the DDL itself (created in
a scratch database), never from a hand-kept list.
"""
from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from clickhouse_connect.driver.client import Client

from harness.config import FINAL_VIEWS, SQL_DIR
from harness.errors import UsageError

_NUM = re.compile(r"^(\d+)_")
_CREATE = re.compile(r"^(\s*CREATE TABLE IF NOT EXISTS\s+)`?(\w+)`?", re.IGNORECASE | re.MULTILINE)
_ALTER = re.compile(r"^(\s*ALTER TABLE\s+)`?(\w+)`?", re.IGNORECASE | re.MULTILINE)
_DROP = re.compile(r"^(\s*DROP TABLE IF EXISTS\s+)`?(\w+)`?", re.IGNORECASE | re.MULTILINE)
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,200}$")


class SchemaError(UsageError):
    """The schema files or the warehouse's tables disagree with the harness; nothing was changed (exit 2)."""


class EditedSchemaFiles(SchemaError):
    """Applied schema files whose text changed since: schema changes are forward only."""


class LegacyTables(SchemaError):
    """Tables of the harness's names holding other columns (a legacy warehouse), found without --adopt-legacy."""

    def __init__(self, message: str, tables: list[LegacyTable]):
        super().__init__(message)
        self.tables = tables


@dataclass(frozen=True)
class SchemaFile:
    version: int
    name: str
    text: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.text.encode()).hexdigest()[:16]

    @property
    def kind(self) -> str:
        """'create', 'alter' or 'drop' (schema_files refuses anything else)."""
        pattern = _statement(self.text)[0]
        return "create" if pattern is _CREATE else "drop" if pattern is _DROP else "alter"

    @property
    def table(self) -> str:
        return _statement(self.text)[1].group(2)

    def in_database(self, database: str) -> str:
        """The statement with its table qualified by ``database`` (for the scratch probe)."""
        pattern, _m = _statement(self.text)
        return pattern.sub(lambda m: f"{m.group(1)}`{database}`.`{m.group(2)}`", self.text, count=1)


def _statement(text: str):
    body = "\n".join(ln for ln in text.splitlines() if not ln.lstrip().startswith("--"))
    for pattern in (_CREATE, _ALTER, _DROP):
        m = pattern.match(body.lstrip("\n"))
        if m:
            return pattern, m
    return None, None


def schema_files(folder: Path | None = None) -> list[SchemaFile]:
    """The schema files in apply order; a file that is not one numbered CREATE/ALTER/DROP TABLE is refused.

    A ``DROP TABLE IF EXISTS t`` file retires the files before it that create or alter ``t``: they are left out
    (never applied on a new warehouse, never compared), and the drop runs once on a warehouse that has them."""
    folder = folder or SQL_DIR / "schema"
    out = []
    for path in sorted(folder.glob("*.sql")):
        m = _NUM.match(path.name)
        if not m:
            raise SchemaError(f"schema file {path} must start with a number, like 010_name.sql")
        f = SchemaFile(int(m.group(1)), path.name, path.read_text(encoding="utf-8").strip().rstrip(";"))
        if _statement(f.text)[0] is None:
            raise SchemaError(f"schema file {path} must hold one 'CREATE TABLE IF NOT EXISTS name', "
                              "'ALTER TABLE name' or 'DROP TABLE IF EXISTS name' statement")
        out.append(f)
    versions = [f.version for f in out]
    if len(set(versions)) != len(versions):
        raise SchemaError(f"duplicate schema file numbers in {folder}: {sorted(versions)}")
    return [f for i, f in enumerate(out)
            if f.kind == "drop" or not any(d.kind == "drop" and d.table == f.table for d in out[i + 1:])]


def _present(client: Client, names: list[str]) -> set[str]:
    return {r[0] for r in client.query(
        "SELECT name FROM system.tables WHERE database = currentDatabase() AND name IN {n:Array(String)}",
        parameters={"n": names}).result_rows}


def recorded_files(client: Client) -> dict[str, str]:
    """file -> checksum recorded when it was applied ({} before the first apply)."""
    if not _present(client, ["schema_version"]):
        return {}
    return dict(client.query(
        "SELECT file, argMax(checksum, applied_at) FROM schema_version GROUP BY file").result_rows)


def _up_to_date(client: Client, sfiles: list[SchemaFile]) -> bool:
    """Every file recorded with its current checksum and every table present: nothing to do."""
    names = sorted({f.table for f in sfiles if f.kind == "create"})
    if _present(client, names) != set(names):
        return False
    recorded = recorded_files(client)
    return all(recorded.get(f.name) == f.checksum for f in sfiles)


def apply_schema(client: Client, *, adopt_legacy: bool = False, report: Callable[[str], None] | None = None,
                 folder: Path | None = None) -> int:
    """Apply every schema file not yet applied, in order; return the schema version now in force.

    Refuses (nothing changed) when an applied file was edited, or when a table of the harness's name holds other
    columns, unless ``adopt_legacy``: then each such table is archived and renamed first (``report`` gets one
    line per table). Skips the DDL (about 1.5 s on chDB) when every file is recorded and every table exists.
    """
    sfiles = schema_files(folder)
    if _up_to_date(client, sfiles):
        return sfiles[-1].version
    recorded = recorded_files(client)
    edited = [f for f in sfiles if f.name in recorded and recorded[f.name] != f.checksum]
    if edited:
        raise EditedSchemaFiles(
            "schema files changed after they were applied: " + ", ".join(
                f"sql/schema/{f.name} (applied {recorded[f.name]}, now {f.checksum})" for f in edited)
            + "; schema changes are forward only: restore the file and put the change in a new numbered file "
              f"(e.g. {sfiles[-1].version + 1:03d}_<what>.sql with ALTER TABLE ...); nothing was changed")
    legacy = legacy_tables(client, sfiles, recorded)
    if legacy:
        if not adopt_legacy:
            db = _database(client)
            raise LegacyTables(
                f"{len(legacy)} table(s) in database {db} already exist with other columns than the harness's "
                f"(a legacy warehouse; nothing was changed; rerun with --adopt-legacy to copy each to {db}_archive, "
                "rename it out of the way and create the harness's table, dropping no row): "
                + " | ".join(t.describe() for t in legacy), legacy)
        for line in adopt_tables(client, legacy, sfiles):
            if report:
                report(line)
    present = _present(client, sorted({f.table for f in sfiles}))
    created: set[str] = set()
    new = []
    for f in sfiles:
        if f.kind == "create":
            if f.table not in present or f.name not in recorded:
                client.command(f.text)  # IF NOT EXISTS: recreates a dropped table, else a no-op
                if f.table not in present:
                    created.add(f.table)
                    present.add(f.table)
        elif f.kind == "drop":
            if f.name not in recorded:
                client.command(f.text)
                present.discard(f.table)
        elif f.name not in recorded or f.table in created:
            # Applied once; again only onto a table just recreated from its CREATE file (hence ALTER files are
            # written idempotent: ADD COLUMN IF NOT EXISTS, MODIFY COLUMN, DROP COLUMN IF EXISTS).
            client.command(f.text)
        if f.name not in recorded:
            new.append([f.version, f.name, f.checksum])
    if new:
        client.insert("schema_version", new, column_names=["version", "file", "checksum"])
    return sfiles[-1].version


def current_version(client: Client) -> int | None:
    rows = client.query("SELECT max(version) FROM schema_version FINAL").result_rows
    return rows[0][0] if rows and rows[0][0] else None


def drifted(client: Client, folder: Path | None = None) -> list[str]:
    """Schema files whose recorded checksum differs from the file on disk (edited after apply)."""
    recorded = recorded_files(client)
    return [f.name for f in schema_files(folder) if f.name in recorded and recorded[f.name] != f.checksum]


# --- legacy tables --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class LegacyTable:
    """A table of the harness's name whose columns (or engine) differ from what the schema files give it."""

    table: str
    missing: tuple[tuple[str, str], ...]  # (name, type) the harness expects, absent
    unexpected: tuple[tuple[str, str], ...]  # (name, type) found, not the harness's
    retyped: tuple[tuple[str, str, str], ...]  # (name, expected type, found type)
    engine: tuple[str, str] | None = None  # (expected, found) when they differ: a view or another engine

    def describe(self) -> str:
        parts = [f"engine {self.engine[1]}, expected {self.engine[0]}"] if self.engine else []
        if self.missing:
            parts.append("expected " + ", ".join(f"{n} {t}" for n, t in self.missing) + " not found")
        if self.unexpected:
            parts.append("found " + ", ".join(f"{n} {t}" for n, t in self.unexpected) + " not expected")
        parts += [f"{n} is {found}, expected {exp}" for n, exp, found in self.retyped]
        return f"{self.table}: " + "; ".join(parts)


def _database(client: Client) -> str:
    return client.query("SELECT currentDatabase()").result_rows[0][0]


def _engines(client: Client, database: str, tables: list[str]) -> dict[str, str]:
    return dict(client.query(
        "SELECT name, engine FROM system.tables WHERE database = {db:String} AND name IN {t:Array(String)}",
        parameters={"db": database, "t": tables}).result_rows)


def _columns(client: Client, database: str, tables: list[str]) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {t: {} for t in tables}
    for t, name, typ in client.query(
            "SELECT table, name, type FROM system.columns WHERE database = {db:String} "
            "AND table IN {t:Array(String)} ORDER BY table, position",
            parameters={"db": database, "t": tables}).result_rows:
        out[t][name] = typ
    return out


def expected_columns(client: Client, sfiles: list[SchemaFile], tables: list[str],
                     recorded: dict[str, str] | None = None) -> dict[str, dict[str, str]]:
    """table -> {column: type} as the schema files make it (see ``expected_shapes``)."""
    return expected_shapes(client, sfiles, tables, recorded)[0]


def expected_shapes(client: Client, sfiles: list[SchemaFile], tables: list[str],
                    recorded: dict[str, str] | None = None) -> tuple[dict[str, dict[str, str]], dict[str, str]]:
    """({table: {column: type}}, {table: engine}) as the schema files make them on this server: each CREATE plus
    the ALTER files already recorded (a pending ALTER is not a difference), run in a scratch database that is
    dropped afterwards."""
    recorded = recorded or {}
    probe = f"{_database(client)}_schema_probe_{secrets.token_hex(4)}"
    client.command(f"CREATE DATABASE `{probe}`")
    try:
        for f in sfiles:
            if f.table in tables and (f.kind == "create" or (f.kind == "alter" and f.name in recorded)):
                client.command(f.in_database(probe))
        return _columns(client, probe, tables), _engines(client, probe, tables)
    finally:
        client.command(f"DROP DATABASE IF EXISTS `{probe}`")


def legacy_tables(client: Client, sfiles: list[SchemaFile] | None = None,
                  recorded: dict[str, str] | None = None) -> list[LegacyTable]:
    """Existing tables of the harness's names whose columns (name and type) or engine differ from the files'."""
    sfiles = sfiles or schema_files()
    recorded = recorded_files(client) if recorded is None else recorded
    retiring = {f.table for f in sfiles if f.kind == "drop" and f.name not in recorded}  # dropped, not adopted
    existing = sorted(_present(client, sorted({f.table for f in sfiles if f.kind == "create"} - retiring)))
    if not existing:
        return []
    expected, engines = expected_shapes(client, sfiles, existing, recorded)
    db = _database(client)
    found, found_engines = _columns(client, db, existing), _engines(client, db, existing)
    out = []
    for t in existing:
        d = column_diff(t, expected[t], found[t])
        if engines[t] != found_engines[t]:
            d = replace(d or LegacyTable(t, (), (), ()), engine=(engines[t], found_engines[t]))
        if d is not None:
            out.append(d)
    return out


def column_diff(table: str, expected: dict[str, str], found: dict[str, str]) -> LegacyTable | None:
    """How ``found`` ({column: type}) differs from ``expected``; None when they are the same (order aside)."""
    lt = LegacyTable(
        table,
        missing=tuple((n, ty) for n, ty in expected.items() if n not in found),
        unexpected=tuple((n, ty) for n, ty in found.items() if n not in expected),
        retyped=tuple((n, ty, found[n]) for n, ty in expected.items() if n in found and found[n] != ty),
    )
    return lt if (lt.missing or lt.unexpected or lt.retyped) else None


def legacy_dependents(client: Client, tables: list[str]) -> list[tuple[str, str, str, str]]:
    """(view, engine, legacy table, 'reads' or 'writes to') for every view or materialized view of the database,
    other than the harness's own and the legacy tables themselves, whose definition names one of ``tables``."""
    from harness.warehouse.sql import load

    db = _database(client)
    rows = client.query(load("checks/legacy_dependents"), parameters={"skip": list(FINAL_VIEWS)}).result_rows
    out = []
    for view, engine, ddl in rows:
        for t in tables:
            if view == t:
                continue
            qual = rf"(?:{re.escape(db)}|`{re.escape(db)}`)\.(?:{re.escape(t)}|`{re.escape(t)}`)(?![\w`])"
            if re.search(rf"\bTO\s+{qual}", ddl):
                out.append((view, engine, t, "writes to"))
            elif re.search(rf"(?<![\w`.]){qual}", ddl.split(" AS ", 1)[-1]):
                out.append((view, engine, t, "reads"))
    return out


def adopt_tables(client: Client, legacy: list[LegacyTable], sfiles: list[SchemaFile]) -> list[str]:
    """Archive each legacy table (verified copy in ``<db>_archive``, recorded in ``backups``), then rename it to
    ``<name>_legacy_<backup id>``; the caller then creates the harness's table. Returns one line per table."""
    from harness.warehouse.backup import backup_table, table_exists, unique_backup_id

    names = {t.table for t in legacy}
    if "backups" in names:
        raise SchemaError("the warehouse's own 'backups' table has other columns than the harness's: rename it "
                          "by hand (adoption records its archives there); nothing was changed")
    dependents = legacy_dependents(client, sorted(names))
    if dependents:  # renamed away, the legacy table's views would silently read (or a materialized view write) ours
        raise SchemaError(
            "cannot adopt: " + "; ".join(f"{v} ({engine}) {how} {t}" for v, engine, t, how in dependents)
            + ": drop them first and recreate them on <table>_legacy_<backup id> (which keeps every row) after "
              "adoption; nothing was changed")
    for f in sfiles:  # adoption records its archive copies in backups: make sure it is there first
        if f.table == "backups" and f.kind == "create":
            client.command(f.text)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    backup_id = unique_backup_id(client, f"adopt_{stamp}")
    lines = []
    for t in legacy:
        if not _IDENT.match(t.table):
            raise SchemaError(f"{t.table!r} is not a plain table name")
        aside = f"{t.table}_legacy_{backup_id}"
        if table_exists(client, aside):
            raise SchemaError(f"cannot move legacy {t.table} aside: {aside} already exists; {t.table} is unchanged")
        b = backup_table(client, t.table, backup_id=backup_id, reason=f"adopt-legacy: renamed to {aside}")
        if not b.verified:
            raise SchemaError(f"adopting {t.table} stopped: archive {b.archive_db}.{b.archive_table} has "
                              f"{b.archive_rows} rows, the table {b.source_rows}; {t.table} was NOT renamed")
        client.command(f"RENAME TABLE `{t.table}` TO `{aside}`")
        lines.append(f"adopted legacy {t.table}: {b.source_rows} rows copied to {b.archive_db}.{b.archive_table} "
                     f"({b.archive_rows} rows, verified), the original kept as {aside}; the harness's "
                     f"{t.table} is created empty")
    return lines
