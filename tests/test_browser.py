"""`linreg-tui serve` in a real browser: headless Chromium from the OS packages, driven by Playwright.

The page draws the terminal on a canvas (the page's text is empty), so the test reads what the app sent:
Playwright sees every websocket frame. It loads the page, clicks the terminal (the keys go where the
focus is), presses ctrl+r and waits for the book's `epoch 3` line. Skipped, with the reason, where
Playwright or Chromium is missing (.ci/run installs both). LINREG_SCREENSHOTS=1 also saves the page
as screenshots/browser.png for the README.
"""

from __future__ import annotations

import asyncio
import codecs
import os
import shutil
from pathlib import Path

import pytest

from tests.test_serve import HANG, REPO, Server, running_server

async_api = pytest.importorskip("playwright.async_api", reason="needs Playwright: pip install -e '.[test]'")

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
#: At the page's 16 px font this is a terminal of about 177×55 cells: every panel, the log included.
VIEWPORT = {"width": 1600, "height": 1000}
SCREENSHOT = REPO / "screenshots" / "browser.png"


class Frames:
    """The text of the app's output as the page received it, and a way to wait for a piece of it."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.text = ""
        self._changed = asyncio.Event()
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")

    def on_websocket(self, websocket: async_api.WebSocket) -> None:
        websocket.on("framereceived", self._received)

    def _received(self, payload: str | bytes) -> None:
        if isinstance(payload, bytes):  # the terminal's output; text frames are textual-serve's own messages
            self.text += self._decoder.decode(payload)
            self._changed.set()

    async def wait_for(self, wanted: str) -> None:
        try:
            async with asyncio.timeout(HANG):
                while wanted not in self.text:
                    self._changed.clear()
                    await self._changed.wait()
        except TimeoutError:
            raise AssertionError(f"{wanted!r} never reached the page\n{self.server.log_text()}") from None


@pytest.mark.timeout(300)
async def test_the_page_runs_the_app_and_trains(tmp_path: Path) -> None:
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip(f"needs Chromium at {CHROMIUM} (Debian: apt-get install chromium; .ci/run does it as root)")
    with running_server(tmp_path, "--epochs", "3") as server:
        frames = Frames(server)
        async with async_api.async_playwright() as playwright:
            # --no-sandbox: Chromium's sandbox refuses to run as root, as CI does.
            browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            try:
                page = await browser.new_page(viewport=VIEWPORT)
                page.on("websocket", frames.on_websocket)
                await page.goto(server.start_url)  # the URL the server printed, with its token
                assert "linreg-tui" in await page.content()  # the start card names the app
                await frames.wait_for("Loss")  # the app's panels reached the page: the app runs in the tab
                await page.click("#terminal")
                await page.keyboard.press("Control+r")
                await frames.wait_for("epoch 3")  # the book's line in the log: it trained
                if os.environ.get("LINREG_SCREENSHOTS"):
                    await frames.wait_for("finished: 300 steps")  # the last lines drawn, the charts complete
                    await page.screenshot(path=SCREENSHOT)
            finally:
                await browser.close()
