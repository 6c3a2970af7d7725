"""The demo page's two browser libraries, built from npm: supertokens-website (bundled into one script with
esbuild) and the faunadb JavaScript driver (its own browser build). ``frontend/`` holds the pinned packages."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from gatepass.errors import ConfigurationError

REPO_FRONTEND = Path(__file__).resolve().parents[3] / "frontend"
BUNDLES = ("supertokens.js", "faunadb.js")


def build_assets(frontend: Path = REPO_FRONTEND, out: Path | None = None) -> Path:
    """Install the pinned npm packages (without their install scripts) and write the two bundles to ``out``."""
    out = out or frontend / "build"
    entry = frontend / "node_modules" / "supertokens-website" / "lib" / "build" / "bundleEntry.js"
    if not entry.exists():
        if shutil.which("npm") is None:
            raise ConfigurationError("npm is needed to build the demo's browser bundles (apt-get install npm)")
        subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund", "--ignore-scripts", "--loglevel=error"],
            cwd=frontend,
            check=True,
        )
    out.mkdir(parents=True, exist_ok=True)
    esbuild = frontend / "node_modules" / ".bin" / "esbuild"
    subprocess.run(
        [
            str(esbuild),
            str(entry),
            "--bundle",
            "--format=iife",
            "--global-name=supertokens",
            "--minify",
            f"--outfile={out / 'supertokens.js'}",
            "--log-level=error",
        ],
        check=True,
    )
    shutil.copyfile(frontend / "node_modules" / "faunadb" / "dist" / "faunadb-min.js", out / "faunadb.js")
    return out


def find_assets(directory: Path | None) -> Path:
    """The directory holding both bundles (default: ``frontend/build``); missing ones are a ``ConfigurationError``."""
    candidate = directory or REPO_FRONTEND / "build"
    missing = [name for name in BUNDLES if not (candidate / name).exists()]
    if missing:
        raise ConfigurationError(
            f"the demo's browser bundles are missing from {candidate} ({', '.join(missing)}): run scripts/run, or "
            "python -c 'from gatepass.demo.assets import build_assets; build_assets()'"
        )
    return candidate
