"""Defect 10: slow clients cannot hold connections (header and body deadlines, a connection cap), for core,
fauna-dev and the demo. Real sockets on 127.0.0.1; every loop is bounded in count and in time."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from gatepass.core.settings import ServerLimits, limits_from_env, resolve_settings
from gatepass.errors import ConfigurationError
from tests.helpers import free_port, running_core
from tests.ops.slow_clients import close_all, open_idle, still_open, wait_closed

SHORT = ["--header-timeout-seconds", "1", "--body-timeout-seconds", "1"]
SHORT_ENV = {"GATEPASS_HEADER_TIMEOUT_SECONDS": "1", "GATEPASS_BODY_TIMEOUT_SECONDS": "1"}
GENEROUS_S = 15  # far above the 1 s deadlines: only a server that never closes fails


def _port(url: str) -> int:
    return int(url.rsplit(":", 1)[1])


def test_defect_10_slowloris_connections_are_closed_while_normal_requests_succeed(tmp_path: Path) -> None:
    with running_core(f"sqlite:///{tmp_path / 'c.db'}", tmp_path / "core.log", SHORT) as core:
        idle = open_idle(_port(core.url), 50)
        try:
            assert httpx.get(core.url + "/hello", timeout=5).text == "Hello"  # served while 50 are stalled
            closed, replies = wait_closed(idle, GENEROUS_S)
        finally:
            close_all(idle)
        assert closed == 50
        assert all(reply.startswith(b"HTTP/1.1 408") for reply in replies)
        assert httpx.get(core.url + "/hello", timeout=5).text == "Hello"


def test_defect_10_silent_connections_and_slow_bodies_are_closed(tmp_path: Path) -> None:
    body_start = b'POST /public/recipe/session HTTP/1.1\r\nhost: x\r\ncontent-length: 100\r\n\r\n{"userId"'
    with running_core(f"sqlite:///{tmp_path / 'c.db'}", tmp_path / "core.log", SHORT) as core:
        port = _port(core.url)
        silent, slow_body = open_idle(port, 5, b""), open_idle(port, 5, body_start)
        try:
            closed, replies = wait_closed(silent + slow_body, GENEROUS_S)
        finally:
            close_all(silent + slow_body)
        assert closed == 10 and all(reply.startswith(b"HTTP/1.1 408") for reply in replies)


def test_defect_10_half_sent_second_request_on_a_kept_alive_connection_is_closed(tmp_path: Path) -> None:
    # keep-alive (60 s) far exceeds the wait below: only a header deadline restarted per request closes it
    args = [*SHORT, "--keep-alive-timeout-seconds", "60"]
    with running_core(f"sqlite:///{tmp_path / 'c.db'}", tmp_path / "core.log", args) as core:
        (sock,) = open_idle(_port(core.url), 1, b"GET /hello HTTP/1.1\r\nhost: x\r\n\r\n")
        try:
            deadline = time.monotonic() + GENEROUS_S
            answer = b""
            while b"Hello" not in answer and time.monotonic() < deadline:
                answer += sock.recv(4096)
            sock.sendall(b"GET /hel")
            closed, replies = wait_closed([sock], GENEROUS_S)
        finally:
            sock.close()
        assert closed == 1 and replies[0].startswith(b"HTTP/1.1 408")


def test_defect_10_pipelined_request_with_a_stalled_body_is_closed(tmp_path: Path) -> None:
    first = b"GET /hello HTTP/1.1\r\nhost: x\r\n\r\n"
    second = b"POST /public/recipe/session HTTP/1.1\r\nhost: x\r\ncontent-length: 50\r\n\r\n{"
    with running_core(f"sqlite:///{tmp_path / 'c.db'}", tmp_path / "core.log", SHORT) as core:
        (sock,) = open_idle(_port(core.url), 1, first + second)  # both in one write: the second is buffered
        try:
            closed, replies = wait_closed([sock], GENEROUS_S)
        finally:
            sock.close()
        assert closed == 1
        assert replies[0].startswith(b"HTTP/1.1 200") and b"HTTP/1.1 408" in replies[0]


def test_defect_10_connections_beyond_the_cap_are_refused_at_once(tmp_path: Path) -> None:
    args = ["--max-connections", "5", "--header-timeout-seconds", "30"]
    with running_core(f"sqlite:///{tmp_path / 'c.db'}", tmp_path / "core.log", args) as core:
        port = _port(core.url)
        held = open_idle(port, 5)
        try:
            time.sleep(0.3)  # let the server accept all five
            extra = open_idle(port, 3, b"")
            try:
                closed, replies = wait_closed(extra, GENEROUS_S)
            finally:
                close_all(extra)
            assert closed == 3 and all(reply.startswith(b"HTTP/1.1 503") for reply in replies)
            assert all(still_open(sock) for sock in held)
        finally:
            close_all(held)
        deadline = time.monotonic() + GENEROUS_S
        while time.monotonic() < deadline:  # the server sees the five go away, then serves again
            try:
                if httpx.get(core.url + "/hello", timeout=5).text == "Hello":
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        else:
            raise AssertionError("the core did not serve again after the held connections closed")
    assert "refusing connections" in core.log()


@contextmanager
def _process(args: list[str], env: dict[str, str], ready_url: str, log_path: Path) -> Iterator[None]:
    with open(log_path, "wb") as log_file:
        process = subprocess.Popen(args, env={**os.environ, **env}, stdout=log_file, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            assert process.poll() is None, log_path.read_text()
            try:
                httpx.get(ready_url, timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            raise AssertionError(f"did not start: {log_path.read_text()}")
        yield
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_defect_10_fauna_dev_closes_slow_clients(tmp_path: Path) -> None:
    port = free_port()
    args = [sys.executable, "-m", "gatepass.cli", "fauna-dev", "--port", str(port)]
    with _process(args, SHORT_ENV, f"http://127.0.0.1:{port}/ping", tmp_path / "fauna.log"):
        idle = open_idle(port, 20)
        try:
            assert httpx.get(f"http://127.0.0.1:{port}/ping", timeout=5).status_code == 200
            closed, _ = wait_closed(idle, GENEROUS_S)
        finally:
            close_all(idle)
        assert closed == 20


def test_defect_10_demo_closes_slow_clients_on_both_ports(tmp_path: Path) -> None:
    pytest.importorskip("fastapi")
    pytest.importorskip("faunadb")
    assets = tmp_path / "assets"
    assets.mkdir()
    for name in ("supertokens.js", "faunadb.js"):
        (assets / name).write_text("// test stub\n")
    port, fauna_port = free_port(), free_port()
    args = [sys.executable, "-m", "gatepass.cli", "demo", "--port", str(port), "--fauna-port", str(fauna_port)]
    args += ["--data-dir", str(tmp_path / "data"), "--assets", str(assets)]
    with _process(args, SHORT_ENV, f"http://127.0.0.1:{port}/", tmp_path / "demo.log"):
        idle = open_idle(port, 10) + open_idle(fauna_port, 10)
        try:
            assert httpx.get(f"http://127.0.0.1:{port}/", timeout=5).status_code == 200
            closed, _ = wait_closed(idle, GENEROUS_S)
        finally:
            close_all(idle)
        assert closed == 20


def test_defect_10_limits_are_settings_with_sane_defaults() -> None:
    assert resolve_settings({}, {}, {}).limits == ServerLimits(10.0, 30.0, 5, 500)
    settings = resolve_settings(
        {"max_connections": "7"},
        {"GATEPASS_HEADER_TIMEOUT_SECONDS": "2.5", "GATEPASS_MAX_CONNECTIONS": "9"},
        {"body_timeout_seconds": 4, "keep_alive_timeout_seconds": 3},
    )
    assert settings.limits == ServerLimits(2.5, 4.0, 3, 7)
    assert limits_from_env({"GATEPASS_BODY_TIMEOUT_SECONDS": "2"}).body_timeout_seconds == 2.0
    for env, message in [
        ({"GATEPASS_HEADER_TIMEOUT_SECONDS": "0"}, "GATEPASS_HEADER_TIMEOUT_SECONDS"),
        ({"GATEPASS_BODY_TIMEOUT_SECONDS": "nan"}, "GATEPASS_BODY_TIMEOUT_SECONDS"),
        ({"GATEPASS_MAX_CONNECTIONS": "many"}, "GATEPASS_MAX_CONNECTIONS"),
        ({"GATEPASS_KEEP_ALIVE_TIMEOUT_SECONDS": "0"}, "GATEPASS_KEEP_ALIVE_TIMEOUT_SECONDS"),
    ]:
        with pytest.raises(ConfigurationError, match=message):
            resolve_settings({}, env, {})


def test_defect_10_bare_line_breaks_after_a_request_do_not_hold_a_connection(tmp_path: Path) -> None:
    # llhttp skips CRLFs between requests without starting one: they must still start the header deadline
    args = [*SHORT, "--keep-alive-timeout-seconds", "60"]
    with running_core(f"sqlite:///{tmp_path / 'c.db'}", tmp_path / "core.log", args) as core:
        (sock,) = open_idle(_port(core.url), 1, b"GET /hello HTTP/1.1\r\nhost: x\r\n\r\n")
        try:
            deadline = time.monotonic() + GENEROUS_S
            answer = b""
            while b"Hello" not in answer and time.monotonic() < deadline:
                answer += sock.recv(4096)
            sock.sendall(b"\r\n")
            closed, replies = wait_closed([sock], GENEROUS_S)
        finally:
            sock.close()
        assert closed == 1 and replies[0].startswith(b"HTTP/1.1 408")
