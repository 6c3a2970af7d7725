"""One small test application per framework, with the same endpoints, served over real HTTP in a thread.

Endpoints: POST /login {userId, payload?, data?}; GET|POST /protected; GET /optional; GET /checkdb;
POST /merge {update}; GET /data; POST /revoke; GET /claim (needs role=admin).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi import Depends, FastAPI, Request
from werkzeug.serving import make_server

from gatepass.recipe.instance import Gatepass
from gatepass.recipe.session.state import ClaimValidator
from tests.helpers import free_port, serve_in_thread

ADMIN_ONLY = ClaimValidator("role", lambda payload: (payload.get("role") == "admin", {"expected": "admin"}))


def _admin_only(_: list[ClaimValidator], __: Any, ___: dict[str, Any]) -> list[ClaimValidator]:
    return [ADMIN_ONLY]


def _user(session: Any) -> dict[str, Any]:
    if session is None:
        return {"userId": None}
    return {
        "userId": session.get_user_id(),
        "handle": session.get_handle(),
        "payload": session.get_access_token_payload(),
    }


# FastAPI ---------------------------------------------------------------------------------------------------------
def fastapi_app(gp: Gatepass) -> Any:
    from gatepass.recipe.session.asyncio import create_new_session
    from gatepass.recipe.session.framework.starlette import GatepassMiddleware, verify_session

    app = FastAPI()
    app.add_middleware(GatepassMiddleware, gatepass=gp)

    @app.post("/login")
    async def login(request: Request) -> dict[str, Any]:
        body = await request.json()
        session = await create_new_session(
            request, "public", body["userId"], body.get("payload"), body.get("data"), gatepass=gp
        )
        return {"handle": session.get_handle()}

    @app.api_route("/protected", methods=["GET", "POST"])
    async def protected(session: Any = Depends(verify_session())) -> dict[str, Any]:
        return _user(session)

    @app.get("/optional")
    async def optional(session: Any = Depends(verify_session(session_required=False))) -> dict[str, Any]:
        return _user(session)

    @app.get("/checkdb")
    async def checkdb(session: Any = Depends(verify_session(check_database=True))) -> dict[str, Any]:
        return _user(session)

    @app.post("/merge")
    async def merge(request: Request, session: Any = Depends(verify_session())) -> dict[str, Any]:
        await session.merge_into_access_token_payload((await request.json())["update"])
        return _user(session)

    @app.get("/data")
    async def data(session: Any = Depends(verify_session())) -> dict[str, Any]:
        return {"data": await session.get_session_data_from_database()}

    @app.post("/revoke")
    async def revoke(session: Any = Depends(verify_session())) -> dict[str, Any]:
        await session.revoke_session()
        return {}

    @app.get("/claim")
    async def claim(session: Any = Depends(verify_session(override_global_claim_validators=_admin_only))) -> Any:
        return _user(session)

    return app


# Starlette -------------------------------------------------------------------------------------------------------
def starlette_app(gp: Gatepass) -> Any:
    from starlette.applications import Starlette
    from starlette.middleware import Middleware
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    from gatepass.recipe.session.asyncio import create_new_session
    from gatepass.recipe.session.framework.starlette import GatepassMiddleware, verify_session

    async def login(request: Request) -> JSONResponse:
        body = await request.json()
        session = await create_new_session(
            request, "public", body["userId"], body.get("payload"), body.get("data"), gatepass=gp
        )
        return JSONResponse({"handle": session.get_handle()})

    def endpoint(**options: Any) -> Any:
        verify = verify_session(**options)

        async def handler(request: Request) -> JSONResponse:
            session = await verify(request)
            path = request.url.path
            if path == "/merge":
                await session.merge_into_access_token_payload((await request.json())["update"])  # type: ignore[union-attr]
            elif path == "/data":
                return JSONResponse({"data": await session.get_session_data_from_database()})  # type: ignore[union-attr]
            elif path == "/revoke":
                await session.revoke_session()  # type: ignore[union-attr]
                return JSONResponse({})
            return JSONResponse(_user(session))

        return handler

    routes = [
        Route("/login", login, methods=["POST"]),
        Route("/protected", endpoint(), methods=["GET", "POST"]),
        Route("/optional", endpoint(session_required=False)),
        Route("/checkdb", endpoint(check_database=True)),
        Route("/merge", endpoint(), methods=["POST"]),
        Route("/data", endpoint()),
        Route("/revoke", endpoint(), methods=["POST"]),
        Route("/claim", endpoint(override_global_claim_validators=_admin_only)),
    ]
    return Starlette(routes=routes, middleware=[Middleware(GatepassMiddleware, gatepass=gp)])


# Flask -----------------------------------------------------------------------------------------------------------
def flask_app(gp: Gatepass) -> Any:
    from flask import Flask, request

    from gatepass.recipe.session.framework.flask import Middleware, get_verified_session, verify_session
    from gatepass.recipe.session.syncio import create_new_session

    app = Flask("gatepass-test")
    Middleware(app, gatepass=gp)

    @app.post("/login")
    def login() -> Any:
        body = request.get_json()
        session = create_new_session(
            request, "public", body["userId"], body.get("payload"), body.get("data"), gatepass=gp
        )
        return {"handle": session.get_handle()}

    @app.route("/protected", methods=["GET", "POST"])
    @verify_session()
    def protected() -> Any:
        return _user(get_verified_session())

    @app.get("/optional")
    @verify_session(session_required=False)
    def optional() -> Any:
        return _user(get_verified_session())

    @app.get("/checkdb")
    @verify_session(check_database=True)
    def checkdb() -> Any:
        return _user(get_verified_session())

    @app.post("/merge")
    @verify_session()
    def merge() -> Any:
        session = get_verified_session()
        assert session is not None
        session.merge_into_access_token_payload(request.get_json()["update"])
        return _user(session)

    @app.get("/data")
    @verify_session()
    def data() -> Any:
        session = get_verified_session()
        assert session is not None
        return {"data": session.get_session_data_from_database()}

    @app.post("/revoke")
    @verify_session()
    def revoke() -> Any:
        session = get_verified_session()
        assert session is not None
        session.revoke_session()
        return {}

    @app.get("/claim")
    @verify_session(override_global_claim_validators=_admin_only)
    def claim() -> Any:
        return _user(get_verified_session())

    return app


# Django (sync views over WSGI, async views over ASGI) ---------------------------------------------------------------
def django_apps() -> tuple[Any, Any]:
    from tests.sdk import django_app

    return django_app.wsgi_application(), django_app.asgi_application()


@contextmanager
def serve_wsgi(app: Any) -> Iterator[str]:
    port = free_port()
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


@contextmanager
def serve(framework: str, gp: Gatepass) -> Iterator[str]:
    if framework == "fastapi":
        with serve_in_thread(fastapi_app(gp)) as url:
            yield url
    elif framework == "starlette":
        with serve_in_thread(starlette_app(gp)) as url:
            yield url
    elif framework == "flask":
        with serve_wsgi(flask_app(gp)) as url:
            yield url
    elif framework == "litestar":
        from tests.sdk.litestar_app import litestar_app

        with serve_in_thread(litestar_app(gp)) as url:
            yield url
    elif framework == "drf":
        from tests.sdk.drf_app import drf_application

        with serve_wsgi(drf_application()) as url:
            yield url
    elif framework == "django-sync":
        with serve_wsgi(django_apps()[0]) as url:
            yield url
    else:
        with serve_in_thread(django_apps()[1]) as url:
            yield url
