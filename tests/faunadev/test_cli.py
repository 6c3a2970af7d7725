"""``gatepass fauna-dev`` as a real process: help, persistence across restarts, the admin secret, bad data files."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from gatepass.recipe.session.faunadb.fauna_calls import FaunaClient, q
from tests.helpers import free_port

GATEPASS = [sys.executable, "-m", "gatepass.cli", "fauna-dev"]


def _start(args: list[str], env: dict[str, str] | None = None) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    process = subprocess.Popen(
        [*GATEPASS, "--port", str(port), *args],
        env={**os.environ, **(env or {})},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/ping").status_code == 200:
                return process, port
        except httpx.TransportError:
            time.sleep(0.05)
    process.kill()
    raise RuntimeError("fauna-dev did not start")


def _stop(process: subprocess.Popen[bytes]) -> str:
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=15)
    assert process.returncode == 0
    return stderr.decode()


def test_help_names_the_options_and_the_disclaimer() -> None:
    output = subprocess.run([*GATEPASS, "--help"], capture_output=True, text=True, check=True).stdout
    for text in (
        "--host",
        "--port",
        "--data",
        "--admin-secret",
        "GATEPASS_FAUNA_ADMIN_SECRET",
        "not a database",
        "self-hosted",
    ):
        assert text in output, text


def test_data_survives_a_restart_and_tokens_keep_working(tmp_path: Path) -> None:
    data = tmp_path / "fauna.json"
    process, port = _start(["--data", str(data)])
    client = FaunaClient(secret="secret", scheme="http", domain="127.0.0.1", port=port)
    try:
        client.query(q.create_collection({"name": "users"}))
        user = client.query(q.create(q.collection("users"), {"data": {"name": "a"}, "credentials": {"password": "pw"}}))
        token = client.query(q.create(q.tokens(), {"instance": user["ref"]}))["secret"]
    finally:
        log = _stop(process)
        client.session.close()
    assert token not in log and "secret" not in log.lower().replace("admin secret", "")
    process, port = _start(["--data", str(data)])
    admin = FaunaClient(secret="secret", scheme="http", domain="127.0.0.1", port=port)
    as_user = FaunaClient(secret=token, scheme="http", domain="127.0.0.1", port=port)
    try:
        assert as_user.query(q.current_identity()) == user["ref"]
        assert admin.query(q.identify(user["ref"], "pw")) is True
        assert admin.query(q.select(["data", "name"], q.get(user["ref"]))) == "a"
    finally:
        _stop(process)
        admin.session.close()
        as_user.session.close()


def test_admin_secret_from_the_environment() -> None:
    process, port = _start([], env={"GATEPASS_FAUNA_ADMIN_SECRET": "a-long-local-root-secret"})
    try:
        ok = httpx.post(
            f"http://127.0.0.1:{port}/",
            json={"add": [1, 1]},
            headers={"Authorization": "Bearer a-long-local-root-secret"},
        )
        assert ok.json() == {"resource": 2}
        refused = httpx.post(
            f"http://127.0.0.1:{port}/", json={"add": [1, 1]}, headers={"Authorization": "Bearer secret"}
        )
        assert refused.status_code == 401
    finally:
        _stop(process)


@pytest.mark.parametrize("content", ["not json", '{"format": "something else"}'])
def test_a_bad_data_file_is_a_clear_error(tmp_path: Path, content: str) -> None:
    data = tmp_path / "bad.json"
    data.write_text(content)
    result = subprocess.run(
        [*GATEPASS, "--port", str(free_port()), "--data", str(data)], capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 2 and "cannot use data file" in result.stderr and "Traceback" not in result.stderr
