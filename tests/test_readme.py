"""The README's samples are exercised: the config file parses into settings, the SDK snippet runs, and every
flag in the configuration table exists in ``gatepass core --help``."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from gatepass.core.settings import resolve_settings
from tests.conformance.conftest import reset_sdk

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def _blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README, re.S)


def test_shell_samples_use_real_commands() -> None:
    from gatepass.cli import build_parser

    for block in _blocks("sh"):
        for line in block.splitlines():
            command = line.split("#")[0].strip()
            if command.startswith(".venv/bin/gatepass "):
                build_parser().parse_args(command.split()[1:])  # exits on an unknown flag
            elif command:
                assert (Path(__file__).resolve().parents[1] / command.split()[0]).exists(), command


def test_config_file_sample_is_valid() -> None:
    (sample,) = _blocks("toml")
    settings = resolve_settings({}, {}, tomllib.loads(sample))
    assert settings.database_url.startswith("postgresql://") and settings.api_keys


def test_python_samples_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every Python block, in order, in one namespace (so later blocks use the app the first one configured)."""
    import tests.sdk.django_app  # noqa: F401  (configures Django settings for the Django sample)
    from gatepass.recipe.instance import reset

    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {"__name__": "readme"}
    reset_sdk()
    try:
        for sample in _blocks("python"):
            exec(compile(sample, "README.md", "exec"), namespace)
        assert {"app", "flask_app", "django_me", "session_with_roles", "fauna_app"} <= set(namespace)
    finally:
        reset_sdk()
        reset()


def test_configuration_table_matches_the_cli() -> None:
    help_text = "".join(
        subprocess.run(
            [sys.executable, "-m", "gatepass.cli", command, "--help"], capture_output=True, text=True, check=True
        ).stdout
        for command in ("core", "fauna-dev", "demo")
    )
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
