"""The leaderboard page in headless Chromium over a built warehouse (the committed world): the rows it shows are
the database's ranking (computed here from the derived rows), for the default and a chosen window and metric."""
from __future__ import annotations

import pytest

from harness import ingest
from harness.config import PROJECT_ROOT
from harness.pnl.build import create_views, rebuild
from harness.serve import app as api
from tests.e2e.test_dashboard import browser, usd  # noqa: F401 - a fixture
from tests.integration.test_api import api_db  # noqa: F401 - a fixture
from tests.integration.test_leaderboard_export import expected_board, micros


@pytest.fixture(scope="module")
def site(api_db):  # noqa: F811
    ingest.ingest_world(api_db, PROJECT_ROOT / "fixtures" / "world")
    rebuild(api_db)
    create_views(api_db)
    with api.serve(lambda: api_db) as srv:
        yield srv.url


def _rows(driver) -> list[tuple[str, int]]:
    from selenium.webdriver.common.by import By

    out = []
    for i, tr in enumerate(driver.find_elements(By.CSS_SELECTOR, "#leaders tbody tr"), 1):
        rank, wallet, value = tr.find_elements(By.TAG_NAME, "td")
        assert rank.text == str(i)
        exact = value.get_attribute("title")  # the exact decimal on hover, USD rounded to cents shown
        assert value.text == usd(exact)
        out.append((wallet.text, micros(exact)))
    return out


@pytest.mark.parametrize("query,window,metric", [("", "all", "total"), ("?window=30d&metric=ui_total&limit=7",
                                                                        "30d", "ui_total")])
def test_page_shows_the_ranking(browser, site, api_db, query, window, metric):  # noqa: F811
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(f"{site}/static/leaderboard.html{query}")
    WebDriverWait(browser, 20).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#leaders tbody tr"))
    limit = 7 if "limit" in query else 100
    assert _rows(browser) == expected_board(api_db, window, metric)[:limit]
    assert browser.find_element(By.ID, "as-of").text.startswith("Windows end at ")


def test_bad_limit_says_so(browser, site):  # noqa: F811
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(f"{site}/static/leaderboard.html?limit=5000")
    WebDriverWait(browser, 20).until(lambda d: d.find_element(By.ID, "status").text not in ("", "Loading…"))
    assert "bad parameters" in browser.find_element(By.ID, "status").text
