"""``asgi.request_view`` builds a request's view once: the middleware's is reused by ``verify_session`` while the
scope keeps the same headers (compared by content), method and path, and rebuilt when any of them changes."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from gatepass.recipe.session.asgi import request_view


def _scope() -> dict[str, Any]:
    return {
        "type": "http",
        "method": "GET",
        "path": "/me",
        "headers": [(b"authorization", b"Bearer abc"), (b"cookie", b"a=1; b=2")],
        "client": ("10.0.0.1", 5000),
    }


def test_the_view_is_built_once_per_scope() -> None:
    scope = _scope()
    first = request_view(scope)
    assert request_view(scope) is first
    assert first.header("Authorization") == "Bearer abc" and first.cookie_values("b") == ["2"]
    assert first.client == "10.0.0.1"


def test_a_changed_header_list_method_or_path_gets_a_new_view() -> None:
    scope = _scope()
    first = request_view(scope)
    scope["headers"] = [*scope["headers"], (b"x-extra", b"1")]  # a middleware replaced the header list
    second = request_view(scope)
    assert second is not first and second.header("x-extra") == "1"
    scope["path"] = "/mounted"
    third = request_view(scope)
    assert third is not second and third.path == "/mounted"
    scope["method"] = "POST"
    assert request_view(scope).method == "POST"


def test_an_equal_copy_of_the_header_list_keeps_the_view() -> None:
    scope = _scope()
    first = request_view(scope)
    scope["headers"] = list(scope["headers"])  # what Starlette's Headers(scope=scope) does
    assert request_view(scope) is first


def test_a_header_list_edited_in_place_gets_a_new_view() -> None:
    scope = _scope()
    first = request_view(scope)
    scope["headers"][0] = (b"authorization", b"Bearer other")
    second = request_view(scope)
    assert second is not first and second.header("authorization") == "Bearer other"
    scope["headers"].append((b"x-extra", b"1"))
    assert request_view(scope).header("x-extra") == "1"


def test_the_view_is_reused_inside_a_starlette_app() -> None:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route

    seen: list[bool] = []

    async def endpoint(request: Request) -> PlainTextResponse:
        request.headers.get("authorization")  # Starlette copies the scope's header list here
        seen.append(request_view(request.scope) is request.scope["outer-view"])
        return PlainTextResponse("ok")

    inner = Starlette(routes=[Route("/", endpoint)])

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            scope["outer-view"] = request_view(scope)
        await inner(scope, receive, send)

    async def call() -> str:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return (await client.get("/", headers={"authorization": "Bearer x"})).text

    assert asyncio.run(call()) == "ok"
    assert seen == [True]


def test_separate_scopes_never_share_a_view() -> None:
    assert request_view(_scope()) is not request_view(_scope())
