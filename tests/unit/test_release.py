"""What a release carries: one version everywhere, its dated changelog, license and metadata."""

from __future__ import annotations

import importlib.metadata
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import fnact

ROOT = Path(__file__).resolve().parents[2]


def test_the_version_is_the_same_in_the_package_its_metadata_and_the_command() -> None:
    """fnact.__version__, the installed metadata and fnact --version agree."""
    assert re.fullmatch(r"\d+\.\d+\.\d+", fnact.__version__)
    assert importlib.metadata.version("fnact") == fnact.__version__
    shown = subprocess.run(
        [sys.executable, "-m", "fnact", "--version"],
        capture_output=True, text=True, timeout=30, check=True,
    ).stdout  # fmt: skip
    assert shown.startswith(f"fnact {fnact.__version__} (temporalio ")


def test_the_changelog_has_a_dated_section_for_this_version() -> None:
    """The CHANGELOG names this version with its release date, below [Unreleased]."""
    text = (ROOT / "CHANGELOG.md").read_text()
    headings = re.findall(r"^## \[([^\]]+)\](?: - (\d{4}-\d{2}-\d{2}))?$", text, re.M)
    assert headings[0] == ("Unreleased", "")
    assert headings[1][0] == fnact.__version__
    assert headings[1][1], "the release section is dated"


def test_the_package_metadata_names_its_license_urls_and_pythons() -> None:
    """The license file ships, the URLs are set, and each Python the tests cover is listed."""
    meta = importlib.metadata.metadata("fnact")
    assert meta["License-Expression"] == "MIT"
    assert (ROOT / "LICENSE").read_text().startswith("MIT License")
    urls = dict(url.split(", ", 1) for url in meta.get_all("Project-URL") or [])
    assert set(urls) >= {"Homepage", "Documentation", "Repository", "Changelog"}
    pythons = {c.rsplit(" :: ", 1)[1] for c in meta.get_all("Classifier") or [] if "3." in c}
    assert pythons == {"3.11", "3.12", "3.13"}
    docs = (ROOT / "mkdocs.yml").read_text()
    assert f"site_url: {urls['Documentation']}" in docs
    assert f"repo_url: {urls['Repository']}" in docs
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["requires-python"] == ">=3.11"
