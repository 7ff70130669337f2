"""Gate reports: markdown table and a self-contained HTML page with the variance chart."""
import json
import re

from harness import gates, report


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
