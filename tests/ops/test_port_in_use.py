"""Defect 18: a port in use is one clear line naming the port and the flag that changes it; nothing is printed or
started before it (no banner, no "stopped" line, no database opened)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from gatepass.core.server import bind_listener
from gatepass.errors import ConfigurationError

GATEPASS = [sys.executable, "-m", "gatepass.cli"]


@pytest.fixture
def held_port() -> Iterator[int]:
    """A loopback port another socket is listening on."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield int(holder.getsockname()[1])


@pytest.fixture
def stub_assets(tmp_path: Path) -> Path:
    assets = tmp_path / "assets"
    assets.mkdir()
    for name in ("supertokens.js", "faunadb.js"):
        (assets / name).write_text("// test stub\n")
    return assets


def _run(args: list[str], env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [*GATEPASS, *args], capture_output=True, text=True, timeout=60, env={**os.environ, **(env or {})}
    )
    assert result.returncode == 2, result
    assert "Traceback" not in result.stderr and "Errno" not in result.stderr
    assert "stopped" not in result.stdout + result.stderr
    return result


def test_defect_18_core_port_in_use_names_the_port_and_flag(tmp_path: Path, held_port: int) -> None:
    db = tmp_path / "never-created.db"
    result = _run(["core", "--port", str(held_port), "--database-url", f"sqlite:///{db}"])
    (line,) = result.stderr.strip().splitlines()
    assert f"port {held_port}" in line and "already in use" in line and "--port" in line and "GATEPASS_PORT" in line
    assert not db.exists()  # the port is checked before the database is opened


def test_defect_18_fauna_dev_port_in_use(held_port: int) -> None:
    result = _run(["fauna-dev", "--port", str(held_port)])
    (line,) = result.stderr.strip().splitlines()
    assert f"port {held_port}" in line and "already in use" in line and "--port" in line
    assert "listening" not in result.stderr


def test_defect_18_demo_web_port_in_use(tmp_path: Path, held_port: int, stub_assets: Path) -> None:
    pytest.importorskip("fastapi")
    args = ["demo", "--port", str(held_port), "--data-dir", str(tmp_path / "d"), "--assets", str(stub_assets)]
    result = _run(args)
    assert result.stdout == ""  # no "open http://..." banner for a demo that cannot run
    (line,) = result.stderr.strip().splitlines()
    assert f"port {held_port}" in line and "--port" in line and "--fauna-port" not in line


def test_defect_18_demo_fauna_port_in_use(tmp_path: Path, held_port: int, stub_assets: Path) -> None:
    pytest.importorskip("fastapi")
    args = ["demo", "--fauna-port", str(held_port), "--data-dir", str(tmp_path / "d"), "--assets", str(stub_assets)]
    result = _run(args)
    assert result.stdout == ""
    (line,) = result.stderr.strip().splitlines()
    assert f"port {held_port}" in line and "--fauna-port" in line
    assert not (tmp_path / "d").exists()


@pytest.mark.parametrize("value", ["abc", "70000", "-1", "3.5"])
def test_defect_18_bad_gatepass_port_names_the_variable(value: str) -> None:
    result = _run(["core"], env={"GATEPASS_PORT": value})
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("gatepass core: invalid GATEPASS_PORT: port must be")


def test_defect_18_bad_port_in_the_config_file_names_the_file_setting(tmp_path: Path) -> None:
    config = tmp_path / "core.toml"
    config.write_text('port = "abc"\n')
    result = _run(["core", "--config", str(config)])
    assert "invalid port in the config file" in result.stderr


def test_defect_18_bind_listener_messages(held_port: int) -> None:
    with pytest.raises(ConfigurationError, match=f"port {held_port} on 127.0.0.1 is already in use.*--my-flag"):
        bind_listener("127.0.0.1", held_port, "--my-flag")
    with pytest.raises(ConfigurationError, match="cannot listen on '256.0.0.1'"):
        bind_listener("256.0.0.1", 0, "--port")
    listener = bind_listener("127.0.0.1", 0, "--port")
    try:
        assert listener.getsockname()[1] > 0
    finally:
        listener.close()
