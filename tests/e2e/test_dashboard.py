"""The dashboard in headless Chromium: look up a fixture wallet and check that what the page shows equals the
database (the summary view, read directly) and the values computed from the inserted rows; money as USD rounded
to cents exactly as Python's Decimal rounds it (the exact value on hover); market names from the metadata; no
horizontal page scroll at phone width."""
from __future__ import annotations

import os
import shutil
from decimal import ROUND_HALF_UP, Decimal, localcontext

import pytest

from harness.ingest.metadata import MarketMeta, insert_markets
from harness.serve import app as api
from tests.integration.test_api import T0, World, addr, api_db, dec, fixture_world  # noqa: F401 - api_db: fixture

CHROMIUM = os.environ.get("CHROMIUM_BIN") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = os.environ.get("CHROMEDRIVER_BIN") or shutil.which("chromedriver") or "/usr/bin/chromedriver"
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--window-size=1200,900")


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if not os.access(p, os.X_OK)]
    if missing:
        pytest.skip(f"headless Chromium e2e needs {' and '.join(missing)} (apt-get install chromium "
                    "chromium-driver, or scripts/setup-browser.sh)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for flag in FLAGS:
        opts.add_argument(flag)
    opts.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}")
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()


def usd(exact: str) -> str:
    """The USD text for an exact decimal string: Decimal quantized to cents, ROUND_HALF_UP (halves away from 0)."""
    with localcontext() as ctx:
        ctx.prec = 80
        q = Decimal(exact).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        return f"{'-' if q < 0 else ''}${abs(q):,.2f}"


C = {k: "0x" + k * 64 for k in "123456789"}
NAMES = {C["1"]: MarketMeta(C["1"], "Will it rain in Lisbon on May 1?", "rain-lisbon", ("Yes", "No")),
         C["4"]: MarketMeta(C["4"], "Bitcoin Up or Down - May 4, 9PM ET", "btc-updown", ("Up", "Down"))}
#: Rounding edges, stored as rows of wallet ee: half a cent each way, just under, a carry into the dollars and
#: thousands, and an amount past 2^53 micro-USDC (a float would lose it).
EDGES = {C["6"]: -5_000, C["7"]: 4_999, C["8"]: -4_999, C["9"]: 1_234_567_995_000}
EDGE_WORLD = World(resolved={c: ((1, 0), T0 + i * 3600) for i, c in enumerate(EDGES)},
                   holdings={addr("ee"): {c: ((0, 0), cf) for c, cf in EDGES.items()}})


@pytest.fixture(scope="module")
def site(api_db):  # noqa: F811
    world = fixture_world()
    world.insert(api_db)
    EDGE_WORLD.insert(api_db)
    insert_markets(api_db, list(NAMES.values()), version=1, source="test")
    with api.serve(lambda: api_db) as srv:
        yield srv.url, world


def _lookup(browser, url: str, address: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(url + "/")
    box = browser.find_element(By.ID, "address")
    box.clear()
    box.send_keys(address)
    browser.find_element(By.ID, "go").click()
    WebDriverWait(browser, 20).until(
        lambda d: d.find_element(By.ID, "status").text not in ("", "Loading…")
        or d.find_element(By.ID, "result").is_displayed())


def test_dashboard_shows_the_database_numbers(browser, site, api_db):  # noqa: F811
    from selenium.webdriver.common.by import By

    url, world = site
    wallet = addr("aa")
    _lookup(browser, url, wallet.upper().replace("0X", "0x"))
    assert browser.find_element(By.ID, "result").is_displayed(), browser.find_element(By.ID, "status").text
    cards = [browser.find_element(By.ID, k) for k in ("realized", "unrealized", "total")]
    exact = tuple(c.get_attribute("title") for c in cards)
    db = api_db.query("SELECT realized_pnl, unrealized_pnl, total_pnl FROM wallet_pnl_summary_final "
                      "WHERE wallet = {w:String}", parameters={"w": wallet}).result_rows[0]
    assert exact == tuple(dec(int(v)) for v in db) == tuple(dec(v) for v in world.totals(wallet))
    assert [c.text for c in cards] == [usd(e) for e in exact]

    table = _table(browser)
    want = world.markets(wallet)
    assert set(table) == set(want)
    for cid, (status, cf, value, pnl) in want.items():
        texts, titles = table[cid]
        assert texts[2] == status and titles[4:] == [dec(cf), dec(value), dec(pnl)]
        assert texts[4:] == [usd(dec(cf)), usd(dec(value)), usd(dec(pnl))]

    chart = browser.find_element(By.ID, "chart")  # the history's last point: the summary's realized and total
    assert (chart.get_attribute("data-last-realized"), chart.get_attribute("data-last-total")) == (exact[0], exact[2])
    assert browser.find_elements(By.CSS_SELECTOR, "#chart canvas")
    assert browser.find_element(By.ID, "legend-total").text == cards[2].text
    if os.environ.get("HARNESS_SCREENSHOT"):
        browser.save_screenshot(os.environ["HARNESS_SCREENSHOT"])


def _table(browser) -> dict[str, tuple[list[str], list[str]]]:
    """condition -> (cell texts, cell titles) of the per-market table."""
    from selenium.webdriver.common.by import By

    return {r.get_attribute("data-condition"): ([td.text for td in tds], [td.get_attribute("title") for td in tds])
            for r in browser.find_elements(By.CSS_SELECTOR, "#markets tbody tr")
            for tds in [r.find_elements(By.TAG_NAME, "td")]}


def test_market_names_and_outcomes_where_known(browser, site):
    url, world = site
    _lookup(browser, url, addr("aa"))
    table = _table(browser)
    for cid in world.markets(addr("aa")):
        texts, titles = table[cid]
        if cid in NAMES:
            m = NAMES[cid]
            assert texts[0] == m.question and texts[1] == " / ".join(m.outcomes)
            assert titles[0].splitlines() == [m.question, m.slug, cid]
        else:  # no metadata: the shortened condition id, the full one on hover
            assert texts[0] == f"{cid[:8]}…{cid[-6:]}" and texts[1] == "" and titles[0] == cid


def test_usd_rounding_equals_python_decimal_on_database_values(browser, site, api_db):  # noqa: F811
    """formatUSD in the page against Decimal.quantize(ROUND_HALF_UP) on every money amount the database holds
    (per-market cash flow, value and P&L; wallet totals), including wallet ee's half-cent edges, and as shown."""
    from selenium.webdriver.common.by import By

    url, _ = site
    micros = {int(v) for row in api_db.query(
        "SELECT cashflow, value, pnl FROM wallet_market_pnl UNION ALL "
        "SELECT realized_pnl, unrealized_pnl, total_pnl FROM wallet_pnl_summary_final").result_rows for v in row}
    assert set(EDGES.values()) <= micros
    values = sorted(dec(n) for n in micros | {-n for n in micros})
    _lookup(browser, url, addr("ee"))
    got = browser.execute_script("return arguments[0].map(formatUSD)", values)
    assert got == [usd(v) for v in values]
    assert usd(dec(-5_000)) == "-$0.01" and usd(dec(-4_999)) == "$0.00" and usd(dec(1_234_567_995_000)) == \
        "$1,234,568.00"
    table = _table(browser)
    for cid, cf in EDGES.items():
        assert table[cid][0][4] == usd(dec(cf)) and table[cid][1][4] == dec(cf)
    total = browser.find_element(By.ID, "total")
    assert total.text == usd(dec(sum(EDGES.values()))) and total.get_attribute("title") == dec(sum(EDGES.values()))


def test_usd_rounding_property(browser, site):
    """formatUSD equals Decimal's ROUND_HALF_UP over the whole Int128 micro-USDC range (the API's money), in batches
    drawn by hypothesis and formatted in the page."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    url, _ = site
    _lookup(browser, url, addr("aa"))
    edge = st.integers(-10_000_000, 10_000_000)
    wide = st.integers(-(2**127), 2**127 - 1)

    @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.lists(st.one_of(edge, wide, st.integers(-10**9, 10**9).map(lambda n: n * 10_000 + 5_000)),
                    min_size=1, max_size=200))
    def check(micros):
        values = [dec(n) for n in micros]
        assert browser.execute_script("return arguments[0].map(formatUSD)", values) == [usd(v) for v in values]

    check()


def test_phone_width_has_no_horizontal_page_scroll(browser, site):
    """At 375 px (a phone, mobile viewport honoured) the page is no wider than the screen and every cell of every
    table lies inside it: the tables stack each row as a card, so no column is off screen."""
    url, _ = site
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                            {"width": 375, "height": 740, "deviceScaleFactor": 2, "mobile": True})
    try:
        _lookup(browser, url, addr("aa"))
        inner, page, outside = browser.execute_script(OFF_SCREEN)
        assert inner == 375 and page <= 375 and outside == [], (inner, page, outside[:5])
        if os.environ.get("HARNESS_SCREENSHOT_PHONE"):
            browser.save_screenshot(os.environ["HARNESS_SCREENSHOT_PHONE"])
    finally:
        browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


#: [viewport width, page scroll width, cells (th, td) shown partly or wholly outside the viewport's width]
OFF_SCREEN = """
const w = window.innerWidth, out = [];
for (const c of document.querySelectorAll('th, td')) {
  const r = c.getBoundingClientRect();
  if (r.width === 0 && r.height === 0) continue;  // not shown (a phone hides the header row)
  if (r.left < -0.5 || r.right > w + 0.5) out.push([c.dataset.label || c.textContent, r.left, r.right]);
}
return [w, document.documentElement.scrollWidth, out];
"""


@pytest.mark.parametrize("address,message", [
    (addr("e0"), "not found"),
    ("0x1234", "not a wallet address"),
])
def test_dashboard_explains_bad_lookups(browser, site, address, message):
    from selenium.webdriver.common.by import By

    url, _ = site
    _lookup(browser, url, address)
    status = browser.find_element(By.ID, "status")
    assert message in status.text and "error" in status.get_attribute("class")
    assert not browser.find_element(By.ID, "result").is_displayed()
