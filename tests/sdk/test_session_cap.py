"""The per-user session cap through the SDK (issue 13 item 4), FastAPI (async) and Flask (sync), embedded and remote
core: the new session tells which sessions the cap ended (``get_revoked_sessions``), and they are gone; with
``refuse`` the helpers raise ``SessionLimitReachedError``, which an app may catch, and which the middleware answers
with 403 when it escapes; creating without a request raises it too."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request

from gatepass.recipe.instance import Gatepass, set_default
from gatepass.recipe.session import SessionLimitReachedError, asyncio, syncio
from gatepass.recipe.session.core_client import EmbeddedCore
from tests.helpers import CoreProcess, serve_in_thread
from tests.sdk.apps import serve_wsgi
from tests.sdk.conftest import FRAMEWORKS, build_gatepass, make_core, running_app

CAP = 2


def _answer(created: Any) -> dict[str, Any]:
    revoked = created.get_revoked_sessions()
    return {"handle": created.get_handle(), "revoked": [r.session_handle for r in revoked]}


def _fastapi(gp: Gatepass) -> Any:
    from gatepass.recipe.session.framework.starlette import GatepassMiddleware

    app = FastAPI()
    app.add_middleware(GatepassMiddleware, gatepass=gp)

    @app.post("/login")
    async def login(request: Request) -> Any:
        return _answer(await asyncio.create_new_session(request, "public", "u", {"app": 1}, gatepass=gp))

    @app.post("/polite-login")
    async def polite_login(request: Request) -> Any:
        try:
            return _answer(await asyncio.create_new_session(request, "public", "u", gatepass=gp))
        except SessionLimitReachedError as error:
            return {"limit": error.limit}

    return app


def _flask(gp: Gatepass) -> Any:
    from flask import Flask, request

    from gatepass.recipe.session.framework.flask import Middleware

    app = Flask("cap")
    Middleware(app, gatepass=gp)

    @app.post("/login")
    def login() -> Any:
        return _answer(syncio.create_new_session(request, "public", "u", {"app": 1}, gatepass=gp))

    @app.post("/polite-login")
    def polite_login() -> Any:
        try:
            return _answer(syncio.create_new_session(request, "public", "u", gatepass=gp))
        except SessionLimitReachedError as error:
            return {"limit": error.limit}

    return app


@contextmanager
def _site(framework: str, mode: str, policy: str, tmp_path: Path, remote: CoreProcess | None) -> Iterator[Any]:
    cap = {"max_sessions_per_user": CAP, "session_cap_policy": policy}
    core: Any = (
        EmbeddedCore(f"sqlite:///{tmp_path / policy}.db", **cap)  # type: ignore[arg-type]
        if mode == "embedded"
        else make_core("remote", remote, tmp_path, **cap)
    )
    gp = build_gatepass(framework, core, anti_csrf="NONE", cookie_secure=False)
    serve = serve_in_thread(_fastapi(gp)) if framework == "fastapi" else serve_wsgi(_flask(gp))
    try:
        with serve as url, httpx.Client(base_url=url, timeout=30) as client:
            yield gp, client
    finally:
        gp.close()


def _login(client: httpx.Client, path: str = "/login") -> httpx.Response:
    client.cookies.clear()  # each login is a new browser: one carrying a session would replace it
    response = client.post(path, headers={"st-auth-mode": "header"})
    client.cookies.clear()
    return response


def test_the_new_session_names_the_ones_the_cap_ended(kind: Any, tmp_path: Path) -> None:
    framework, mode, remote = kind
    with _site(framework, mode, "revoke_oldest", tmp_path, remote) as (gp, client):
        first, second = (_login(client).json() for _ in range(CAP))
        assert first["revoked"] == second["revoked"] == []
        third = _login(client).json()
        assert third["revoked"] == [first["handle"]]
        assert syncio.get_session_information(first["handle"], gatepass=gp) is None
        live = syncio.get_all_session_handles_for_user("u", gatepass=gp)
        assert sorted(live) == sorted([second["handle"], third["handle"]])


def test_refused_logins_raise_and_otherwise_answer_403(kind: Any, tmp_path: Path) -> None:
    framework, mode, remote = kind
    with _site(framework, mode, "refuse", tmp_path, remote) as (gp, client):
        for _ in range(CAP):
            assert _login(client).status_code == 200
        escaped = _login(client)
        assert (escaped.status_code, escaped.json()) == (403, {"message": "session limit reached"})
        assert "st-access-token" not in escaped.headers
        assert _login(client, "/polite-login").json() == {"limit": CAP}
        with pytest.raises(SessionLimitReachedError):
            syncio.create_new_session_without_request_response("public", "u", gatepass=gp)
        assert len(syncio.get_all_session_handles_for_user("u", gatepass=gp)) == CAP


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_every_framework_answers_an_escaped_refusal_with_403(framework: str, tmp_path: Path) -> None:
    core = EmbeddedCore(f"sqlite:///{tmp_path / 'cap.db'}", max_sessions_per_user=1, session_cap_policy="refuse")
    gp = build_gatepass(framework, core, anti_csrf="NONE", cookie_secure=False)
    try:
        with running_app(framework, gp) as url, httpx.Client(base_url=url, timeout=30) as client:
            first = client.post("/login", json={"userId": "u"}, headers={"st-auth-mode": "header"})
            assert first.status_code == 200, first.text
            refused = client.post("/login", json={"userId": "u"}, headers={"st-auth-mode": "header"})
    finally:
        gp.close()
        set_default(None)
    assert (refused.status_code, refused.json()) == (403, {"message": "session limit reached"})
    assert "st-access-token" not in refused.headers
