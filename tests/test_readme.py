"""The README's samples are exercised: the config file parses into settings, the SDK snippet runs, and every
flag in the configuration table exists in ``gatepass core --help``."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

from gatepass.core.settings import resolve_settings
from tests.conformance.conftest import reset_sdk

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def _blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README, re.S)


def test_config_file_sample_is_valid() -> None:
    (sample,) = _blocks("toml")
    settings = resolve_settings({}, {}, tomllib.loads(sample))
    assert settings.database_url.startswith("postgresql://") and settings.api_keys


def test_sdk_sample_runs() -> None:
    (sample,) = _blocks("python")
    reset_sdk()
    try:
        exec(compile(sample, "README.md", "exec"), {})
    finally:
        reset_sdk()


def test_configuration_table_matches_the_cli() -> None:
    help_text = subprocess.run(
        [sys.executable, "-m", "gatepass.cli", "core", "--help"], capture_output=True, text=True, check=True
    ).stdout
    flags = set(re.findall(r"`(--[a-z-]+)`", README))
    assert flags and all(flag in help_text for flag in flags), flags
    for variable in set(re.findall(r"`(GATEPASS_[A-Z_]+)`", README)) - {"GATEPASS_TEST_POSTGRES_URL"}:
        assert variable in help_text, variable


def test_quick_start_scripts_exist_and_are_executable() -> None:
    root = Path(__file__).resolve().parents[1]
    for script in ("scripts/run", "scripts/test", ".ci/run"):
        path = root / script
        assert path.exists() and path.stat().st_mode & 0o111, script
    assert "scripts/test" in (root / ".ci/run").read_text()
