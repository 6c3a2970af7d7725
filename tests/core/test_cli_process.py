"""``gatepass core`` as a real process: help, start-up log line, clean shutdown, configuration errors."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from gatepass.core.settings import resolve_settings
from gatepass.errors import ConfigurationError
from tests.helpers import API_KEY, free_port, running_core, start_core

GATEPASS = [sys.executable, "-m", "gatepass.cli"]


def test_help_documents_every_setting() -> None:
    output = subprocess.run([*GATEPASS, "core", "--help"], capture_output=True, text=True, check=True).stdout
    for text in (
        "--host",
        "--port",
        "--database-url",
        "--api-key",
        "--access-token-validity",
        "--refresh-token-validity",
        "--access-token-dynamic-signing-key-update-interval",
        "--config",
        "GATEPASS_DATABASE_URL",
        "GATEPASS_API_KEYS",
        "GATEPASS_ACCESS_TOKEN_VALIDITY",
        "postgresql://",
        "MINUTES",
        "HOURS",
    ):
        assert text in output, text


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_start_logs_one_line_and_stops_cleanly(tmp_path: Path, sig: signal.Signals) -> None:
    url = f"sqlite:///{tmp_path / 'core.db'}"
    core = start_core(url, tmp_path / "core.log", ["--api-key", API_KEY])
    core.process.send_signal(sig)
    assert core.process.wait(timeout=15) == 0
    log = core.log()
    listening = [line for line in log.splitlines() if "listening on" in line]
    assert len(listening) == 1
    assert core.url in listening[0] and str(tmp_path / "core.db") in listening[0]
    assert API_KEY not in log
    assert "stopped" in log


def test_postgres_password_is_not_logged(tmp_path: Path, postgres_url: str) -> None:
    with_password = postgres_url.replace("postgresql://", "postgresql://root:s3cr3t-pw@", 1)
    with running_core(with_password, tmp_path / "core.log") as core:
        assert httpx.get(core.url + "/hello").text == "Hello"
    log = core.log()
    assert "s3cr3t-pw" not in log and "***" in log


def test_flags_env_and_file_precedence(tmp_path: Path) -> None:
    config = tmp_path / "core.toml"
    config.write_text(f'port = 4000\naccess_token_validity = 30\napi_keys = ["{API_KEY}"]\n')
    env = {"GATEPASS_PORT": "4001", "GATEPASS_REFRESH_TOKEN_VALIDITY": "90"}
    from gatepass.core.settings import load_config_file

    settings = resolve_settings({"port": 4002}, env, load_config_file(str(config)))
    assert settings.port == 4002
    assert settings.app_config.access_token_validity == 30
    assert settings.app_config.refresh_token_validity == 90
    assert settings.api_keys == (API_KEY,)
    assert API_KEY not in repr(settings)


def test_environment_configures_a_real_process(tmp_path: Path) -> None:
    env = {**os.environ, "GATEPASS_ACCESS_TOKEN_VALIDITY": "12", "GATEPASS_API_KEYS": API_KEY}
    port_probe = free_port()
    process = subprocess.Popen(
        [*GATEPASS, "core", "--port", str(port_probe), "--database-url", f"sqlite:///{tmp_path / 'e.db'}"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port_probe}"
        for _ in range(200):
            try:
                httpx.get(base + "/hello", timeout=0.5)
                break
            except httpx.TransportError:
                time.sleep(0.05)
        headers = {"api-key": API_KEY}
        assert httpx.get(base + "/apiversion").status_code == 401
        created = httpx.post(base + "/public/recipe/session", json={"userId": "u"}, headers=headers).json()
        assert created["accessToken"]["expiry"] - created["accessToken"]["createdTime"] == 12000
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.mark.parametrize(
    "args,message",
    [
        (["--database-url", "mysql://x"], "unsupported database URL"),
        (["--database-url", "sqlite:///:memory:"], "in-memory"),
        (["--database-url", "postgresql://u@127.0.0.1:notaport/db"], "invalid PostgreSQL URL"),
        (["--database-url", "postgresql://127.0.0.1:1/db"], "cannot connect to PostgreSQL"),
        (["--api-key", "short"], "API key"),
        (["--access-token-validity", "0"], "access_token_validity"),
        (["--refresh-token-validity", "0.001"], "refresh_token_validity"),
        (["--config", "/nonexistent/gatepass.toml"], "cannot read config file"),
    ],
)
def test_bad_configuration_exits_with_a_clear_message(tmp_path: Path, args: list[str], message: str) -> None:
    base = ["--database-url", f"sqlite:///{tmp_path / 'x.db'}"]
    result = subprocess.run([*GATEPASS, "core", *base, *args], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2, result.stderr
    assert message in result.stderr and "Traceback" not in result.stderr


def test_invalid_toml_and_unknown_settings() -> None:
    with pytest.raises(ConfigurationError, match="unknown setting"):
        resolve_settings({}, {}, {"prot": 1})
    with pytest.raises(ConfigurationError, match="port"):
        resolve_settings({}, {"GATEPASS_PORT": "eighty"}, {})
    with pytest.raises(ConfigurationError, match="api_keys"):
        resolve_settings({}, {}, {"api_keys": 5})


def test_expired_sessions_are_deleted_by_the_running_core(tmp_path: Path) -> None:
    import sqlite3
    from contextlib import closing

    db = tmp_path / "cleanup.db"
    args = ["--api-key", API_KEY, "--access-token-validity", "1", "--refresh-token-validity", "0.03"]
    args += ["--cleanup-interval-seconds", "0.3"]
    with running_core(f"sqlite:///{db}", tmp_path / "core.log", args) as core:
        headers = {"api-key": API_KEY}
        for user in ("a", "b"):
            assert httpx.post(core.url + "/public/recipe/session", json={"userId": user}, headers=headers).is_success
        count = "SELECT COUNT(*) FROM session_info"
        with closing(sqlite3.connect(db)) as conn:
            assert conn.execute(count).fetchone()[0] == 2
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with closing(sqlite3.connect(db)) as conn:
                if conn.execute(count).fetchone()[0] == 0:
                    break
            time.sleep(0.2)
        else:
            raise AssertionError("expired sessions were not cleaned up")
    removed = [int(n) for n in re.findall(r"removed (\d+) expired sessions", core.log())]
    assert sum(removed) == 2
