"""Request headers are bounded in size (16 KiB for the request line and headers together): over it, the core answers
431 and closes, whether the headers come at once, trickle in without ever ending, or hide in one huge target or
one huge header; just under it, the request is served. Real sockets on 127.0.0.1 against a real core process."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import httpx
import pytest

from gatepass.core.http_protocol import MAX_HEADER_BYTES
from tests.helpers import CoreProcess, running_core
from tests.ops.slow_clients import wait_closed

WITHIN_S = 15


@pytest.fixture(scope="module")
def core(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CoreProcess]:
    tmp = tmp_path_factory.mktemp("headers")
    with running_core(f"sqlite:///{tmp / 'c.db'}", tmp / "core.log") as running:
        yield running


def _send(core: CoreProcess, *chunks: bytes, pause_s: float = 0.0) -> bytes:
    sock = socket.create_connection(("127.0.0.1", int(core.url.rsplit(":", 1)[1])), timeout=5)
    try:
        for chunk in chunks:
            try:
                sock.sendall(chunk)
            except (BrokenPipeError, ConnectionResetError):  # the server refused and closed before the rest
                break
            time.sleep(pause_s)
        closed, replies = wait_closed([sock], WITHIN_S)
    finally:
        sock.close()
    assert closed == 1, "the server kept the connection open"
    return replies[0]


def _is_431(reply: bytes) -> bool:
    return reply.startswith(b"HTTP/1.1 431")


def test_headers_over_the_cap_in_one_piece_are_431(core: CoreProcess) -> None:
    request = b"GET /hello HTTP/1.1\r\nhost: x\r\nx-big: " + b"a" * MAX_HEADER_BYTES + b"\r\nconnection: close\r\n\r\n"
    assert _is_431(_send(core, request))


def test_headers_that_trickle_in_past_the_cap_without_ending_are_431(core: CoreProcess) -> None:
    chunks = [b"GET /hello HTTP/1.1\r\nhost: x\r\nx-big: "] + [b"a" * 4096] * 6  # never ends its header
    assert _is_431(_send(core, *chunks, pause_s=0.02))


def test_many_small_headers_over_the_cap_are_431(core: CoreProcess) -> None:
    headers = b"".join(b"x-h%d: %s\r\n" % (i, b"v" * 40) for i in range(MAX_HEADER_BYTES // 40))
    assert _is_431(_send(core, b"GET /hello HTTP/1.1\r\nhost: x\r\n" + headers + b"connection: close\r\n\r\n"))


def test_a_request_target_over_the_cap_is_431(core: CoreProcess) -> None:
    request = b"GET /hello?q=" + b"a" * MAX_HEADER_BYTES + b" HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n"
    assert _is_431(_send(core, request))


def test_headers_just_under_the_cap_are_served(core: CoreProcess) -> None:
    answer = httpx.get(core.url + "/hello", headers={"x-big": "a" * (MAX_HEADER_BYTES - 512)}, timeout=5)
    assert answer.status_code == 200 and answer.text == "Hello"


def test_the_core_serves_normally_after_refusing(core: CoreProcess) -> None:
    _send(core, b"GET /hello HTTP/1.1\r\nhost: x\r\nx-big: " + b"a" * (2 * MAX_HEADER_BYTES) + b"\r\n\r\n")
    assert httpx.get(core.url + "/hello", timeout=5).text == "Hello"


def test_a_large_body_before_a_pipelined_request_is_not_counted_as_headers(core: CoreProcess) -> None:
    body = b'{"userId":"u"}' + b" " * (2 * MAX_HEADER_BYTES)  # JSON may end in whitespace
    first = b"POST /recipe/session HTTP/1.1\r\nhost: x\r\ncontent-length: %d\r\n\r\n" % len(body) + body
    sock = socket.create_connection(("127.0.0.1", int(core.url.rsplit(":", 1)[1])), timeout=5)
    try:
        sock.sendall(first + b"GET /hello HT")  # one write: the body and the start of the next request
        answer = b""
        deadline = time.monotonic() + WITHIN_S
        while b'"status":"OK"' not in answer and time.monotonic() < deadline:
            chunk = sock.recv(65536)
            if not chunk:
                break
            answer += chunk
    finally:
        sock.close()
    assert answer.startswith(b"HTTP/1.1 200") and b"431" not in answer.split(b"\r\n", 1)[0]
