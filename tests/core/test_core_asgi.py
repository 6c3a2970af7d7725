"""The core's ASGI entry (``CoreHttpApp.__call__``): HTTP goes straight to its dispatch, with no Starlette router
in front, so what the router used to answer is answered here: any method, the lifespan protocol, websockets."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from gatepass.core.http_app import CoreHttpApp
from gatepass.core.runtime import CoreRuntime
from tests.core.conftest import db_snapshot


@pytest.mark.parametrize("method", ["OPTIONS", "HEAD", "PUT", "PATCH", "TRACE", "PROPFIND"])
def test_a_method_no_api_takes_is_405_on_an_api_path(client: httpx.Client, method: str) -> None:
    response = client.request(method, "/recipe/session", content=b"{}")
    assert response.status_code == 405


def test_hello_answers_every_method_and_head_has_no_body(client: httpx.Client) -> None:
    for method in ("GET", "POST", "OPTIONS"):
        response = client.request(method, "/hello")
        assert (response.status_code, response.text) == (200, "Hello"), method
    head = client.head("/hello")
    assert head.status_code == 200 and head.content == b""


def _lifespan_app(runtime: CoreRuntime, events: list[str]) -> CoreHttpApp:
    @contextlib.asynccontextmanager
    async def lifespan(_: Any) -> AsyncIterator[None]:
        events.append("started")
        yield
        events.append("stopped")

    return CoreHttpApp(runtime, lifespan=lifespan)


def test_the_lifespan_runs_from_startup_to_shutdown(runtime: CoreRuntime) -> None:
    events: list[str] = []
    app = _lifespan_app(runtime, events)

    async def serve_lifespan() -> list[str]:
        inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        sent: list[str] = []

        async def send(message: dict[str, Any]) -> None:
            sent.append(message["type"])
            if message["type"] == "lifespan.startup.complete":
                assert events == ["started"]
                await inbox.put({"type": "lifespan.shutdown"})

        await inbox.put({"type": "lifespan.startup"})
        await app({"type": "lifespan", "asgi": {"version": "3.0"}}, inbox.get, send)
        return sent

    sent = asyncio.run(serve_lifespan())
    assert sent == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
    assert events == ["started", "stopped"]


def test_a_websocket_is_closed(runtime: CoreRuntime) -> None:
    app = CoreHttpApp(runtime)
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "websocket.connect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "websocket", "path": "/recipe/session", "headers": [], "query_string": b"", "root_path": ""}
    asyncio.run(app(scope, receive, send))
    assert [message["type"] for message in sent] == ["websocket.close"]


HOSTILE_PATHS = [
    "/" + "9" * 5000 + "/recipe/session",
    "/1e309/recipe/session",
    "/appid-1e309/recipe/session",
    "/%ED%A0%80/recipe/session",  # a lone surrogate, UTF-8-encoded as no valid text can be
    "/appid-%ED%A0%80/recipe/session",
    "/recipe/session%00",
    "/%00/recipe/session",
    "/" + "x" * 60_000 + "/recipe/session",  # near httpx's own limit for a URL; 1 MB goes over a raw socket below
    "/a" * 5000 + "/recipe/session",
    "/appid-" + "%5B" * 5000 + "/recipe/session",
]


@pytest.mark.parametrize("path", HOSTILE_PATHS, ids=lambda p: p[:24])
@pytest.mark.parametrize("method", ["POST", "GET", "OPTIONS", "PROPFIND"])
def test_a_hostile_path_is_a_4xx_and_writes_nothing(
    client: httpx.Client, runtime: CoreRuntime, method: str, path: str
) -> None:
    before = db_snapshot(runtime)
    for _ in range(2):  # fresh, then with the resolution kept, if it was
        response = client.request(method, path, content=b'{"userId": "u"}')
        assert 400 <= response.status_code < 500, (method, path[:60], response.status_code, response.text[:200])
        assert "sqlite" not in response.text.lower() and "psycopg" not in response.text.lower()
    assert db_snapshot(runtime) == before


def test_a_one_megabyte_path_is_refused_and_writes_nothing(client: httpx.Client, runtime: CoreRuntime) -> None:
    before = db_snapshot(runtime)
    url = client.base_url
    with socket.create_connection((url.host, url.port), timeout=30) as sock:
        path = b"/" + b"x" * 1_000_000 + b"/recipe/session"
        sock.sendall(b"POST " + path + b" HTTP/1.1\r\nhost: core\r\ncontent-length: 2\r\n\r\n{}")
        status_line = sock.makefile("rb").readline()
    assert status_line.startswith(b"HTTP/1.1 4"), status_line[:80]
    assert db_snapshot(runtime) == before
