"""What only the Litestar adapter does, over real HTTP with an embedded core and a remote ``gatepass core``: the
plugin's SDK routes (and their 404s), the session guard next to the dependency, exception answers that need the
core (a theft found by ``refresh_session`` in a route revokes the session before answering), the app's own
exception handler winning over the plugin's, error answers carrying only the error's changes, the app's own
headers and cookies kept next to the session's, and the process-default instance. The shared behaviour
(``test_behaviour``, ``test_jwt_endpoints``, ``test_fuzz_sdk``) runs against the Litestar app too."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar import Litestar, Request, Response, get, post
from litestar.di import NamedDependency, Provide

from gatepass.recipe.instance import Gatepass, set_default
from gatepass.recipe.session import asyncio as st_async
from gatepass.recipe.session import syncio as st_sync
from gatepass.recipe.session.container import AsyncSessionContainer
from gatepass.recipe.session.errors import SessionError, UnauthorisedError
from gatepass.recipe.session.framework.litestar import (
    GatepassPlugin,
    get_verified_session,
    session_guard,
    verify_session,
)
from gatepass.recipe.session.recipe import APIInterface, Overrides
from tests.helpers import CoreProcess, serve_in_thread
from tests.sdk.conftest import build_gatepass, make_core

Session = NamedDependency[AsyncSessionContainer]
REQUIRED = {"session": Provide(verify_session())}


def _app(gp: Gatepass | None, *, own_handler: bool = False) -> Litestar:
    @post("/login", status_code=200)
    async def login(request: Request[Any, Any, Any]) -> Response[dict[str, str]]:
        session = await st_async.create_new_session(request, "public", "lit-user", gatepass=gp)
        headers = {"x-app": "kept", "access-control-expose-headers": "x-app"}
        return Response({"handle": session.get_handle()}, headers=headers, cookies={"app-cookie": "yes"})

    @get("/guarded", guards=[session_guard()])
    async def guarded(request: Request[Any, Any, Any]) -> dict[str, Any]:
        session = get_verified_session(request)
        return {"userId": session.get_user_id() if session else None}

    @get("/depended", dependencies=REQUIRED)
    async def depended(session: Session) -> dict[str, Any]:
        return {"userId": session.get_user_id()}

    @post("/rotate", status_code=200)
    async def rotate(request: Request[Any, Any, Any]) -> dict[str, str]:
        session = await st_async.refresh_session(request, gatepass=gp)
        return {"handle": session.get_handle()}

    @post("/merge-then-fail", status_code=200, dependencies=REQUIRED)
    async def merge_then_fail(session: Session) -> None:
        await session.merge_into_access_token_payload({"step": 1})  # a new access token, never sent
        raise UnauthorisedError("the app says no")

    handlers = [login, guarded, depended, rotate, merge_then_fail]
    own = {SessionError: lambda _, error: Response({"mine": type(error).__name__}, status_code=418)}
    return Litestar(handlers, plugins=[GatepassPlugin(gp)], exception_handlers=own if own_handler else {})  # type: ignore[dict-item]


@pytest.fixture(params=["embedded", "remote"])
def served(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Gatepass, httpx.Client]]:
    remote: CoreProcess | None = request.getfixturevalue("remote_core") if request.param == "remote" else None
    gp = build_gatepass("litestar", make_core(request.param, remote, tmp_path), anti_csrf="NONE")
    try:
        with serve_in_thread(_app(gp)) as url, httpx.Client(base_url=url, timeout=30) as client:
            yield gp, client
    finally:
        gp.close()


def _login(client: httpx.Client) -> httpx.Response:
    response = client.post("/login", headers={"st-auth-mode": "header"})
    assert response.status_code == 200, response.text
    return response


def test_the_apps_headers_and_cookies_are_kept_next_to_the_sessions(served: tuple[Gatepass, httpx.Client]) -> None:
    _, client = served
    response = _login(client)
    assert response.headers["x-app"] == "kept" and response.cookies["app-cookie"] == "yes"
    assert response.headers["st-access-token"] and response.headers["front-token"]
    exposed = [name.strip() for name in response.headers["access-control-expose-headers"].split(",")]
    assert exposed[0] == "x-app" and {"front-token", "st-access-token", "st-refresh-token"} <= set(exposed)


def test_the_guard_verifies_like_the_dependency(served: tuple[Gatepass, httpx.Client]) -> None:
    _, client = served
    access = _login(client).headers["st-access-token"]
    assert client.get("/guarded", headers={"Authorization": f"Bearer {access}"}).json() == {"userId": "lit-user"}
    tampered = access[:-2] + ("AA" if not access.endswith("AA") else "BB")
    for headers in [
        {},
        {"Authorization": f"Bearer {access}"},
        {"Authorization": "Bearer a.b"},
        {"Authorization": f"Bearer {tampered}"},
    ]:
        by_guard, by_dependency = client.get("/guarded", headers=headers), client.get("/depended", headers=headers)
        assert (by_guard.status_code, by_guard.json()) == (by_dependency.status_code, by_dependency.json())
    refused = client.get("/guarded")
    assert refused.status_code == 401 and refused.json() == {"message": "unauthorised"}


def test_theft_found_in_a_route_revokes_the_session_then_answers(served: tuple[Gatepass, httpx.Client]) -> None:
    gp, client = served
    first = _login(client).headers["st-refresh-token"]
    rotated = client.post("/rotate", headers={"Authorization": f"Bearer {first}"})
    assert rotated.status_code == 200, rotated.text
    current = rotated.headers["st-refresh-token"]
    handle = rotated.json()["handle"]
    promote = client.get("/guarded", headers={"Authorization": f"Bearer {rotated.headers['st-access-token']}"})
    assert promote.status_code == 200  # the new access token is used: the old refresh token is now superseded
    theft = client.post("/rotate", headers={"Authorization": f"Bearer {first}"})
    assert theft.status_code == 401 and theft.json() == {"message": "token theft detected"}
    assert theft.headers["st-access-token"] == "" and theft.headers["st-refresh-token"] == ""  # cleared
    assert st_sync.get_session_information(handle, gatepass=gp) is None  # revoked before the answer went out
    assert client.post("/rotate", headers={"Authorization": f"Bearer {current}"}).status_code == 401


def test_an_error_answer_carries_only_the_errors_changes(served: tuple[Gatepass, httpx.Client]) -> None:
    _, client = served
    access = _login(client).headers["st-access-token"]
    refused = client.post("/merge-then-fail", headers={"Authorization": f"Bearer {access}"})
    assert refused.status_code == 401 and refused.json() == {"message": "unauthorised"}
    assert refused.headers["st-access-token"] == ""  # cleared, not the merged token
    assert "front-token" not in refused.headers or refused.headers["front-token"] == "remove"


def test_sdk_routes_answer_only_their_methods_and_can_be_switched_off(tmp_path: Path) -> None:
    def without_refresh(original: APIInterface) -> APIInterface:
        original.disable_refresh_post = True
        return original

    gp = build_gatepass("litestar", make_core("embedded", None, tmp_path), override=Overrides(apis=without_refresh))
    try:
        with serve_in_thread(_app(gp)) as url, httpx.Client(base_url=url) as client:
            refresh = _login(client).headers["st-refresh-token"]
            off = client.post("/auth/session/refresh", headers={"Authorization": f"Bearer {refresh}"})
            assert off.status_code == 404
            assert client.get("/auth/signout").status_code == 404  # sign-out is POST only
            assert client.get("/auth/jwt/jwks.json").json()["keys"]
            assert client.post("/auth/signout", headers={"Authorization": "Bearer x"}).status_code == 401
    finally:
        gp.close()


def test_the_apps_own_exception_handler_wins(tmp_path: Path) -> None:
    gp = build_gatepass("litestar", make_core("embedded", None, tmp_path))
    try:
        with serve_in_thread(_app(gp, own_handler=True)) as url, httpx.Client(base_url=url) as client:
            answered = client.get("/guarded")
            assert answered.status_code == 418 and answered.json() == {"mine": "UnauthorisedError"}
    finally:
        gp.close()


def test_cors_from_the_sdks_options_lets_the_website_call_with_credentials(tmp_path: Path) -> None:
    from litestar.config.cors import CORSConfig

    from gatepass.recipe.session.cors import cors_middleware_options

    gp = build_gatepass("litestar", make_core("embedded", None, tmp_path))
    cors = CORSConfig(**cors_middleware_options(gp))  # the Starlette helper's keywords are Litestar's too

    @get("/ping")
    async def ping() -> dict[str, bool]:
        return {"ok": True}

    with_cors = Litestar([ping], plugins=[GatepassPlugin(gp)], cors_config=cors)
    origin = gp.app_info.website_domain
    try:
        with serve_in_thread(with_cors) as url, httpx.Client(base_url=url) as client:
            preflight = client.options(
                "/auth/session/refresh",
                headers={"origin": origin, "access-control-request-method": "POST",
                         "access-control-request-headers": "rid,fdi-version,anti-csrf,st-auth-mode"},
            )  # fmt: skip
            assert preflight.status_code in (200, 204)
            assert preflight.headers["access-control-allow-origin"] == origin
            assert preflight.headers["access-control-allow-credentials"] == "true"
            allowed = preflight.headers["access-control-allow-headers"].lower()
            assert all(name in allowed for name in ("rid", "fdi-version", "anti-csrf", "st-auth-mode"))
            stranger = client.options(
                "/auth/session/refresh",
                headers={"origin": "https://evil.example", "access-control-request-method": "POST"},
            )
            assert stranger.headers.get("access-control-allow-origin") != "https://evil.example"
            answer = client.post("/auth/session/refresh", headers={"origin": origin, "rid": "session"})
            assert answer.status_code == 401 and answer.headers["access-control-allow-origin"] == origin
            assert "front-token" in answer.headers["access-control-expose-headers"]
    finally:
        gp.close()


def test_the_plugin_uses_the_process_default_instance(tmp_path: Path) -> None:
    gp = build_gatepass("litestar", make_core("embedded", None, tmp_path))
    set_default(gp)
    try:
        with serve_in_thread(_app(None)) as url, httpx.Client(base_url=url) as client:
            access = _login(client).headers["st-access-token"]
            assert client.get("/guarded", headers={"Authorization": f"Bearer {access}"}).json()["userId"] == "lit-user"
    finally:
        set_default(None)
        gp.close()
