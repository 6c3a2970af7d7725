"""Browser fixtures: the official supertokens-website bundled with esbuild, and Debian's Chromium via Playwright."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent
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
def supertokens_bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """supertokens-website 20.1.6 from npm as one IIFE script exposing ``window.supertokens``."""
    entry = HERE / "node_modules" / "supertokens-website" / "lib" / "build" / "bundleEntry.js"
    if not entry.exists():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=HERE, check=True, capture_output=True)
    out = tmp_path_factory.mktemp("bundle") / "supertokens.js"
    esbuild = HERE / "node_modules" / ".bin" / "esbuild"
    subprocess.run(
        [str(esbuild), str(entry), "--bundle", "--format=iife", "--global-name=supertokens", f"--outfile={out}"],
        check=True,
        capture_output=True,
    )
    return out


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
