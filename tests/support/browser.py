"""A real headless Chromium (Debian's `chromium` + `chromium-driver`) driven by Selenium.

scripts/test.sh installs both when missing. The driver is named explicitly so Selenium Manager
never tries to download a browser or driver (there is no internet here, nor in CI).
"""

from __future__ import annotations

import io
import os
import shutil
import statistics
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

FLAGS = [
    "--headless",
    "--no-sandbox",  # CI runs as root, where Chromium's sandbox refuses to start
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1280,2000",
]


def _find(env: str, *names: str) -> str | None:
    if os.environ.get(env):
        return os.environ[env]
    for n in names:
        found = shutil.which(n)
        if found:
            return found
    return None


@contextmanager
def chromium() -> Iterator[object]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    binary = _find("EVENTSYNC_CHROMIUM", "chromium", "chromium-browser")
    driver_path = _find("EVENTSYNC_CHROMEDRIVER", "chromedriver")
    if not binary or not driver_path:
        pytest.skip("Debian's chromium and chromium-driver are not installed (scripts/test.sh installs them)")
    with tempfile.TemporaryDirectory(prefix="eventsync-chromium-") as profile:
        opts = webdriver.ChromeOptions()
        opts.binary_location = binary
        for f in [*FLAGS, f"--user-data-dir={profile}"]:
            opts.add_argument(f)
        driver = webdriver.Chrome(options=opts, service=Service(executable_path=driver_path))
        try:
            driver.set_page_load_timeout(60)
            yield driver
        finally:
            driver.quit()


def pixel_spread(png: bytes) -> tuple[float, int]:
    """Standard deviation of the grey levels and the number of distinct colours of a screenshot:
    a blank (or all-one-colour) page has ~0 and 1."""
    from PIL import Image

    img = Image.open(io.BytesIO(png)).convert("RGB")
    small = img.resize((img.width // 4 or 1, img.height // 4 or 1))
    grey = list(small.convert("L").get_flattened_data())
    colours = len(set(small.get_flattened_data()))
    return statistics.pstdev(grey), colours


def save(png: bytes, name: str) -> Path:
    """Screenshots go to $EVENTSYNC_ARTIFACTS (CI can keep them) or the temp folder."""
    folder = Path(os.environ.get("EVENTSYNC_ARTIFACTS") or tempfile.gettempdir())
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(png)
    return path
