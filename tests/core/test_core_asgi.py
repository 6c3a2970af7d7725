"""The core's ASGI entry (``CoreHttpApp.__call__``): HTTP goes straight to its dispatch, with no Starlette router
in front, so what the router used to answer is answered here: any method, the lifespan protocol, websockets."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from gatepass.core.http_app import CoreHttpApp
from gatepass.core.runtime import CoreRuntime


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
