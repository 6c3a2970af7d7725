"""Per-session lifetimes through the SDK (issue 13 item 3): "remember me" off is browser-session cookies (no
``Expires``, no ``Max-Age``) at login, at every refresh and at every payload update, and a shorter inactivity
timeout the core keeps with the session; an absolute lifetime per session. Over real HTTP, FastAPI (async) and Flask
(sync), embedded and remote core; the timeline with an injected clock (embedded)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import Depends, FastAPI, Request

from gatepass.errors import ConfigurationError, CoreError
from gatepass.recipe.instance import Gatepass
from gatepass.recipe.session import SessionLifetime, asyncio, syncio
from gatepass.recipe.session.core_client import EmbeddedCore
from tests.core.conftest import FakeClock
from tests.helpers import CoreProcess, serve_in_thread
from tests.sdk.apps import serve_wsgi
from tests.sdk.conftest import build_gatepass, make_core

ACCESS_S, REFRESH_MIN, SHORT = 60, 120, timedelta(minutes=10)


def _lifetime(body: dict[str, Any]) -> SessionLifetime | None:
    if body.get("absoluteMinutes"):
        return SessionLifetime(absolute_lifetime=timedelta(minutes=body["absoluteMinutes"]))
    return None if body.get("remember", True) else SessionLifetime.not_remembered(SHORT)


def _fastapi(gp: Gatepass) -> Any:
    from gatepass.recipe.session.framework.starlette import GatepassMiddleware, verify_session

    app = FastAPI()
    app.add_middleware(GatepassMiddleware, gatepass=gp)

    @app.post("/login")
    async def login(request: Request) -> dict[str, Any]:
        body = await request.json()
        created = await asyncio.create_new_session(request, "public", "u", lifetime=_lifetime(body), gatepass=gp)
        return {"handle": created.get_handle()}

    @app.get("/me")
    async def me(session: Any = Depends(verify_session())) -> dict[str, Any]:
        return {"userId": session.get_user_id()}

    @app.post("/merge")
    async def merge(session: Any = Depends(verify_session())) -> dict[str, Any]:
        await session.merge_into_access_token_payload({"theme": "dark"})
        return {}

    return app


def _flask(gp: Gatepass) -> Any:
    from flask import Flask, request

    from gatepass.recipe.session.framework.flask import Middleware, get_verified_session, verify_session

    app = Flask("lifetimes")
    Middleware(app, gatepass=gp)

    @app.post("/login")
    def login() -> Any:
        created = syncio.create_new_session(request, "public", "u", lifetime=_lifetime(request.get_json()), gatepass=gp)
        return {"handle": created.get_handle()}

    @app.get("/me")
    @verify_session()
    def me() -> Any:
        return {"userId": get_verified_session().get_user_id()}

    @app.post("/merge")
    @verify_session()
    def merge() -> Any:
        get_verified_session().merge_into_access_token_payload({"theme": "dark"})
        return {}

    return app


@dataclass
class Site:
    url: str
    gp: Gatepass
    clock: FakeClock | None


@contextmanager
def _serve(framework: str, gp: Gatepass) -> Iterator[str]:
    if framework == "fastapi":
        with serve_in_thread(_fastapi(gp)) as url:
            yield url
    else:
        with serve_wsgi(_flask(gp)) as url:
            yield url


@pytest.fixture(params=[f"{f}-{c}" for f in ("fastapi", "flask") for c in ("embedded", "remote")])
def site(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Site]:
    framework, mode = request.param.split("-")
    clock = FakeClock() if mode == "embedded" else None
    if clock is not None:
        core: Any = EmbeddedCore(
            f"sqlite:///{tmp_path / 'l.db'}", access_token_validity=ACCESS_S, refresh_token_validity=REFRESH_MIN,
            clock=clock,
        )  # fmt: skip
    else:
        remote: CoreProcess = request.getfixturevalue("remote_core")
        lifetimes = {"access_token_validity": ACCESS_S, "refresh_token_validity": REFRESH_MIN}
        core = make_core("remote", remote, tmp_path, **lifetimes)
    gp = build_gatepass(framework, core, anti_csrf="NONE", cookie_secure=False)
    try:
        with _serve(framework, gp) as url:
            yield Site(url, gp, clock)
    finally:
        gp.close()


def _cookies(response: httpx.Response) -> dict[str, str]:
    """Each token cookie's ``Set-Cookie`` value, by name."""
    return {line.split("=", 1)[0]: line for line in response.headers.get_list("set-cookie")}


def _value(set_cookie: str) -> str:
    return set_cookie.split(";", 1)[0].split("=", 1)[1]


def _lasts_for_the_browser_session(set_cookie: str) -> bool:
    attributes = [part.strip().split("=", 1)[0].lower() for part in set_cookie.split(";")[1:]]
    return "expires" not in attributes and "max-age" not in attributes


def _expires(set_cookie: str) -> float:
    part = next(p for p in set_cookie.split(";") if p.strip().lower().startswith("expires="))
    return parsedate_to_datetime(part.split("=", 1)[1]).timestamp()


def _login(client: httpx.Client, **body: Any) -> dict[str, str]:
    client.cookies.clear()  # each login is a new browser: one carrying a session would replace it
    response = client.post("/login", json=body, headers={"st-auth-mode": "cookie"})
    client.cookies.clear()
    assert response.status_code == 200, response.text
    return _cookies(response)


def _refresh(client: httpx.Client, cookies: dict[str, str]) -> httpx.Response:
    jar = f"sRefreshToken={_value(cookies['sRefreshToken'])}"
    client.cookies.clear()  # only the cookies the test sends
    return client.post("/auth/session/refresh", headers={"rid": "session", "cookie": jar})


def _with_access(cookies: dict[str, str]) -> dict[str, str]:
    return {"cookie": f"sAccessToken={_value(cookies['sAccessToken'])}", "rid": "session"}


def test_not_remembered_sessions_get_browser_session_cookies_throughout(site: Site) -> None:
    with httpx.Client(base_url=site.url, timeout=30) as client:
        cookies = _login(client, remember=False)
        assert _lasts_for_the_browser_session(cookies["sAccessToken"])
        assert _lasts_for_the_browser_session(cookies["sRefreshToken"])
        refreshed = _refresh(client, cookies)
        assert refreshed.status_code == 200
        cookies = _cookies(refreshed)
        assert _lasts_for_the_browser_session(cookies["sAccessToken"])
        assert _lasts_for_the_browser_session(cookies["sRefreshToken"])
        merged = client.post("/merge", headers=_with_access(cookies))
        assert merged.status_code == 200, merged.text
        assert _lasts_for_the_browser_session(_cookies(merged)["sAccessToken"])
        signed_out = client.post("/auth/signout", headers=_with_access(cookies))
        for line in _cookies(signed_out).values():  # clearing always expires them, whatever the session was
            assert _expires(line) == 0


def test_remembered_sessions_keep_expiring_cookies(site: Site) -> None:
    with httpx.Client(base_url=site.url, timeout=30) as client:
        cookies = _login(client)
        assert not _lasts_for_the_browser_session(cookies["sAccessToken"])
        refreshed = _cookies(_refresh(client, cookies))
        assert not _lasts_for_the_browser_session(refreshed["sRefreshToken"])
        lifetime = _expires(refreshed["sRefreshToken"]) - _expires(cookies["sRefreshToken"])
        assert -5 <= lifetime <= 5 + (site.clock is None) * 60  # both at the app's 120 minutes from their refresh


def test_the_shorter_inactivity_timeout_is_the_sessions_own(site: Site) -> None:
    with httpx.Client(base_url=site.url, timeout=30) as client:
        short, long = _login(client, remember=False), _login(client, remember=True)
        if site.clock is None:  # a remote core: the session's expiry, as the core reports it
            for cookies, minutes in ((short, 10), (long, REFRESH_MIN)):
                handle = _handle(site, cookies)
                info = syncio.get_session_information(handle, gatepass=site.gp)
                assert info is not None
                assert abs(info.expiry - info.time_created - minutes * 60_000) < 5_000
            return
        short = _cookies(_refresh(client, short))  # a child: its use (here, its refresh) promotes it and extends
        for _ in range(3):  # active within 10 minutes: the short session lives on, at its own pace
            site.clock.advance(SHORT // timedelta(milliseconds=1) - 1_000)
            refreshed = _refresh(client, short)
            assert refreshed.status_code == 200
            short = _cookies(refreshed)
        site.clock.advance(SHORT // timedelta(milliseconds=1))  # idle for 10 minutes: gone, the other is not
        assert _refresh(client, short).status_code == 401
        assert _refresh(client, long).status_code == 200


def _handle(site: Site, cookies: dict[str, str]) -> str:
    container = syncio.get_session_without_request_response(_value(cookies["sAccessToken"]), gatepass=site.gp)
    assert container is not None
    return container.get_handle()


def test_an_absolute_lifetime_per_session(site: Site) -> None:
    with httpx.Client(base_url=site.url, timeout=30) as client:
        started = time.time()
        cookies = _login(client, absoluteMinutes=5)
        if site.clock is None:  # a remote core (its own clock): the refresh token ends at the absolute end
            assert _expires(cookies["sRefreshToken"]) <= started + 5 * 60 + 1
            return
        site.clock.advance(4 * 60_000)
        refreshed = _refresh(client, cookies)
        assert refreshed.status_code == 200
        assert _expires(_cookies(refreshed)["sRefreshToken"]) * 1000 <= site.clock.now + 60_000 + 1_000
        site.clock.advance(60_000)
        assert _refresh(client, _cookies(refreshed)).status_code == 401


def test_the_core_refuses_lifetimes_out_of_range(site: Site) -> None:
    too_long = SessionLifetime(inactivity_timeout=timedelta(minutes=REFRESH_MIN + 1))
    too_short = SessionLifetime(inactivity_timeout=timedelta(seconds=ACCESS_S))
    for lifetime in (too_long, too_short):
        with pytest.raises(CoreError):
            syncio.create_new_session_without_request_response("public", "u", lifetime=lifetime, gatepass=site.gp)
    with pytest.raises(ConfigurationError):
        SessionLifetime(absolute_lifetime=timedelta(0)).absolute_lifetime_ms  # noqa: B018
