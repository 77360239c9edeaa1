"""The console in a real browser: Chromium (system package) driven by Selenium.

Run by CI, which installs ``chromium`` and ``chromium-driver``; elsewhere without them the tests
are skipped with the reason (CI sets CSST_CRDS_REQUIRE_BROWSER=1, making that a failure).
Screenshots of the main pages go to CSST_CRDS_SCREENSHOTS (a folder, e.g. docs/images) when
set, else to the test's temporary folder.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from csst_crds_plugin.cache import CacheLayout, load_config

pytestmark = [pytest.mark.browser, pytest.mark.slow]

_BROWSERS = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")


@pytest.fixture
def browser(monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    """Yield a headless Chromium, from the system packages only (nothing is downloaded)."""
    binary = next((b for b in _BROWSERS if Path(b).exists()), None)
    driver = shutil.which("chromedriver")
    if binary is None or driver is None:
        message = ("no Chromium and chromedriver on this machine; install them with "
                   "`apt-get install chromium chromium-driver` (deselect with -m 'not browser')")
        if os.environ.get("CSST_CRDS_REQUIRE_BROWSER"):
            pytest.fail(message)
        pytest.skip(message)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    monkeypatch.setenv("SE_OFFLINE", "true")  # never let Selenium Manager fetch anything
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                     "--disable-gpu", "--window-size=1280,900", "--no-first-run",
                     "--disable-background-networking"):
        options.add_argument(argument)
    chrome = webdriver.Chrome(service=Service(executable_path=driver), options=options)
    chrome.set_page_load_timeout(120)
    chrome.implicitly_wait(60)  # element lookups wait for the next page (certify takes a while)
    try:
        yield chrome
    finally:
        chrome.quit()


@pytest.fixture
def shots(tmp_path: Path):
    """``shot(driver, name)`` saves a full-width screenshot of the page."""
    folder = Path(os.environ.get("CSST_CRDS_SCREENSHOTS") or tmp_path / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)

    def shot(driver: object, name: str) -> Path:
        path = folder / f"console-{name}.png"
        assert driver.save_screenshot(str(path)), path  # type: ignore[attr-defined]
        return path

    return shot


def _by(driver: object, css: str) -> object:
    from selenium.webdriver.common.by import By

    return driver.find_element(By.CSS_SELECTOR, css)  # type: ignore[attr-defined]


def test_browse_home_to_rule_to_reference_and_diff(demo_cache: Path, console_server, browser,
                                                   shots) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    console = console_server(demo_cache)
    operational = load_config(CacheLayout(demo_cache, "csst")).operational
    browser.get(console.url)
    assert operational in _by(browser, "#operational").text
    shots(browser, "home")
    _by(browser, "#operational a").click()
    assert browser.find_element(By.TAG_NAME, "h1").text == operational
    shots(browser, "context")
    browser.find_element(By.PARTIAL_LINK_TEXT, "csst_msc_flat_").click()
    rows = browser.find_elements(By.CSS_SELECTOR, "#rules tr")
    assert len(rows) == 1 + 18  # header + 6 chips x 3 days
    shots(browser, "rules")
    link = rows[1].find_element(By.TAG_NAME, "a")
    name = link.text
    link.click()
    assert browser.find_element(By.TAG_NAME, "h1").text == name
    assert re.fullmatch(r"[0-9a-f]{64}", _by(browser, "#sha256").text)
    assert "passes" in _by(browser, "#certify").text
    assert "R_BIAS" in _by(browser, "#dependencies").text
    shots(browser, "reference")

    browser.get(console.url + "diff")
    Select(browser.find_element(By.NAME, "a")).select_by_visible_text("csst_0009.pmap")
    Select(browser.find_element(By.NAME, "b")).select_by_visible_text("csst_0011.pmap")
    _by(browser, "#compare").click()
    changes = _by(browser, "#changes").text
    assert changes.count("added") == 12
    shots(browser, "diff")
    browser.get(console.url + "coverage?date=2027-01-05&max_age=bias%3D1")
    assert browser.find_elements(By.CSS_SELECTOR, "#coverage tr.stale")
    shots(browser, "coverage")


def test_submit_a_chain_with_a_token_and_be_refused_without(demo_copy: Path, console_server,
                                                            browser, shots, users,
                                                            chain_files, snapshot) -> None:
    from selenium.webdriver.common.by import By

    console = console_server(demo_copy)
    files = chain_files("02")

    before = snapshot(demo_copy)
    browser.get(console.url + "submit")
    _by(browser, "#files").send_keys("\n".join(str(p) for p in files))
    _by(browser, "#check").click()
    assert "a token is required" in _by(browser, "#error").text
    shots(browser, "refused")
    assert snapshot(demo_copy) == before

    browser.get(console.url + "submit")
    shots(browser, "submit")
    _by(browser, "#files").send_keys("\n".join(str(p) for p in files))
    _by(browser, "#token").send_keys(users["pipeline"])
    browser.find_element(By.NAME, "description").send_keys("chip 02 bias and dark")
    _by(browser, "#check").click()
    confirm = _by(browser, "#confirm")
    assert "Certify passes" in _by(browser, "p.ok").text
    assert "passes" in _by(browser, "#certify").text
    shots(browser, "preview")
    confirm.click()
    new_context = _by(browser, "#new-context a").text
    shots(browser, "delivered")
    assert load_config(CacheLayout(demo_copy, "csst")).latest_context == new_context
    _by(browser, "#new-context a").click()
    assert browser.find_element(By.TAG_NAME, "h1").text == new_context
    browser.get(console.url + "audit")
    audit = _by(browser, "#audit").text
    assert "pipeline" in audit and new_context in audit
    shots(browser, "audit")
