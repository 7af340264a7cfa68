"""A real headless browser for the console's tests: Debian's chromium driven by its chromedriver
through Selenium (tests/install_browser.sh installs both; nothing downloads a browser).

Selenium blocks while the browser works, and the page it waits for is served by the bot in
this same event loop: every call therefore runs in a thread (`asyncio.to_thread`), and the
loop stays free to answer it.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any, TypeVar

from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
DESKTOP, PHONE = (1280, 900), (375, 812)
WAIT_SECONDS = 10.0
# What chromedriver says when the page is replaced while it looks at an element (a click that
# navigates, then a wait on the next page): the wait looks again, as for a stale element.
NAVIGATING = "does not belong to the document"


def _across_navigation(condition: Callable[[Any], T]) -> Callable[[Any], T | bool]:
    def check(driver: Any) -> T | bool:
        try:
            return condition(driver)
        except StaleElementReferenceException:
            return False
        except WebDriverException as error:
            if NAVIGATING in (error.msg or ""):
                return False
            raise
    return check

T = TypeVar("T")


class Browser:
    def __init__(self, driver: webdriver.Chrome, base_url: str) -> None:
        self.driver = driver
        self.base_url = base_url

    async def _run(self, work: Callable[[], T]) -> T:
        return await asyncio.to_thread(work)

    async def open(self, url: str) -> None:
        await self._run(lambda: self.driver.get(url if "://" in url else self.base_url + url))

    async def size(self, width_height: tuple[int, int]) -> None:
        await self._run(lambda: self.driver.set_window_size(*width_height))

    async def find(self, css: str) -> WebElement:
        """The element once it is on the page (htmx may bring it a moment later)."""
        wait = WebDriverWait(self.driver, WAIT_SECONDS)
        found = await self._run(lambda: wait.until(_across_navigation(
            expected_conditions.presence_of_element_located((By.CSS_SELECTOR, css)))))
        assert isinstance(found, WebElement)
        return found

    async def click(self, css: str) -> None:
        wait = WebDriverWait(self.driver, WAIT_SECONDS)
        element = await self._run(lambda: wait.until(_across_navigation(
            expected_conditions.element_to_be_clickable((By.CSS_SELECTOR, css)))))
        assert isinstance(element, WebElement)
        await self._run(element.click)

    async def type(self, css: str, text: str, clear: bool = True) -> None:
        element = await self.find(css)
        if clear:
            await self._run(element.clear)
        await self._run(lambda: element.send_keys(text))

    async def text(self, css: str = "body") -> str:
        element = await self.find(css)
        return await self._run(lambda: str(element.text))

    async def wait_for_text(self, text: str, css: str = "body") -> str:
        """The element's text once it contains `text`."""
        wait = WebDriverWait(self.driver, WAIT_SECONDS)
        located = (By.CSS_SELECTOR, css)
        await self._run(lambda: wait.until(_across_navigation(
            expected_conditions.text_to_be_present_in_element(located, text))))
        return await self.text(css)

    async def url(self) -> str:
        return await self._run(lambda: str(self.driver.current_url))

    async def script(self, source: str, *arguments: Any) -> Any:
        return await self._run(lambda: self.driver.execute_script(source, *arguments))

    async def screenshot(self, path: Path) -> Path:
        """A PNG of the whole page, below the fold too (Chrome's DevTools protocol)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        await self.script("return document.fonts.ready.then(() => true)")
        metrics = await self._run(lambda: self.driver.execute_cdp_cmd("Page.getLayoutMetrics", {}))
        size = metrics["cssContentSize"]
        clip = {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1}
        shot = await self._run(lambda: self.driver.execute_cdp_cmd(
            "Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True,
                                       "clip": clip}))
        path.write_bytes(base64.b64decode(shot["data"]))
        return path


def chromium_driver(window: tuple[int, int] = DESKTOP) -> webdriver.Chrome:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--disable-gpu", "--disable-dev-shm-usage",
                     "--no-first-run", "--disable-extensions", "--lang=zh-CN",
                     f"--window-size={window[0]},{window[1]}"):
        options.add_argument(argument)
    if os.geteuid() == 0:
        options.add_argument("--no-sandbox")  # chromium refuses root without it (CI is root)
    service = Service(executable_path=CHROMEDRIVER)
    return webdriver.Chrome(options=options, service=service)


@contextlib.asynccontextmanager
async def browser_at(base_url: str, window: tuple[int, int] = DESKTOP) -> AsyncIterator[Browser]:
    driver = await asyncio.to_thread(chromium_driver, window)
    if window == PHONE:  # a phone's screen: 375 CSS pixels wide, twice as many dots, touch
        await asyncio.to_thread(driver.execute_cdp_cmd, "Emulation.setDeviceMetricsOverride", {
            "width": PHONE[0], "height": PHONE[1], "deviceScaleFactor": 2, "mobile": True})
    try:
        yield Browser(driver, base_url)
    finally:
        await asyncio.to_thread(driver.quit)
