"""Headless Chromium for the browser tests (Debian's chromium and chromedriver, which
./scripts/install-browser installs), with the network off this machine cut off."""

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

CHROMIUM, CHROMEDRIVER = shutil.which("chromium"), shutil.which("chromedriver")


def chromium(user_data_dir: str) -> webdriver.Chrome:
    if not (CHROMIUM and CHROMEDRIVER):
        pytest.fail(
            "chromium and chromedriver are missing: ./scripts/install-browser installs them"
        )
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={user_data_dir}",
        "--window-size=1600,1000",
        # Off this machine nothing answers: names do not resolve, and every request that is
        # not to a loopback address goes to a proxy that refuses connections.
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1",
        "--proxy-server=http://127.0.0.1:9",
    ):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    return webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))


@contextmanager
def browser() -> Iterator[webdriver.Chrome]:
    """A fresh Chromium, with a profile of its own that is gone afterwards."""
    with tempfile.TemporaryDirectory() as profile:
        driver = chromium(profile)
        try:
            yield driver
        finally:
            driver.quit()
