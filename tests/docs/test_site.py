"""The documentation site: built strictly, then checked in a real headless Chromium.

Screenshots of the checked pages land in ``build/screenshots/``.
"""

from __future__ import annotations

import functools
import http.server
import os
import re
import shutil
import threading
import urllib.parse
import urllib.request
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "build" / "screenshots"
DIAGRAM = ROOT / "docs" / "assets" / "activity-call.svg"
DIAGRAM_PAGES = ["", "explanation/temporal-mapping/"]  # the home page, the Temporal mapping
PAGES = {
    "home": "",
    "how-to": "how-to/long-activities/",
    "reference": "reference/activities/",
    "own-project": "how-to/use-fnact-in-your-own-project/",
    "handlers": "how-to/handlers-threads-and-concurrency/",
    "operations": "how-to/operate-in-production/",
    "change-types": "how-to/change-activity-types/",
    "object-storage": "how-to/store-outputs-in-object-storage/",
    "large-data": "how-to/pass-large-data-between-activities/",
    "pydantic": "how-to/use-pydantic-models/",
}
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
]  # fmt: skip


def chromium() -> str:
    """Return the Chromium executable, or skip (fail on CI) with the reason."""
    found = os.environ.get("FNACT_CHROMIUM") or shutil.which("chromium")
    reason = "headless Chromium is not installed (apt-get install chromium)"
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason}; .ci/run installs it on CI")
        pytest.skip(reason)
    return found


@pytest.fixture(scope="module")
def site(built_site: Path) -> Iterator[str]:
    """Serve the site (built with --strict, see conftest.py) on localhost; yield its base URL."""
    handler = functools.partial(QuietHandler, directory=str(built_site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Keep the test output clean."""


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Any]:
    """Launch headless Chromium through Playwright (Debian's Chromium, no download)."""
    executable = chromium()
    try:
        import playwright.async_api as playwright
    except ImportError:
        if os.environ.get("CI") == "true":
            pytest.fail("playwright is not installed: pip install -e '.[docs]'")
        pytest.skip("playwright is not installed: pip install -e '.[docs]'")
    async with playwright.async_playwright() as p:
        launched = await p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            await launched.close()


@pytest.mark.parametrize("name", list(PAGES))
async def test_page_renders_with_navigation_and_highlighted_code(
    site: str, browser: Any, name: str
) -> None:
    """Home, how-tos (the new ones too) and the reference render with navigation and code."""
    page = await browser.new_page(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        response = await page.goto(site + PAGES[name])
        assert response is not None
        assert response.ok
        assert await page.locator("nav.md-nav--primary .md-nav__link").count() >= 5
        assert await page.locator("h1").count() >= 1
        highlighted = page.locator(".highlight code span, .doc-signature span")
        assert await highlighted.count() > 0, "code is highlighted"
        SHOTS.mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=False)
    finally:
        await page.close()
    assert errors == []


async def test_search_finds_pages(site: str, browser: Any) -> None:
    """Typing in the search box lists matching pages."""
    page = await browser.new_page(viewport={"width": 1280, "height": 900})
    try:
        await page.goto(site)
        await page.keyboard.press("/")
        await page.keyboard.type("heartbeat", delay=20)
        results = page.locator(".md-search-result__item")
        await results.first.wait_for(timeout=15_000)
        assert await results.count() >= 2
        text = await page.locator(".md-search-result").inner_text()
        assert "long-running" in text.lower()
        SHOTS.mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=str(SHOTS / "search.png"))
    finally:
        await page.close()


@pytest.mark.parametrize("path", DIAGRAM_PAGES)
def test_the_activity_call_diagram_is_on_its_pages(site: str, path: str) -> None:
    """The built page shows one image of activity-call.svg, served as committed."""
    with urllib.request.urlopen(site + path) as response:
        html = response.read().decode()
    sources = re.findall(r'<img[^>]* src="([^"]*activity-call\.svg)"', html)
    assert len(sources) == 1, sources
    with urllib.request.urlopen(urllib.parse.urljoin(site + path, sources[0])) as response:
        assert response.read() == DIAGRAM.read_bytes()


async def test_the_activity_call_diagram_renders(site: str, browser: Any) -> None:
    """Chromium loads the diagram at a readable size; its screenshot is activity-call.png."""
    page = await browser.new_page(viewport={"width": 1280, "height": 900})
    try:
        await page.goto(site + "explanation/temporal-mapping/")
        image = page.locator('img[src$="activity-call.svg"]')
        await image.scroll_into_view_if_needed()
        assert await image.evaluate("img => img.complete && img.naturalWidth") > 0
        box = await image.bounding_box()
        assert box is not None
        assert box["width"] >= 600
        SHOTS.mkdir(parents=True, exist_ok=True)
        await image.screenshot(path=str(SHOTS / "activity-call.png"))
    finally:
        await page.close()
