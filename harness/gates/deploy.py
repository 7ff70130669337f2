"""Backups, cleanup of the broken tables, test views, real views, and rollback.

Nothing destructive runs without a verified backup first; against a server it also needs ``--prod`` (embedded
and throwaway databases are the only places it runs unguarded). Every view change writes the definition it
replaced to ``deploy_log``, which is all ``rollback`` needs.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from clickhouse_connect.driver.client import Client

from harness import gates
from harness.config import BROKEN_TABLES, FINAL_VIEWS, KEPT_TABLES, code_version
from harness.errors import HarnessError
from harness.gates.wallets import ReferenceWallet, WalletCheck, judge
from harness.pnl.build import DERIVED_TABLES
from harness.warehouse.backup import (
    Backup,
    backup_table,
    quote_ident,
    table_exists,
    unique_backup_id,
)
from harness.warehouse.lease import holds_lease

#: Every view a deploy changes (recorded in deploy_log, restored by rollback): the final views (the app's contract)
#: and the average-cost view served beside them. Base views first.
DEPLOYED_VIEWS = (*FINAL_VIEWS, "ui_wallet_pnl_summary")


def view_definition(client: Client, name: str) -> str:
    """``CREATE VIEW`` text of a view in the current database, '' when it does not exist."""
    rows = client.query(
        "SELECT create_table_query FROM system.tables WHERE database = currentDatabase() AND name = {n:String}",
        parameters={"n": name},
    ).result_rows
    return rows[0][0] if rows else ""


class DeployError(HarnessError, RuntimeError):
    """A cleanup, deploy or rollback step refused or failed; the message says what was (not) changed."""


@dataclass(frozen=True)
class Guard:
    """Who may run destructive statements: embedded/throwaway always; a server only with --prod."""

    backend: str
    prod: bool = False
    throwaway: bool = False

    def check(self, what: str) -> None:
        if self.backend == "server" and not (self.prod or self.throwaway):
            raise DeployError(f"{what} refused: destructive step on a ClickHouse server needs --prod")


@dataclass
class CleanupResult:
    dropped: list[Backup] = field(default_factory=list)
    absent: list[str] = field(default_factory=list)


@holds_lease("cleanup")
def cleanup_broken_tables(
    client: Client, guard: Guard, tables: tuple[str, ...] = BROKEN_TABLES, *, backup_id: str | None = None,
) -> CleanupResult:
    """Back up then drop each broken table; a table already gone is fine; a kept table is never dropped."""
    kept = set(tables) & set(KEPT_TABLES)
    if kept:
        raise DeployError(f"cleanup refused: {sorted(kept)} are tables the plan keeps")
    guard.check("cleanup")
    backup_id = unique_backup_id(client, backup_id)
    result = CleanupResult()
    for t in tables:
        quote_ident(t)
        if not table_exists(client, t):
            result.absent.append(t)
            continue
        b = backup_table(client, t, backup_id=backup_id, reason="cleanup: broken enriched table")
        if not b.verified:
            raise DeployError(
                f"cleanup stopped at {t}: backup {b.archive_db}.{b.archive_table} has {b.archive_rows} rows, "
                f"source {b.source_rows}; {t} was NOT dropped"
            )
        client.command(f"DROP TABLE {quote_ident(t)}")
        result.dropped.append(b)
    return result


def missing_kept_tables(client: Client) -> list[str]:
    return [t for t in KEPT_TABLES if not table_exists(client, t)]


def create_test_views(client: Client) -> dict[str, str]:
    """The dry run's ``<view>_test`` copies; returns their definitions."""
    from harness.pnl.build import create_views

    create_views(client, suffix="_test")
    return {v + "_test": view_definition(client, v + "_test") for v in DEPLOYED_VIEWS}


def drop_test_views(client: Client) -> list[str]:
    dropped = []
    for v in reversed(DEPLOYED_VIEWS):
        if table_exists(client, v + "_test"):
            client.command(f"DROP VIEW {quote_ident(v + '_test')}")
            dropped.append(v + "_test")
    return dropped


def wallet_values(client: Client, addresses: list[str], *, suffix: str = "") -> dict[str, dict[str, int]]:
    """{wallet: {realized, unrealized, total, ui_realized, ui_total}} in micro-USDC from the (suffixed) cash-flow
    summary view and the average-cost ui_wallet_pnl_summary view (when built); absent wallets omitted."""
    from harness.pnl.build import UI_VIEW

    view = quote_ident("wallet_pnl_summary_final" + suffix)
    ws = {"ws": [a.lower() for a in addresses]}
    res = client.query(
        f"SELECT wallet, realized_pnl, unrealized_pnl, total_pnl FROM {view} WHERE wallet IN {{ws:Array(String)}}",
        parameters=ws,
    )
    out = {w: {"realized": int(r), "unrealized": int(u), "total": int(t)} for w, r, u, t in res.result_rows}
    if table_exists(client, UI_VIEW + suffix):
        for w, r, t in client.query(f"SELECT wallet, ui_realized_pnl, ui_total_pnl FROM {quote_ident(UI_VIEW + suffix)} "
                                    "WHERE wallet IN {ws:Array(String)}", parameters=ws).result_rows:
            out.setdefault(w, {}).update({"ui_realized": int(r), "ui_total": int(t)})
    return out


def check_wallets(client: Client, wallets: list[ReferenceWallet], *, suffix: str = "") -> list[WalletCheck]:
    """Judge each wallet on its metric at its ``as_of``: from the (suffixed) views when as_of is at or after the
    data's last block time (the views already hold everything up to then), else recomputed as of that instant
    from the wallet's own raw rows (harness.pnl.asof)."""
    from harness.pnl.asof import wallet_pnl_as_of

    horizon = gates.watermark(client).time

    def at(w: ReferenceWallet) -> int | None:
        return None if w.as_of_ts is None or w.as_of_ts >= horizon else w.as_of_ts

    values = {(a, None): v for a, v in wallet_values(
        client, [w.address for w in wallets if at(w) is None], suffix=suffix).items()}
    for ts in sorted({at(w) for w in wallets} - {None}):
        for a, v in wallet_pnl_as_of(client, [w.address for w in wallets if at(w) == ts], ts).items():
            values[(a, ts)] = v
    return [judge(w, values.get((w.address, at(w)), {}).get(w.metric)) for w in wallets]


@dataclass
class DeployResult:
    deploy_id: str
    watermark: gates.Watermark
    backups: list[Backup]
    views: dict[str, str]  # view -> new definition
    checks: list[WalletCheck]



def _log(client: Client, deploy_id: str, action: str, view: str, previous: str, new: str, wm: int) -> None:
    client.insert(
        "deploy_log", [[deploy_id, action, view, previous, new, wm, code_version()]],
        column_names=["deploy_id", "action", "view_name", "previous_definition", "new_definition",
                      "watermark_block", "code_version"],
    )


@holds_lease("deploy")
def deploy(client: Client, guard: Guard, wallets: list[ReferenceWallet], *, deploy_id: str | None = None) -> DeployResult:
    """Backup, drop test views, create the real views, validate; on failed validation roll straight back."""
    if not (guard.prod or guard.throwaway):
        raise DeployError("deploy refused: needs --prod (tests use the throwaway stand-in)")
    wm = gates.require_previous(client, "deploy")
    deploy_id = unique_backup_id(client, deploy_id)
    backups = []
    for t in DERIVED_TABLES:
        b = backup_table(client, t, backup_id=deploy_id, reason="pre-deploy snapshot")
        if not b.verified:
            raise DeployError(f"deploy stopped before any view changed: backup of {t} not verified")
        backups.append(b)
    previous = {v: view_definition(client, v) for v in DEPLOYED_VIEWS}
    # Record the previous definitions before touching any view, so a deploy that dies half-way can be rolled back.
    for v in DEPLOYED_VIEWS:
        _log(client, deploy_id, "deploy", v, previous[v], "", wm.block)
    from harness.pnl.build import create_views

    try:
        drop_test_views(client)
        create_views(client, suffix="")
    except Exception as exc:
        rollback(client, guard, deploy_id=deploy_id)
        raise DeployError(f"deploy {deploy_id} rolled back: creating the views failed ({exc})") from exc
    new = {v: view_definition(client, v) for v in DEPLOYED_VIEWS}
    for v in DEPLOYED_VIEWS:
        _log(client, deploy_id, "deploy", v, previous[v], new[v], wm.block)
    checks = check_wallets(client, wallets)
    # A must wallet blocks unless it passed: "no data" is not a pass.
    blocking = [c for c in checks if c.outcome != "passed" and c.wallet.level == "must"]
    if blocking:
        rollback(client, guard, deploy_id=deploy_id)
        raise DeployError(
            f"deploy {deploy_id} rolled back: final validation did not pass for "
            + ", ".join(f"{c.wallet.name} ({c.outcome})" for c in blocking)
        )
    return DeployResult(deploy_id, wm, backups, new, checks)


def last_deploy_id(client: Client) -> str | None:
    rows = client.query(
        "SELECT deploy_id FROM deploy_log GROUP BY deploy_id "
        "HAVING countIf(action = 'deploy') > 0 AND countIf(action = 'rollback') = 0 "
        "ORDER BY max(at) DESC LIMIT 1"
    ).result_rows
    return rows[0][0] if rows else None


@holds_lease("rollback")
def rollback(client: Client, guard: Guard, *, deploy_id: str | None = None) -> dict[str, str]:
    """Restore the view definitions a deploy replaced (dropping views it created); returns view -> restored."""
    guard.check("rollback")
    deploy_id = deploy_id or last_deploy_id(client)
    if deploy_id is None:
        raise DeployError("rollback refused: no deploy in deploy_log that has not already been rolled back")
    res = client.query(
        "SELECT view_name, any(previous_definition), anyIf(new_definition, new_definition != ''), any(watermark_block) "
        "FROM deploy_log WHERE deploy_id = {d:String} AND action = 'deploy' GROUP BY view_name",
        parameters={"d": deploy_id},
    )
    # Base views first when re-creating (DEPLOYED_VIEWS order), whatever order the log rows came back in.
    order = {v: i for i, v in enumerate(DEPLOYED_VIEWS)}
    rows = sorted(res.result_rows, key=lambda r: order.get(r[0], len(order)))
    if not rows:
        raise DeployError(f"rollback refused: deploy {deploy_id!r} not found in deploy_log")
    restored = {}
    # Dependent views first when dropping, base views first when re-creating.
    for view, prev, new, wm in reversed(rows):
        client.command(f"DROP VIEW IF EXISTS {quote_ident(view)}")
    for view, prev, new, wm in rows:
        if prev:
            client.command(prev)
        _log(client, deploy_id, "rollback", view, new, prev, wm)
        restored[view] = prev
    return restored
