"""Generate the synchronous session helpers (syncio.py) from the asynchronous ones (asyncio.py).

Run ``python scripts/unasync.py`` after editing asyncio.py; ``python scripts/unasync.py --check`` (run by the tests)
fails if syncio.py is out of date.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SESSION = Path(__file__).resolve().parents[1] / "src" / "gatepass" / "recipe" / "session"
DOCSTRING_ASYNC = '"""The session recipe for asynchronous code (FastAPI, Starlette, async Django views)."""'
DOCSTRING_SYNC = (
    '"""The session recipe for synchronous code (Flask, sync Django views, scripts). Generated from ``asyncio.py`` by\n'
    '``scripts/unasync.py``; edit that file, then regenerate."""'
)
REPLACEMENTS = [
    ("async def ", "def "),
    ("await ", ""),
    ("AsyncSessionContainer", "SessionContainer"),
    ("run_async", "run_sync"),
]


def generate() -> str:
    text = (SESSION / "asyncio.py").read_text()
    text = text.replace(DOCSTRING_ASYNC, DOCSTRING_SYNC)
    for old, new in REPLACEMENTS:
        text = text.replace(old, new)
    # Dropping "async"/"await" shortens lines: format the result as the project formats everything else.
    ruff = Path(sys.executable).with_name("ruff")
    formatted = subprocess.run(
        [str(ruff), "format", "--stdin-filename", str(SESSION / "syncio.py"), "-"],
        input=text,
        capture_output=True,
        text=True,
        check=True,
    )
    return formatted.stdout


def main() -> int:
    target = SESSION / "syncio.py"
    generated = generate()
    if "--check" in sys.argv:
        if target.read_text() != generated:
            print("syncio.py is out of date: run python scripts/unasync.py", file=sys.stderr)
            return 1
        return 0
    target.write_text(generated)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
