"""``python -m gatepass`` is the ``gatepass`` command."""

from __future__ import annotations

import subprocess
import sys


def test_python_dash_m_gatepass_runs_the_cli() -> None:
    shown = subprocess.run([sys.executable, "-m", "gatepass", "--help"], capture_output=True, text=True, timeout=60)
    assert shown.returncode == 0 and "fauna-dev" in shown.stdout and "demo" in shown.stdout
    wrong = subprocess.run([sys.executable, "-m", "gatepass", "no-such-command"], capture_output=True, text=True)
    assert wrong.returncode == 2 and "invalid choice" in wrong.stderr
