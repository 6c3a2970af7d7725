"""Defect 16: a missing optional dependency or tool is one line saying what to install, never a traceback."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from gatepass.cli import missing_extra_message

ROOT = Path(__file__).resolve().parents[2]


def _demo_without(module: str) -> subprocess.CompletedProcess[str]:
    # None in sys.modules makes every import of the module fail, as if the extra were not installed
    code = f"import sys; sys.modules[{module!r}] = None; from gatepass.cli import main; sys.exit(main(['demo']))"
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)


def test_defect_16_demo_without_the_demo_extra_says_what_to_install() -> None:
    for module in ("fastapi", "faunadb"):
        result = _demo_without(module)
        assert result.returncode == 2
        assert "Traceback" not in result.stderr
        (line,) = result.stderr.strip().splitlines()
        assert line.startswith("gatepass demo: the demo extra is not installed")
        assert f"'{module}'" in line and "scripts/setup demo" in line and ".[demo]" in line


def test_defect_16_import_errors_map_to_the_extra() -> None:
    missing = ModuleNotFoundError("No module named 'faunadb.client'", name="faunadb.client")
    message = missing_extra_message("demo", missing)
    assert message is not None and "no module 'faunadb'" in message
    assert missing_extra_message("demo", ImportError("cannot import name x", name="gatepass.demo.app")) is None
    assert missing_extra_message("demo", ImportError("circular")) is None


def _script_copy(tmp_path: Path, script: str) -> Path:
    """``script`` in a copy of the repository's layout without bundles or .venv, so the real checkout and the
    network are never touched."""
    (tmp_path / "scripts").mkdir()
    (tmp_path / "frontend").mkdir()
    shutil.copy2(ROOT / "scripts" / script, tmp_path / "scripts" / script)
    return tmp_path / "scripts" / script


def _path_without(tmp_path: Path, *tools: str) -> str:
    """A PATH with only ``tools`` (linked from the real PATH), so npm and the rest are absent."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in tools:
        found = shutil.which(tool)
        assert found, tool
        (bin_dir / tool).symlink_to(found)
    return str(bin_dir)


def test_defect_16_scripts_run_without_npm_says_what_to_install(tmp_path: Path) -> None:
    script = _script_copy(tmp_path, "run")
    env = {**os.environ, "PATH": _path_without(tmp_path, "dirname", "python3")}
    bash = shutil.which("bash")
    assert bash
    result = subprocess.run([bash, str(script)], capture_output=True, text=True, timeout=60, env=env)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("scripts/run: npm is needed") and "install Node.js with npm" in line
    assert not (tmp_path / ".venv").exists()  # nothing was installed before the check


def test_defect_16_scripts_setup_without_python3_says_so(tmp_path: Path) -> None:
    script = _script_copy(tmp_path, "setup")
    env = {**os.environ, "PATH": _path_without(tmp_path, "dirname")}
    bash = shutil.which("bash")
    assert bash
    result = subprocess.run([bash, str(script)], capture_output=True, text=True, timeout=60, env=env)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == ["scripts/setup: python3 (3.11 or newer) is needed"]
