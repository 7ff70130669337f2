"""The final views' public contract (harness/data/view_contract.yaml) and the check the dry run makes against it.

Why: Cascadian's app reads the final views by column name and type (the plan's realized_pnl_usd, condition_id_norm,
...), so a view edit that renames a column, turns money into Float or puts 0x back on a condition id breaks the app
without breaking any P&L figure. The dry run checks the ``_test`` views here before a deploy may run. The check
reads system.columns and a bounded sample of each view (counts come back, never rows in bulk).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml
from clickhouse_connect.driver.client import Client
from clickhouse_connect.driver.exceptions import ClickHouseError

from harness.config import DATA_DIR
from harness.errors import UsageError, first_line
from harness.warehouse.sql import load

CONTRACT_FILE = DATA_DIR / "view_contract.yaml"
#: Rows of each view the format and USD checks read (LIMIT in SQL): enough to catch a systematic mistake, bounded
#: at any warehouse size.
DEFAULT_SAMPLE = 10_000
MICROS_PER_USD = 1_000_000
_SUFFIX = re.compile(r"^[A-Za-z0-9_]{0,40}$")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class ViewContractError(UsageError):
    """The contract file itself is malformed: ``<file>: <where>: <problem>``."""


@dataclass(frozen=True)
class ColumnRule:
    name: str
    type: str  # as system.columns spells it, e.g. "Decimal(76, 6)"
    pattern: str | None = None  # every sampled non-NULL value matches (RE2)
    micro: str | None = None  # this USD column = that micro-USDC column / 10^6, exactly


@dataclass(frozen=True)
class ViewRule:
    view: str
    columns: tuple[ColumnRule, ...]


@dataclass(frozen=True)
class Contract:
    views: tuple[ViewRule, ...]
    forbidden_types: tuple[str, ...]


@dataclass(frozen=True)
class Violation:
    """One way a view breaks the contract."""

    view: str
    column: str  # "" for the view as a whole
    expected: str
    found: str

    def __str__(self) -> str:
        where = f"{self.view}.{self.column}" if self.column else self.view
        return f"{where}: expected {self.expected}, found {self.found}"


def load_contract(path: Path = CONTRACT_FILE) -> Contract:
    """The contract as declared in ``path``; ViewContractError naming the file and key when it is malformed."""
    def bad(where: str, problem: str) -> ViewContractError:
        return ViewContractError(f"{path}: {where}: {problem}")

    try:
        with open(path, encoding="utf-8") as fh:
            doc = yaml.safe_load(fh)
    except OSError as exc:
        raise ViewContractError(f"{path}: cannot read ({exc.strerror or exc})") from None
    except yaml.YAMLError as exc:
        raise ViewContractError(f"{path}: not YAML ({first_line(exc)})") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("views"), dict) or not doc["views"]:
        raise bad("views", "a mapping of view name -> {columns: ...} is required")
    forbidden = doc.get("forbidden_types", [])
    if not isinstance(forbidden, list) or not all(isinstance(t, str) and _NAME.match(t) for t in forbidden):
        raise bad("forbidden_types", "a list of ClickHouse type names is required")
    views = []
    for vname, vdef in doc["views"].items():
        if not isinstance(vname, str) or not _NAME.match(vname):
            raise bad(f"views.{vname}", "not a plain view name")
        cols = vdef.get("columns") if isinstance(vdef, dict) else None
        if not isinstance(cols, dict) or not cols:
            raise bad(f"views.{vname}.columns", "a mapping of column name -> {type: ...} is required")
        rules = []
        for cname, cdef in cols.items():
            where = f"views.{vname}.columns.{cname}"
            if not isinstance(cname, str) or not _NAME.match(cname):
                raise bad(where, "not a plain column name")
            if not isinstance(cdef, dict) or not isinstance(cdef.get("type"), str) or not cdef["type"].strip():
                raise bad(where, "type is required (a ClickHouse type, as system.columns spells it)")
            unknown = set(cdef) - {"type", "pattern", "micro"}
            if unknown:
                raise bad(where, f"unknown keys {sorted(unknown)} (type, pattern, micro)")
            pattern, micro = cdef.get("pattern"), cdef.get("micro")
            if pattern is not None:
                try:
                    re.compile(pattern)
                except (re.error, TypeError) as exc:
                    raise bad(f"{where}.pattern", f"{pattern!r} is not a regular expression ({exc})") from None
            if micro is not None and micro not in cols:
                raise bad(f"{where}.micro", f"{micro!r} is not a column of {vname}")
            rules.append(ColumnRule(cname, cdef["type"].strip(), pattern, micro))
        views.append(ViewRule(vname, tuple(rules)))
    return Contract(tuple(views), tuple(forbidden))


def view_columns(client: Client, views: list[str]) -> dict[str, dict[str, str]]:
    """{view: {column: type}} from system.columns, in column order; a missing view is absent."""
    out: dict[str, dict[str, str]] = {}
    for table, name, typ in client.query(load("checks/view_columns"), parameters={"views": views}).result_rows:
        out.setdefault(table, {})[name] = typ
    return out


def check_view_contract(client: Client, suffix: str = "", *, sample: int = DEFAULT_SAMPLE,
                        contract: Contract | None = None) -> list[Violation]:
    """Every way the views ``<view><suffix>`` break the contract; empty when they keep it.

    Types from system.columns (each declared column present with its exact type; no column of any forbidden type),
    then on the first ``sample`` rows of each view: values match their pattern, and each USD column equals its
    micro-USDC column / 10^6 exactly.
    """
    if not _SUFFIX.match(suffix):
        raise UsageError(f"view suffix {suffix!r}: letters, digits and _ only")
    if sample < 1:
        raise UsageError(f"sample={sample} must be at least 1")
    contract = contract or load_contract()
    found = view_columns(client, [v.view + suffix for v in contract.views])
    forbidden = re.compile(r"\b(" + "|".join(map(re.escape, contract.forbidden_types)) + r")\b") \
        if contract.forbidden_types else None
    out: list[Violation] = []
    for rule in contract.views:
        view = rule.view + suffix
        cols = found.get(view)
        if cols is None:
            out.append(Violation(view, "", "a view with columns " + ", ".join(c.name for c in rule.columns),
                                 "no such view"))
            continue
        if forbidden:
            out += [Violation(view, c, "no " + "/".join(contract.forbidden_types) + " column", t)
                    for c, t in cols.items() if forbidden.search(t)]
        typed = set()
        for c in rule.columns:
            if c.name not in cols:
                out.append(Violation(view, c.name, c.type, "no such column"))
            elif cols[c.name] != c.type:
                out.append(Violation(view, c.name, c.type, cols[c.name]))
            else:
                typed.add(c.name)
        checks = [("checks/view_pattern", c.name, f"values matching {c.pattern}",
                   {"column": c.name, "pattern": c.pattern}) for c in rule.columns
                  if c.name in typed and c.pattern is not None]
        checks += [("checks/view_usd_micro", c.name, f"= {c.micro} / {MICROS_PER_USD}", {"usd": c.name, "micro": c.micro})
                   for c in rule.columns if c.name in typed and c.micro in typed]
        for query, column, expected, params in checks:
            try:
                n, bad, example = client.query(load(query), parameters={**params, "view": view, "n": sample}
                                               ).result_rows[0]
            except ClickHouseError as exc:  # the view itself does not answer: one finding, not one per column
                out.append(Violation(view, "", "a view that answers a query", f"an error: {first_line(exc, 300)}"))
                break
            if bad:
                out.append(Violation(view, column, expected, f"{bad} of {n} sampled rows not, e.g. {example!r}"))
    return out
