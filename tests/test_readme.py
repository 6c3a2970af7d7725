"""The README's samples are exercised: the config file parses into settings, the SDK snippet runs, and every
flag in the configuration table exists in ``gatepass core --help``."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
import types
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
    module = types.ModuleType("readme")  # a real module: Litestar resolves handler annotations through it
    monkeypatch.setitem(sys.modules, "readme", module)
    namespace: dict[str, object] = module.__dict__
    reset_sdk()
    try:
        for sample in _blocks("python"):
            exec(compile(sample, "README.md", "exec"), namespace)
        assert {"app", "flask_app", "django_me", "DrfAdmin", "litestar_app", "session_with_roles", "fauna_app"} <= set(
            namespace
        )
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


async def test_the_claims_example_does_what_the_readme_says(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The Session claims sample, driven over ASGI: the permission check refuses with upstream's 403 body until
    ``/promote`` fetches the new values into the session's access token."""
    import httpx

    import tests.sdk.django_app  # noqa: F401
    from gatepass.recipe.instance import reset

    monkeypatch.chdir(tmp_path)
    module = types.ModuleType("readme")  # a real module: Litestar resolves handler annotations through it
    monkeypatch.setitem(sys.modules, "readme", module)
    namespace: dict[str, object] = module.__dict__
    reset_sdk()
    try:
        samples = _blocks("python")
        last = next(i for i, sample in enumerate(samples) if "RolesClaim" in sample)
        for sample in samples[: last + 1]:  # the SDK's samples, up to the claims one (later ones set up other apps)
            exec(compile(sample, "README.md", "exec"), namespace)
        transport = httpx.ASGITransport(app=namespace["app"])  # type: ignore[arg-type]
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost:8000") as client:
            access = (await client.post("/login")).headers["st-access-token"]
            bearer = {"Authorization": f"Bearer {access}"}
            refused = await client.delete("/posts/7", headers=bearer)
            assert refused.status_code == 403, refused.text
            errors = refused.json()["claimValidationErrors"]
            assert [e["id"] for e in errors] == ["st-role", "st-perm"]
            assert errors[1]["reason"] == {
                "message": "wrong value",
                "expectedToInclude": "posts:delete",
                "actualValue": ["posts:read"],
            }
            promoted = await client.post("/promote", headers=bearer)
            assert promoted.json() == {"roles": ["reader", "editor"]}
            bearer = {"Authorization": f"Bearer {promoted.headers['st-access-token']}"}
            assert (await client.delete("/posts/7", headers=bearer)).json() == {"deleted": "7"}
    finally:
        reset_sdk()
        reset()
