"""Gate report of one run: markdown for review threads, a self-contained HTML page with a variance chart.

The HTML has no external assets (inline CSS and SVG) so it opens from a CI artifact with no network.
"""
from __future__ import annotations

import html
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from clickhouse_connect.driver.client import Client

from harness import gates
from harness.errors import redact
from harness.warehouse.sql import load


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
    x = lambda v: left + plot_w / 2 + max(-span, min(span, v)) / span * plot_w / 2
    h = row_h * len(points) + 40
    parts = [(f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{h}" role="img" '
             f'aria-label="variance per reference wallet">'),
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


def html_page(run_id: str, rows: list[dict], ingest: list[dict] | None = None) -> str:
    body_rows = "\n".join(
        f"<tr class='{html.escape(r['outcome'])}'><td>{html.escape(r['stage'])}</td>"
        f"<td>{html.escape(r['check_name'])}</td><td>{html.escape(r['outcome'])}</td>"
        f"<td>{r['watermark_block']}</td><td class='num'>{_secs(duration(r))}</td>"
        f"<td>{html.escape(gates._short(r['detail']))}</td></tr>"
        for r in rows
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Gate report {html.escape(run_id)}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2rem; color: #222; }}
table {{ border-collapse: collapse; }} td, th {{ border: 1px solid #ccc; padding: 4px 8px; font-size: 13px; }}
tr.passed td:nth-child(3) {{ color: #2e7d32; }} tr.failed td:nth-child(3), tr.error td:nth-child(3) {{ color: #c62828; font-weight: bold; }}
tr.no_data td:nth-child(3), tr.skipped td:nth-child(3) {{ color: #757575; }}
td.num {{ text-align: right; font-variant-numeric: tabular-nums; }}
</style></head><body>
<h1>Gate report</h1><p>Run <code>{html.escape(run_id)}</code></p>
<h2>Reference wallet variance</h2>
{variance_svg(wallet_points(rows))}
<h2>Checks</h2>
<table><thead><tr><th>stage</th><th>check</th><th>outcome</th><th>block</th><th>seconds</th><th>detail</th></tr>
</thead>
<tbody>
{body_rows}
</tbody></table>
{_build_table(build_steps(rows))}
{_ingest_table(ingest or [])}
</body></html>
"""


def duration(row: dict) -> float | None:
    """Seconds a check took (finished_at - started_at), None when either is missing."""
    a, b = row.get("started_at"), row.get("finished_at")
    if not isinstance(a, datetime) or not isinstance(b, datetime):
        return None
    return max((b - a).total_seconds(), 0.0)


def _secs(v: float | None) -> str:
    return "" if v is None else f"{v:.2f}"


def _detail(text: str) -> dict | str:
    try:
        d = json.loads(text)
    except (ValueError, TypeError):
        return text
    return d if isinstance(d, dict) else text


def build_steps(rows: list[dict]) -> list[dict]:
    """Build timings the stage checks recorded (a detail with ``steps``: label → seconds), one entry per check."""
    out = []
    for r in rows:
        d = _detail(r["detail"])
        if isinstance(d, dict) and isinstance(d.get("steps"), dict):
            out.append({"stage": r["stage"], "check": r["check_name"], "seconds": d.get("seconds"),
                        "steps": {str(k): float(v) for k, v in d["steps"].items()}})
    return out


def _build_table(builds: list[dict]) -> str:
    if not builds:
        return ""
    body = []
    for b in builds:
        for label, secs in b["steps"].items():
            body.append(f"<tr><td>{html.escape(b['stage'])}</td><td>{html.escape(b['check'])}</td>"
                        f"<td>{html.escape(label)}</td><td class='num'>{secs:.3f}</td></tr>")
        if b.get("seconds") is not None:
            body.append(f"<tr><td>{html.escape(b['stage'])}</td><td>{html.escape(b['check'])}</td>"
                        f"<td><b>total</b></td><td class='num'><b>{float(b['seconds']):.3f}</b></td></tr>")
    return ("<h2>Build steps</h2>\n<table><thead><tr><th>stage</th><th>check</th><th>step</th><th>seconds</th>"
            "</tr></thead>\n<tbody>\n" + "\n".join(body) + "\n</tbody></table>")


def _ingest_table(runs: list[dict]) -> str:
    if not runs:
        return ""
    cols = ("command", "source", "from_block", "to_block", "status", "logs", "seconds")
    body = "\n".join("<tr>" + "".join(
        f"<td class='num'>{html.escape(str(r.get(c, '')))}</td>" if c in ("from_block", "to_block", "logs", "seconds")
        else f"<td>{html.escape(str(r.get(c, '')))}</td>" for c in cols) + "</tr>" for r in runs)
    head = "".join(f"<th>{c.replace('_', ' ')}</th>" for c in cols)
    return f"<h2>Ingest runs</h2>\n<table><thead><tr>{head}</tr></thead>\n<tbody>\n{body}\n</tbody></table>"


def ingest_runs_since(client: Client, since: datetime | None) -> list[dict]:
    """ingest_runs rows started at or after ``since`` (the stage session's start), with their seconds."""
    if since is None:
        return []
    res = client.query(load("checks/ingest_runs_since"), parameters={"since": since})
    out = []
    for r in res.result_rows:
        d = dict(zip(res.column_names, r))
        d["seconds"] = round(max((d["updated_at"] - d["started_at"]).total_seconds(), 0.0), 3)
        out.append(d)
    return out


def _iso(v) -> str | None:
    return v.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ") if isinstance(v, datetime) else v


def run_record(client: Client, run_id: str, *, refused: dict[str, str] | None = None,
               since: datetime | None = None) -> dict:
    """The machine-readable artefact of a stage run: every check, refusals, watermark, ingest and build stats."""
    rows = gates.run_rows(client, run_id)
    wm = gates.watermark(client)
    checks = [{
        "stage": r["stage"], "check": r["check_name"], "outcome": r["outcome"],
        "watermark_block": int(r["watermark_block"]), "watermark_time": _iso(r["watermark_time"]),
        "summary": gates._short(r["detail"]), "detail": _detail(r["detail"]),
        "started_at": _iso(r["started_at"]), "finished_at": _iso(r["finished_at"]),
        "duration_s": None if duration(r) is None else round(duration(r), 3), "fingerprint": r.get("fingerprint"),
    } for r in rows]
    ingest = [{k: _iso(v) for k, v in r.items()} for r in ingest_runs_since(client, since)]
    return {"run_id": run_id, "written_at": _iso(datetime.now(UTC)), "refused": dict(refused or {}),
            "watermark": {"block": wm.block, "time": wm.time}, "checks": checks, "ingest_runs": ingest,
            "build": build_steps(rows)}


def write_run_json(client: Client, run_id: str, out_dir: Path, **kwargs) -> Path:
    """``out_dir/run.json`` from run_record (redacted, like every report)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "run.json"
    path.write_text(redact(json.dumps(run_record(client, run_id, **kwargs), indent=2, default=str)) + "\n",
                    encoding="utf-8")
    return path


def write_reports(client: Client, run_id: str, out_dir: Path, *, since: datetime | None = None
                  ) -> tuple[Path, Path]:
    rows = gates.run_rows(client, run_id)
    out_dir.mkdir(parents=True, exist_ok=True)
    md = out_dir / "gate-report.md"
    page = out_dir / "gate-report.html"
    md.write_text(redact(markdown(run_id, rows)), encoding="utf-8")
    page.write_text(redact(html_page(run_id, rows, ingest_runs_since(client, since))), encoding="utf-8")
    return md, page
