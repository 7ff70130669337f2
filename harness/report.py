"""Gate report of one run: markdown for review threads, a self-contained HTML page with a variance chart.

The HTML has no external assets (inline CSS and SVG) so it opens from a CI artifact with no network.
"""
from __future__ import annotations

import html
import json
from dataclasses import dataclass
from pathlib import Path

from clickhouse_connect.driver.client import Client

from harness import gates
from harness.errors import redact


@dataclass(frozen=True)
class WalletPoint:
    name: str
    address: str
    variance_pct: float | None  # for drawing only; the gate decision is made on exact integers
    tolerance_pct: float
    bias_pct: float
    outcome: str
    detail: str


def wallet_points(rows: list[dict]) -> list[WalletPoint]:
    pts = []
    for r in rows:
        if not r["check_name"].startswith(("wallet:", "wallet[")):
            continue
        try:
            d = json.loads(r["detail"])
        except ValueError:
            continue
        var = d.get("variance_pct")
        pts.append(WalletPoint(
            name=d.get("name", r["check_name"][7:]), address=d.get("address", ""),
            variance_pct=None if var in (None, "") else float(var),
            tolerance_pct=float(d.get("tolerance_pct", 0)), bias_pct=float(d.get("expected_bias_pct", 0)),
            outcome=r["outcome"], detail=d.get("summary", ""),
        ))
    return pts


def markdown(run_id: str, rows: list[dict]) -> str:
    out = [f"# Gate report, run `{run_id}`", ""]
    if rows:
        wm = max(r["watermark_block"] for r in rows)
        out += [f"Watermark: block {wm}. Code version: {rows[-1]['code_version']}.", ""]
    counts: dict[str, int] = {}
    for r in rows:
        counts[r["outcome"]] = counts.get(r["outcome"], 0) + 1
    out += ["Outcomes: " + (", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "none"), ""]
    out += ["| stage | check | outcome | block | detail |", "|---|---|---|---|---|"]
    for r in rows:
        det = gates._short(r["detail"]).replace("|", "\\|")
        out.append(f"| {r['stage']} | {r['check_name']} | {r['outcome']} | {r['watermark_block']} | {det} |")
    pts = wallet_points(rows)
    if pts:
        out += ["", "## Reference wallets", "", "| wallet | variance % | tolerance % | bias % | outcome |",
                "|---|---|---|---|---|"]
        for p in pts:
            var = "no data" if p.variance_pct is None else f"{p.variance_pct:+.4f}"
            out.append(f"| {p.name} | {var} | ±{p.tolerance_pct:g} | {p.bias_pct:+g} | {p.outcome} |")
    return "\n".join(out) + "\n"


_COLOURS = {"passed": "#2e7d32", "failed": "#c62828", "no_data": "#9e9e9e", "skipped": "#9e9e9e", "error": "#6a1b9a"}


def variance_svg(points: list[WalletPoint], width: int = 720) -> str:
    """Horizontal bars of variance per wallet, with the allowed band (bias ± tolerance) shaded behind each."""
    if not points:
        return "<p>No reference wallets in this run.</p>"
    row_h, left, right = 28, 180, 40
    span = max([5.0] + [abs(p.variance_pct) for p in points if p.variance_pct is not None]
               + [abs(p.bias_pct) + p.tolerance_pct for p in points])
    span = min(span * 1.15, 1000.0)
    plot_w = width - left - right
    x = lambda v: left + plot_w / 2 + max(-span, min(span, v)) / span * plot_w / 2  # noqa: E731
    h = row_h * len(points) + 40
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{h}" role="img" '
             f'aria-label="variance per reference wallet">',
             f'<line x1="{x(0):.1f}" y1="10" x2="{x(0):.1f}" y2="{h - 25}" stroke="#555"/>']
    for i, p in enumerate(points):
        y = 15 + i * row_h
        lo, hi = x(p.bias_pct - p.tolerance_pct), x(p.bias_pct + p.tolerance_pct)
        parts.append(f'<rect x="{lo:.1f}" y="{y}" width="{max(hi - lo, 1):.1f}" height="{row_h - 8}" '
                     f'fill="#e3f2fd"><title>allowed band</title></rect>')
        parts.append(f'<text x="{left - 8}" y="{y + 14}" text-anchor="end" font-size="12">'
                     f'{html.escape(p.name)}</text>')
        colour = _COLOURS.get(p.outcome, "#000")
        if p.variance_pct is None:
            parts.append(f'<text x="{x(0) + 6:.1f}" y="{y + 14}" font-size="12" fill="{colour}">no data</text>')
            continue
        x0, x1 = sorted((x(0), x(p.variance_pct)))
        parts.append(f'<rect x="{x0:.1f}" y="{y + 4}" width="{max(x1 - x0, 2):.1f}" height="{row_h - 16}" '
                     f'fill="{colour}"><title>{html.escape(p.detail)}</title></rect>')
        parts.append(f'<text x="{x1 + 4:.1f}" y="{y + 14}" font-size="11">{p.variance_pct:+.3f}%</text>')
    parts.append(f'<text x="{x(-span):.1f}" y="{h - 8}" font-size="11">-{span:.1f}%</text>')
    parts.append(f'<text x="{x(span):.1f}" y="{h - 8}" font-size="11" text-anchor="end">+{span:.1f}%</text>')
    parts.append("</svg>")
    return "\n".join(parts)


def html_page(run_id: str, rows: list[dict]) -> str:
    body_rows = "\n".join(
        f"<tr class='{html.escape(r['outcome'])}'><td>{html.escape(r['stage'])}</td>"
        f"<td>{html.escape(r['check_name'])}</td><td>{html.escape(r['outcome'])}</td>"
        f"<td>{r['watermark_block']}</td><td>{html.escape(gates._short(r['detail']))}</td></tr>"
        for r in rows
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Gate report {html.escape(run_id)}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2rem; color: #222; }}
table {{ border-collapse: collapse; }} td, th {{ border: 1px solid #ccc; padding: 4px 8px; font-size: 13px; }}
tr.passed td:nth-child(3) {{ color: #2e7d32; }} tr.failed td:nth-child(3), tr.error td:nth-child(3) {{ color: #c62828; font-weight: bold; }}
tr.no_data td:nth-child(3), tr.skipped td:nth-child(3) {{ color: #757575; }}
</style></head><body>
<h1>Gate report</h1><p>Run <code>{html.escape(run_id)}</code></p>
<h2>Reference wallet variance</h2>
{variance_svg(wallet_points(rows))}
<h2>Checks</h2>
<table><thead><tr><th>stage</th><th>check</th><th>outcome</th><th>block</th><th>detail</th></tr></thead>
<tbody>
{body_rows}
</tbody></table>
</body></html>
"""


def write_reports(client: Client, run_id: str, out_dir: Path) -> tuple[Path, Path]:
    rows = gates.run_rows(client, run_id)
    out_dir.mkdir(parents=True, exist_ok=True)
    md = out_dir / "gate-report.md"
    page = out_dir / "gate-report.html"
    md.write_text(redact(markdown(run_id, rows)), encoding="utf-8")
    page.write_text(redact(html_page(run_id, rows)), encoding="utf-8")
    return md, page
