"""Browser fixtures: the official supertokens-website bundled with esbuild, and Debian's Chromium via Playwright."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser_assets(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """supertokens-website 20.1.6 (bundled with esbuild, ``window.supertokens``) and the faunadb 4.8 JS driver
    (``window.faunadb``), built from the pinned npm packages in ``frontend/``."""
    from gatepass.demo.assets import build_assets

    return build_assets(out=tmp_path_factory.mktemp("assets"))


@pytest.fixture(scope="session")
def supertokens_bundle(browser_assets: Path) -> Path:
    return browser_assets / "supertokens.js"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Playwright's sync API runs an event loop on this thread while it is open: module scope closes it before
    the asyncio tests of other modules run."""
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield instance
        finally:
            instance.close()
