"""Which blocks are ingested: checkpoints merged into coverage, and the gaps a resumed run must fetch."""
from __future__ import annotations

from collections.abc import Iterable

from clickhouse_connect.driver.client import Client

from harness.errors import check_span
from harness.warehouse.sql import load


def ingest_addresses() -> list[str]:
    """Every contract whose events the decoder knows (lower-case), in a stable order."""
    from harness.chain.events import by_address

    return sorted(by_address())


def ingest_topic0s() -> list[str]:
    """Every topic0 the decoder knows (fetching no longer filters on them: unknown ones are counted)."""
    from harness.chain.events import by_address

    return sorted({t for topics in by_address().values() for t in topics})


def merge_ranges(ranges: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """Union of closed block ranges, adjacent ones joined, sorted."""
    out: list[list[int]] = []
    for a, b in sorted(ranges):
        if out and a <= out[-1][1] + 1:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return [(a, b) for a, b in out]


def complement(covered: list[tuple[int, int]], lo: int, hi: int) -> list[tuple[int, int]]:
    """Closed ranges of [lo, hi] not in ``covered`` (which must be merged and sorted)."""
    holes, cur = [], lo
    for a, b in covered:
        if b < cur:
            continue
        if a > hi:
            break
        if a > cur:
            holes.append((cur, min(a - 1, hi)))
        cur = max(cur, b + 1)
        if cur > hi:
            break
    if cur <= hi:
        holes.append((cur, hi))
    return holes


def coverage(client: Client, source: str, *, lo: int = 0, hi: int = 2**63 - 1) -> dict[str, list[tuple[int, int]]]:
    """Merged ingested ranges per contract for a source (what checkpoints prove was inserted)."""
    per: dict[str, list[tuple[int, int]]] = {}
    for contract, a, b in client.query(load("ingest/checkpoint_ranges"),
                                       parameters={"source": source, "lo": lo, "hi": hi}).result_rows:
        per.setdefault(contract, []).append((int(a), int(b)))
    return {c: merge_ranges(r) for c, r in per.items()}


def gaps(client: Client, source: str, from_block: int, to_block: int,
         contracts: list[str] | None = None) -> list[tuple[int, int]]:
    """Block ranges in [from_block, to_block] never ingested for at least one contract, merged and sorted."""
    check_span(from_block, to_block, "gaps")
    cov = coverage(client, source, lo=from_block, hi=to_block)
    holes: list[tuple[int, int]] = []
    for c in contracts or ingest_addresses():
        holes += complement(cov.get(c, []), from_block, to_block)
    return merge_ranges(holes)


def contiguous_end(client: Client, source: str) -> int | None:
    """Last block of the coverage that runs without a hole (for every contract) from the first covered block."""
    cov = coverage(client, source)
    if not cov:
        return None
    first = min(r[0][0] for r in cov.values() if r)
    last = max(r[-1][1] for r in cov.values() if r)
    holes = gaps(client, source, first, last)
    end = holes[0][0] - 1 if holes else last
    return end if end >= first else None


def run_hull(client: Client, source: str) -> tuple[int, int] | None:
    """The hull of every block range requested of ``source`` so far (None before the first run)."""
    lo, hi, n = client.query(load("ingest/run_range"), parameters={"source": source}).result_rows[0]
    return (int(lo), int(hi)) if n else None


def source_gaps(client: Client) -> list[tuple[str, int, int, list[tuple[int, int]]]]:
    """(source, first, last, holes) per source with a hole inside the hull of its finished ingest runs: the
    blocks whose events every table built from them lacks (checkpoints only, no raw table is read)."""
    out = []
    for source, lo, hi, _runs in client.query(load("checks/ingest_hulls")).result_rows:
        holes = gaps(client, source, int(lo), int(hi))
        if holes:
            out.append((source, int(lo), int(hi), holes))
    return out


def describe_gaps(found: list[tuple[str, int, int, list[tuple[int, int]]]]) -> str:
    """One line: which source misses how many blocks, and the first hole of each."""
    return "; ".join(f"{s} blocks {lo}..{hi}: {len(h)} gap(s), {sum(b - a + 1 for a, b in h)} blocks never "
                     f"ingested (first {h[0][0]}..{h[0][1]})" for s, lo, hi, h in found)
