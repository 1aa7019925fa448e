"""The site knows where it is hosted: a full sitemap, and a 404 page that works under a sub-path."""

from __future__ import annotations

import re
from pathlib import Path

SITE_URL = "https://fnact.github.io/fnact/"


def test_the_sitemap_lists_every_page_under_the_site_url(built_site: Path) -> None:
    """Each built page is in sitemap.xml, at its address under site_url."""
    sitemap = (built_site / "sitemap.xml").read_text()
    listed = set(re.findall(r"<loc>([^<]+)</loc>", sitemap))
    pages = {
        SITE_URL + str(page.parent.relative_to(built_site)).removeprefix(".") + "/"
        for page in built_site.rglob("index.html")
        if page.parent != built_site and "assets" not in page.parts
    } | {SITE_URL}
    assert {url.replace("//", "/").replace("https:/", "https://") for url in pages} == listed


def test_the_404_page_links_its_assets_from_the_sites_root_path(built_site: Path) -> None:
    """404.html is served for any missing path: its stylesheets and scripts use /fnact/ paths."""
    page = (built_site / "404.html").read_text()
    links = re.findall(r'(?:href|src)="([^"]*assets/[^"]*)"', page)
    assert links
    assert all(link.startswith("/fnact/assets/") for link in links), links
