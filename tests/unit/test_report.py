"""Gate reports: markdown table and a self-contained HTML page with the variance chart."""
import json
import re

from harness import gates
from harness.gates import report


def _rows(fresh_db):
    run = gates.new_run_id()
    gates.record(fresh_db, run_id=run, stage="validate", check="wallet:alice", outcome="passed",
                 detail={"name": "alice", "address": "0x" + "a" * 40, "variance_pct": "1.5", "tolerance_pct": "5",
                         "expected_bias_pct": "0", "summary": "alice ok"})
    gates.record(fresh_db, run_id=run, stage="validate", check="wallet:bob", outcome="no_data",
                 detail={"name": "bob", "variance_pct": None, "tolerance_pct": "5", "summary": "bob: no data"})
    gates.record(fresh_db, run_id=run, stage="validate", check="wallet:carol", outcome="failed",
                 detail={"name": "carol", "variance_pct": "-12.25", "tolerance_pct": "2", "summary": "carol off"})
    return run


def test_reports_written_with_every_check(fresh_db, tmp_path):
    run = _rows(fresh_db)
    md, page = report.write_reports(fresh_db, run, tmp_path)
    text = md.read_text()
    assert f"run `{run}`" in text
    assert "| validate | wallet:carol | failed |" in text
    assert "| bob | no data | ±5 | +0 | no_data |" in text
    doc = page.read_text()
    assert "<svg" in doc and "http://" not in doc.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert doc.count("<tr class=") == 3
    # one bar per wallet with data, labelled with its variance
    assert "+1.500%" in doc and "-12.250%" in doc and "no data" in doc


def test_variance_bars_point_the_right_way():
    pts = [report.WalletPoint("up", "", 3.0, 5, 0, "passed", ""), report.WalletPoint("down", "", -3.0, 5, 0, "passed", "")]
    svg = report.variance_svg(pts)
    axis = float(re.search(r'<line x1="([\d.]+)"', svg).group(1))
    bars = re.findall(r'<rect x="([\d.]+)" y="\d+" width="([\d.]+)" height="\d+" fill="#2e7d32"', svg)
    (x_up, w_up), (x_down, w_down) = [(float(a), float(b)) for a, b in bars]
    assert abs(x_up - axis) < 0.01 and abs(x_down + w_down - axis) < 0.01 and abs(w_up - w_down) < 0.01


def test_durations_build_steps_and_ingest_runs_are_tables_and_in_run_json(fresh_db, tmp_path):
    from datetime import UTC, datetime, timedelta

    from harness.ingest import Run

    since = datetime.now(UTC) - timedelta(seconds=1)
    ing = Run(fresh_db, "file:w", "files", 100, 200)
    ing.record("done", logs=42, detail="ok")
    run = gates.new_run_id()
    start = datetime.now(UTC) - timedelta(seconds=2.5)
    steps = {"trade_cashflows_v3": 0.25, "wallet_token_avgcost": 1.5}
    gates.record(fresh_db, run_id=run, stage="backfill", check="rebuild", outcome="passed", started_at=start,
                 detail={"summary": "full build in 1.8s", "seconds": 1.8, "steps": steps, "derived": {"t": 3}})
    gates.record(fresh_db, run_id=run, stage="deploy", check="deploy", outcome="failed",
                 detail="stage 'deploy' refused: missing gate sync")
    _, page = report.write_reports(fresh_db, run, tmp_path, since=since)
    doc = page.read_text()
    build = doc.split("<h2>Build steps</h2>", 1)[1].split("</table>", 1)[0]
    assert re.search(r"<td>wallet_token_avgcost</td><td class='num'>1\.500</td>", build)
    assert re.search(r"<td><b>total</b></td><td class='num'><b>1\.800</b></td>", build)
    ingest = doc.split("<h2>Ingest runs</h2>", 1)[1].split("</table>", 1)[0]
    assert "<td>files</td><td>file:w</td><td class='num'>100</td><td class='num'>200</td><td>done</td>" in ingest
    checks = doc.split("<h2>Checks</h2>", 1)[1].split("</table>", 1)[0]
    secs = float(re.search(r"<td>rebuild</td><td>passed</td><td>\d+</td><td class='num'>([\d.]+)</td>",
                           checks).group(1))
    assert 2.4 <= secs < 60
    assert "{'" not in doc and "{&#x27;" not in doc  # no dict reprs anywhere

    path = report.write_run_json(fresh_db, run, tmp_path, refused={"deploy": "stage 'deploy' refused: x"},
                                 since=since)
    data = json.loads(path.read_text())
    assert data["refused"] == {"deploy": "stage 'deploy' refused: x"}
    rebuild, deploy = data["checks"]
    assert (rebuild["stage"], rebuild["check"], rebuild["outcome"]) == ("backfill", "rebuild", "passed")
    assert rebuild["detail"]["steps"] == steps and rebuild["summary"] == "full build in 1.8s"
    assert 2.4 <= rebuild["duration_s"] < 60 and deploy["duration_s"] < 5
    assert deploy["detail"] == "stage 'deploy' refused: missing gate sync"
    assert data["build"] == [{"stage": "backfill", "check": "rebuild", "seconds": 1.8, "steps": steps}]
    (row,) = data["ingest_runs"]
    assert (row["command"], row["from_block"], row["to_block"], row["logs"], row["status"]) == (
        "files", 100, 200, 42, "done")


def test_build_report_prints_one_readable_line():
    """What `sync` and `ingest-files --rebuild` end with: mode, cutoff as a UTC time, seconds, rows per table."""
    from harness.pnl.build import BuildReport

    full = BuildReport(mode="full", cutoff=None, rows={"wallet_market_pnl": 12_345, "winning_index": 7},
                       seconds=3.21)
    assert str(full) == ("full rebuild, no cutoff, in 3.2s: 12,352 derived rows (wallet_market_pnl 12,345, "
                         "winning_index 7)")
    ranged = BuildReport(mode="range", cutoff=1761955199, rows={}, seconds=0.04, from_block=5, to_block=9,
                         conditions=3)
    assert str(ranged) == ("range rebuild of blocks 5..9 (3 conditions), cutoff 2025-10-31 23:59:59 UTC, in 0.0s: "
                           "0 derived rows")
    wider = BuildReport(mode="range", cutoff=None, rows={}, seconds=0.04, from_block=5, to_block=9, conditions=3,
                        recomputed=5)
    assert str(wider).startswith("range rebuild of blocks 5..9 (3 conditions; 5 recomputed with the re-priced and "
                                 "re-resolved ones), no cutoff")
    same = BuildReport(mode="range", cutoff=None, rows={}, seconds=0.04, from_block=5, to_block=9, conditions=3,
                       recomputed=3)
    assert str(same).startswith("range rebuild of blocks 5..9 (3 conditions), no cutoff")
