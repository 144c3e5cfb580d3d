"""One headless Chromium for the browser tests (the viewer's and the lab's).

Import it after ``require("selenium.webdriver")`` and ``require_program`` have checked that
Selenium, Chromium and chromedriver are there (so CI fails instead of skipping).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from conftest import require_program
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

# Without the background-networking flags Chromium keeps trying to reach the network,
# which this machine refuses; a fresh profile per test module keeps runs independent.
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


def start_chromium(profile: Path, window: str) -> Any:
    """A headless Chromium driven by Selenium, with the browser console log kept."""
    options = webdriver.ChromeOptions()
    options.binary_location = require_program("chromium")
    for flag in (*FLAGS, f"--window-size={window}", f"--user-data-dir={profile}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    # an explicit Service: Selenium must not go looking for (or download) a driver
    driver = webdriver.Chrome(service=Service(require_program("chromedriver")), options=options)
    driver.set_page_load_timeout(30)
    return driver
