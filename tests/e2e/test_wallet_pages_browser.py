"""The dashboard's positions, history chart and activity, and the leaderboard page, in headless Chromium over a
built world stretched to 40 days; screenshots at 1280 and 375 px, each checked: the PNG is that wide, nothing is
off screen, the chart drew. What the pages show equals the API's answers (the API is checked against the oracle in
tests/integration/test_wallet_pages.py). Screenshots go to $HARNESS_SCREENSHOT_DIR when set (else a temp dir)."""
from __future__ import annotations

import os
import struct
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from harness.serve import app as api
from tests.e2e.test_dashboard import OFF_SCREEN, browser, usd  # noqa: F401 - browser is a fixture
from tests.integration.test_wallet_pages import built  # noqa: F401 - a fixture

WIDTHS = {"desktop": (1280, 900, False), "phone": (375, 740, True)}


@pytest.fixture(scope="module")
def site(built):  # noqa: F811
    with api.serve(lambda: built) as srv:
        wallet = built.query("SELECT wallet FROM wallet_market_pnl_avgcost GROUP BY wallet "
                             "ORDER BY count() DESC, wallet LIMIT 1").result_rows[0][0]
        yield srv.url, wallet


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    d = Path(os.environ.get("HARNESS_SCREENSHOT_DIR") or tmp_path_factory.mktemp("screenshots"))
    d.mkdir(parents=True, exist_ok=True)
    return d


def _size(browser, kind: str) -> None:  # noqa: F811 - the fixture's driver
    w, h, mobile = WIDTHS[kind]
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                            {"width": w, "height": h, "deviceScaleFactor": 1, "mobile": mobile})


def _open(browser, url: str) -> None:  # noqa: F811
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(url)
    WebDriverWait(browser, 30).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, "#activity tbody tr, #leaders tbody tr")
        and d.find_element(By.ID, "status").text in ("",))


def _png_width(path: Path) -> int:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n", path
    return struct.unpack(">I", head[16:20])[0]


def _check_screen(browser, shots: Path, name: str, kind: str) -> None:  # noqa: F811
    """The page fits the width, no table cell is off screen, and the screenshot is that wide."""
    inner, page, outside = browser.execute_script(OFF_SCREEN)
    assert inner == WIDTHS[kind][0] and page <= inner and outside == [], (kind, page, outside[:5])
    path = shots / f"{name}-{WIDTHS[kind][0]}.png"
    assert browser.get_screenshot_as_file(str(path))
    assert _png_width(path) == WIDTHS[kind][0]


def _micros(text: str) -> int:
    return int(Decimal(text) * 1_000_000)


@pytest.mark.parametrize("kind", ["desktop", "phone"])
def test_dashboard_positions_history_activity(browser, site, shots, kind):  # noqa: F811
    from selenium.webdriver.common.by import By

    url, wallet = site
    _size(browser, kind)
    try:
        _open(browser, f"{url}/?wallet={wallet}")
        with httpx.Client(base_url=url, timeout=60) as http:
            pnl = http.get(f"/wallets/{wallet}/pnl").json()
            pos = http.get(f"/wallets/{wallet}/positions").json()
            hist = {r: http.get(f"/wallets/{wallet}/pnl/history", params={"range": r}).json()
                    for r in ("1d", "1w", "1m", "all")}
        # positions: one row each, P&L cells sum to the UI total shown in the summary
        cells = browser.find_elements(By.CSS_SELECTOR, "#positions tbody td.pnl")
        assert len(cells) == len(pos["positions"])
        assert sum(_micros(c.get_attribute("title")) for c in cells) == _micros(pnl["ui"]["total"])
        total = browser.find_element(By.ID, "positions-total")
        assert total.get_attribute("title") == pnl["ui"]["total"] == \
            browser.find_element(By.CSS_SELECTOR, "#ui-pnl .ui-total").get_attribute("title")
        assert total.text == usd(pnl["ui"]["total"])
        # the chart: each range loads its points; the last is /pnl's total
        chart = browser.find_element(By.ID, "chart")
        for rng in ("1d", "1w", "all", "1m"):
            browser.find_element(By.CSS_SELECTOR, f'#ranges button[data-range="{rng}"]').click()
            want = str(len(hist[rng]["points"]))
            from selenium.webdriver.support.ui import WebDriverWait
            WebDriverWait(browser, 20).until(lambda d, w=want: chart.get_attribute("data-points") == w)
            assert chart.get_attribute("data-last-total") == pnl["total"]
        drawn = browser.execute_script(
            "const c = document.querySelector('#chart canvas'); const x = c.getContext('2d');"
            "const d = x.getImageData(0, 0, c.width, c.height).data; let n = 0;"
            "for (let i = 3; i < d.length; i += 4) if (d[i]) n++; return [n, c.getBoundingClientRect().right];")
        assert drawn[0] > 500 and drawn[1] <= WIDTHS[kind][0], drawn  # lines drawn, inside the screen
        # hover: the legend shows the exact point's values as USD
        from selenium.webdriver.common.action_chains import ActionChains
        over = browser.find_element(By.CSS_SELECTOR, "#chart .u-over")
        ActionChains(browser).move_to_element(over).perform()
        shown = [v.text for v in browser.find_elements(By.CSS_SELECTOR, "#chart .u-legend .u-series .u-value")]
        points = hist["1m"]["points"]
        assert shown[0] != "" and shown[1] in {usd(p["realized"]) for p in points} \
            and shown[2] in {usd(p["total"]) for p in points}, shown
        # activity: newest first, 25 a page, the CSV link
        rows = browser.find_elements(By.CSS_SELECTOR, "#activity tbody tr")
        assert 0 < len(rows) <= 25
        assert browser.find_element(By.ID, "csv").get_attribute("href").endswith(f"/wallets/{wallet}/activity.csv")
        _check_screen(browser, shots, "dashboard", kind)
    finally:
        browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


@pytest.mark.parametrize("kind", ["desktop", "phone"])
def test_leaderboard_volume_in_dollars_and_rank(browser, site, shots, kind):  # noqa: F811
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    url, _ = site
    _size(browser, kind)
    try:
        _open(browser, f"{url}/static/leaderboard.html?window=7d&metric=volume&limit=20")
        with httpx.Client(base_url=url, timeout=60) as http:
            board = http.get("/leaderboard", params={"window": "7d", "metric": "volume", "limit": 20}).json()
        values = browser.find_elements(By.CSS_SELECTOR, "#leaders tbody td.pnl")
        assert [v.get_attribute("title") for v in values] == [r["value"] for r in board["rows"]]
        assert [v.text for v in values] == [usd(r["value"]) for r in board["rows"]]
        assert browser.find_element(By.ID, "value-head").get_attribute("textContent") == "Volume"
        _check_screen(browser, shots, "leaderboard", kind)
        top = board["rows"][0]["wallet"]
        browser.find_element(By.ID, "rank-address").send_keys(top)
        browser.find_element(By.ID, "rank-go").click()
        WebDriverWait(browser, 20).until(lambda d: d.find_element(By.ID, "rank").text)
        assert browser.find_element(By.ID, "rank").text.startswith("#1 of ")
    finally:
        browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
