"""The dashboard in headless Chromium: look up a fixture wallet and check that what the page shows equals the
database (the summary view, read directly) and the values computed from the inserted rows."""
from __future__ import annotations

import os
import shutil

import pytest

from harness import api
from tests.integration.test_api import addr, api_db, dec, fixture_world  # noqa: F401 - api_db is a fixture

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


@pytest.fixture(scope="module")
def site(api_db):  # noqa: F811
    world = fixture_world()
    world.insert(api_db)
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
    shown = tuple(browser.find_element(By.ID, k).text for k in ("realized", "unrealized", "total"))
    db = api_db.query("SELECT realized_pnl, unrealized_pnl, total_pnl FROM wallet_pnl_summary_final "
                      "WHERE wallet = {w:String}", parameters={"w": wallet}).result_rows[0]
    assert shown == tuple(dec(int(v)) for v in db) == tuple(dec(v) for v in world.totals(wallet))

    rows = browser.find_elements(By.CSS_SELECTOR, "#markets tbody tr")
    table = {r.get_attribute("data-condition"): [td.text for td in r.find_elements(By.TAG_NAME, "td")]
             for r in rows}
    want = world.markets(wallet)
    assert set(table) == set(want)
    for cid, (status, cf, value, pnl) in want.items():
        assert table[cid][1] == status and table[cid][3:] == [dec(cf), dec(value), dec(pnl)]

    dots = browser.find_elements(By.CSS_SELECTOR, "#chart-svg circle")
    assert [d.get_attribute("data-cumulative") for d in dots] == [dec(c) for *_, c in world.timeline(wallet)]
    assert dots[-1].get_attribute("data-cumulative") == shown[2]
    assert browser.find_element(By.CSS_SELECTOR, "#chart-svg path").get_attribute("d").startswith("M ")
    if os.environ.get("HARNESS_SCREENSHOT"):
        browser.save_screenshot(os.environ["HARNESS_SCREENSHOT"])


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
