"""The package layout shows the architecture (issue 24): few top-level modules, none large, no import circle,
and the layers import downward only.

Why a test: a regroup decays one convenient import at a time; these are the rules that keep the folders true to the
data flow: the warehouse and operations plumbing at the bottom, then chain -> ingest -> P&L -> gates -> the
worlds (which drive the gates day by day) and serving -> the command line.
The import graph is read from the source with ast (every import, at module level or inside a function), so a
lazy import that closes a circle counts too.
"""
from __future__ import annotations

import ast
from pathlib import Path

HARNESS = Path(__file__).resolve().parents[2] / "harness"

#: Each package and the packages it may import (besides the top-level modules config, errors, deadline).
#: Reading it top down is the data flow; a new arrow upward is a design change, made here on purpose.
LAYERS = {
    "warehouse": set(),
    "ops": set(),
    "chain": {"warehouse", "ops"},
    "ingest": {"warehouse", "ops", "chain"},
    "pnl": {"warehouse", "ops", "chain", "ingest"},
    "gates": {"warehouse", "ops", "chain", "ingest", "pnl"},
    "worlds": {"warehouse", "ops", "chain", "ingest", "pnl", "gates"},
    "serve": {"warehouse", "ops", "chain", "ingest", "pnl", "gates"},
    "cli": {"warehouse", "ops", "chain", "ingest", "pnl", "gates", "worlds", "serve"},
}
TOP = {"__init__", "__main__", "config", "errors", "deadline"}


def module_name(path: Path) -> str:
    parts = path.relative_to(HARNESS.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in HARNESS.rglob("*.py")}


def imports(path: Path, known: dict[str, Path]) -> set[str]:
    """The harness modules a file imports: `from a.b import c` is a.b.c when that is a module, else a.b."""
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in known else node.module
                     for a in node.names]
        else:
            continue
        out |= {n for n in names if n in known}
    return out


def graph() -> dict[str, set[str]]:
    known = modules()
    return {name: imports(path, known) - {name} for name, path in known.items()}


def circles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on.add(root)
        while work:
            node, it = work[-1]
            nxt = next(it, None)
            if nxt is not None:
                if nxt not in index:
                    index[nxt] = low[nxt] = counter
                    counter += 1
                    stack.append(nxt)
                    on.add(nxt)
                    work.append((nxt, iter(sorted(edges[nxt]))))
                elif nxt in on:
                    low[node] = min(low[node], index[nxt])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                comp = []
                while True:
                    member = stack.pop()
                    on.discard(member)
                    comp.append(member)
                    if member == node:
                        break
                if len(comp) > 1:
                    found.append(sorted(comp))
    return found


def test_at_most_six_modules_at_the_top():
    top = sorted(p.name for p in HARNESS.glob("*.py"))
    assert len(top) <= 6, top
    assert {p.removesuffix(".py") for p in top} <= TOP, top


def test_no_module_over_600_lines():
    sizes = {str(p.relative_to(HARNESS.parent)): len(p.read_text().splitlines()) for p in HARNESS.rglob("*.py")}
    assert {f: n for f, n in sizes.items() if n > 600} == {}


def test_no_import_circle():
    assert circles(graph()) == []


def test_circle_finder_sees_a_circle():
    """The finder itself: a lazy import closing a loop is a circle, a diamond is not."""
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert circles({"a": {"b", "c"}, "b": {"d"}, "c": {"d"}, "d": set()}) == []


def test_layers_import_downward_only():
    upward = set()
    for name, targets in graph().items():
        parts = name.split(".")
        if len(parts) == 1 or parts[1] in TOP:
            continue
        pkg = parts[1]
        for t in targets:
            tp = t.split(".")
            if len(tp) == 1 or tp[1] in TOP:
                continue
            if tp[1] != pkg and tp[1] not in LAYERS[pkg]:
                upward.add(f"{name} -> {t}")
    assert sorted(upward) == []
