""" "Your devices" through the SDK (issue 13 item 6), FastAPI (async) and Flask (sync), embedded and remote core:
with ``client_info`` on, every login and refresh sends where it came from (the peer's address and User-Agent, or
what the app's function says), and ``get_user_sessions`` lists it with the times; ``revoke_other_sessions`` (the
session's, and the handle-based helper) signs the user out everywhere else. Off by default: nothing is sent."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import Depends, FastAPI, Request

from gatepass.protocol.cdi import ClientInfo
from gatepass.recipe.instance import Gatepass
from gatepass.recipe.session import asyncio, syncio
from gatepass.recipe.session.http_types import RequestView
from tests.helpers import serve_in_thread
from tests.sdk.apps import serve_wsgi
from tests.sdk.conftest import build_gatepass, make_core


def _devices(sessions: list[Any]) -> list[dict[str, Any]]:
    return [
        {
            "handle": s.session_handle,
            "created": s.created_ms,
            "active": s.last_active_ms,
            "from": s.created_from and s.created_from.to_json(),
            "seen": s.last_seen_from and s.last_seen_from.to_json(),
        }
        for s in sessions
    ]


def _fastapi(gp: Gatepass) -> Any:
    from gatepass.recipe.session.framework.starlette import GatepassMiddleware, verify_session

    app = FastAPI()
    app.add_middleware(GatepassMiddleware, gatepass=gp)

    @app.post("/login")
    async def login(request: Request) -> Any:
        return {"handle": (await asyncio.create_new_session(request, "public", "u", gatepass=gp)).get_handle()}

    @app.get("/devices")
    async def devices(session: Any = Depends(verify_session())) -> Any:
        return _devices(await asyncio.get_user_sessions(session.get_user_id(), gatepass=gp))

    @app.post("/sign-out-elsewhere")
    async def elsewhere(session: Any = Depends(verify_session())) -> Any:
        return {"revoked": await session.revoke_other_sessions()}

    return app


def _flask(gp: Gatepass) -> Any:
    from flask import Flask, request

    from gatepass.recipe.session.framework.flask import Middleware, get_verified_session, verify_session

    app = Flask("devices")
    Middleware(app, gatepass=gp)

    @app.post("/login")
    def login() -> Any:
        return {"handle": syncio.create_new_session(request, "public", "u", gatepass=gp).get_handle()}

    @app.get("/devices")
    @verify_session()
    def devices() -> Any:
        return _devices(syncio.get_user_sessions(get_verified_session().get_user_id(), gatepass=gp))

    @app.post("/sign-out-elsewhere")
    @verify_session()
    def elsewhere() -> Any:
        return {"revoked": get_verified_session().revoke_other_sessions()}

    return app


@contextmanager
def _site(kind: Any, tmp_path: Path, client_info: Any) -> Iterator[tuple[Gatepass, httpx.Client]]:
    framework, mode, remote = kind
    core = make_core(mode, remote, tmp_path)
    gp = build_gatepass(framework, core, anti_csrf="NONE", cookie_secure=False, client_info=client_info)
    serve = serve_in_thread(_fastapi(gp)) if framework == "fastapi" else serve_wsgi(_flask(gp))
    try:
        with serve as url, httpx.Client(base_url=url, timeout=30) as client:
            yield gp, client
    finally:
        gp.close()


def _login(client: httpx.Client, agent: str) -> httpx.Response:
    response = client.post("/login", headers={"st-auth-mode": "header", "user-agent": agent})
    assert response.status_code == 200, response.text
    return response


def _bearer(response: httpx.Response, kind: str = "access") -> dict[str, str]:
    return {"authorization": f"Bearer {response.headers[f'st-{kind}-token']}"}


def test_devices_show_where_each_login_and_refresh_came_from(kind: Any, tmp_path: Path) -> None:
    with _site(kind, tmp_path, True) as (_, client):
        phone = _login(client, "Phone/1.0")
        _login(client, "Laptop/2.0\t" + "x" * 1000)
        refreshed = client.post(
            "/auth/session/refresh", headers={**_bearer(phone, "refresh"), "user-agent": "Phone/1.1"}
        )
        assert refreshed.status_code == 200, refreshed.text
        listed = client.get("/devices", headers=_bearer(refreshed))
        assert listed.status_code == 200, listed.text
        first, second = listed.json()
    assert first["handle"] == phone.json()["handle"]
    assert first["from"] == {"ip": "127.0.0.1", "userAgent": "Phone/1.0"}
    assert first["seen"] == {"ip": "127.0.0.1", "userAgent": "Phone/1.1"}
    assert first["active"] >= first["created"]
    assert second["from"]["userAgent"] == "Laptop/2.0" + "x" * 502  # cleaned and cut to 512 characters


def test_off_by_default_nothing_is_sent(kind: Any, tmp_path: Path) -> None:
    with _site(kind, tmp_path, False) as (_, client):
        login = _login(client, "Phone/1.0")
        (device,) = client.get("/devices", headers=_bearer(login)).json()
    assert device["from"] is None and device["seen"] is None


def test_the_apps_own_source_and_a_failing_one(kind: Any, tmp_path: Path) -> None:
    def forwarded(request: RequestView) -> ClientInfo | None:
        if request.header("user-agent") == "boom":
            raise RuntimeError("a bug in the app's function")
        return ClientInfo(request.header("x-forwarded-for"), "proxied")

    with _site(kind, tmp_path, forwarded) as (_, client):
        client.post("/login", headers={"st-auth-mode": "header", "x-forwarded-for": "198.51.100.9"})
        failing = _login(client, "boom")  # the login stands; nothing is recorded for it
        devices = client.get("/devices", headers=_bearer(failing)).json()
    assert [d["from"] for d in devices] == [{"ip": "198.51.100.9", "userAgent": "proxied"}, None]


def test_sign_out_everywhere_else(kind: Any, tmp_path: Path) -> None:
    with _site(kind, tmp_path, False) as (gp, client):
        here, phone, tablet = (_login(client, agent) for agent in ("here", "phone", "tablet"))
        answer = client.post("/sign-out-elsewhere", headers=_bearer(here))
        assert answer.status_code == 200, answer.text
        assert sorted(answer.json()["revoked"]) == sorted([phone.json()["handle"], tablet.json()["handle"]])
        gone = client.post("/auth/session/refresh", headers=_bearer(phone, "refresh"))
        assert gone.status_code == 401
        assert syncio.get_all_session_handles_for_user("u", gatepass=gp) == [here.json()["handle"]]
        assert syncio.revoke_other_sessions(here.json()["handle"], gatepass=gp) == []
        assert syncio.revoke_other_sessions(phone.json()["handle"], gatepass=gp) is None  # gone: nothing revoked
        assert syncio.get_all_session_handles_for_user("u", gatepass=gp) == [here.json()["handle"]]


def test_the_client_info_option_is_checked(tmp_path: Path) -> None:
    from gatepass.errors import ConfigurationError
    from gatepass.recipe.session.core_client import EmbeddedCore

    async def coroutine(request: RequestView) -> ClientInfo | None:
        return None

    for bad in (coroutine, "yes", 1):
        with pytest.raises(ConfigurationError, match="client_info"):
            build_gatepass("fastapi", EmbeddedCore(f"sqlite:///{tmp_path / 'c.db'}"), client_info=bad)


def test_an_address_object_from_the_apps_function_is_kept(kind: Any, tmp_path: Path) -> None:
    import ipaddress

    def source(request: RequestView) -> ClientInfo:
        return ClientInfo(ipaddress.ip_address("203.0.113.5"), None)  # type: ignore[arg-type]

    with _site(kind, tmp_path, source) as (_, client):
        (device,) = client.get("/devices", headers=_bearer(_login(client, "any"))).json()
    assert device["from"] == {"ip": "203.0.113.5"}
