"""FastAPI and Flask apps on the official supertokens-python SDK with gatepass's FaunaDB override, served over real
HTTP. The same routes in both (the Flask app uses the SDK's sync API and ``syncio.get_faunadb_token``):

- ``POST /login {"userId"}``: ``create_new_session``; gatepass's errors answer their own status (503 when Fauna is
  down) with ``{"code", "message"}``, as README shows;
- ``GET /notes`` (``verify_session``): the backend uses the session's Fauna token: Fauna's ``CurrentIdentity()``
  and the user's own notes;
- ``GET /secret`` (``verify_session``): the Fauna secret itself (a test route, so tests can watch its liveness);
- ``POST /revoke``, ``/revoke-all``, ``/revoke-multiple``: the SDK's revocation functions;
- the SDK's own ``/auth/session/refresh`` and ``/auth/signout``.
"""

import asyncio
import contextlib
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import supertokens_python.recipe.session.asyncio as st_async
import supertokens_python.recipe.session.syncio as st_sync
from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from faunadb.client import FaunaClient
from flask import Flask, g, jsonify, request
from starlette.concurrency import run_in_threadpool
from supertokens_python import InputAppInfo, SupertokensConfig, init
from supertokens_python.framework.fastapi import get_middleware
from supertokens_python.framework.flask import Middleware
from supertokens_python.recipe import session
from supertokens_python.recipe.session import SessionContainer
from supertokens_python.recipe.session.framework.fastapi import verify_session
from supertokens_python.recipe.session.framework.flask import verify_session as flask_verify_session
from supertokens_python.types import RecipeUserId

from gatepass.errors import GatepassError
from gatepass.recipe.session.faunadb.fauna_calls import q
from gatepass.recipe.session.faunadb.supertokens_python import asyncio as fauna_async
from gatepass.recipe.session.faunadb.supertokens_python import override_functions
from gatepass.recipe.session.faunadb.supertokens_python import syncio as fauna_sync
from tests.helpers import free_port, serve_in_thread


def init_official_sdk(
    framework: str,
    connection_uri: str,
    api_domain: str,
    fauna: FaunaClient,
    wrap: Callable[[Any], Any] | None = None,
    **fauna_options: Any,
) -> None:
    """``supertokens_python.init`` with the session recipe and the FaunaDB override: the three lines of README
    (``wrap``: an app's own override, installed around ours)."""
    api_key = fauna_options.pop("api_key")
    fauna_override = override_functions(fauna, "users", **fauna_options)
    functions = fauna_override if wrap is None else lambda original: wrap(fauna_override(original))
    init(
        app_info=InputAppInfo(app_name="fauna-plugin", api_domain=api_domain, website_domain=api_domain),
        supertokens_config=SupertokensConfig(connection_uri=connection_uri, api_key=api_key),
        framework=framework,
        recipe_list=[session.init(override=session.InputOverrideConfig(functions=functions))],
        mode="asgi" if framework == "fastapi" else "wsgi",
        telemetry=False,
    )


def notes_of(fauna_url: str, secret: str) -> dict[str, Any]:
    """What the backend does with the user's Fauna token: who Fauna says it is, and the notes it may read."""
    host, port = fauna_url.removeprefix("http://").split(":")
    client = FaunaClient(secret=secret, scheme="http", domain=host, port=int(port), timeout=5)
    try:
        identity = client.query(q.current_identity())
        notes = client.query(q.paginate(q.match(q.index("notes_by_owner"), identity)))
    finally:
        client.session.close()
    return {"identity": identity.id(), "notes": len(notes["data"])}


def _error_body(error: GatepassError) -> dict[str, str]:
    return {"code": error.code, "message": error.message}


def fastapi_app(fauna_url: str, extra_routes: Any = None) -> Any:
    app = FastAPI()
    app.add_middleware(get_middleware())

    @app.exception_handler(GatepassError)
    async def gatepass_error(_: Request, error: GatepassError) -> JSONResponse:
        return JSONResponse(_error_body(error), status_code=error.http_status)

    @app.post("/login")
    async def login(request: Request) -> dict[str, Any]:
        body = await request.json()
        session = await st_async.create_new_session(request, "public", RecipeUserId(body["userId"]))
        return {"handle": session.get_handle()}

    @app.get("/notes")
    async def notes(session: SessionContainer = Depends(verify_session())) -> dict[str, Any]:
        secret = await fauna_async.get_faunadb_token(session)
        return await run_in_threadpool(notes_of, fauna_url, secret)

    @app.get("/secret")
    async def secret(session: SessionContainer = Depends(verify_session())) -> dict[str, Any]:
        return {"secret": await fauna_async.get_faunadb_token(session)}

    @app.post("/revoke")
    async def revoke(request: Request) -> dict[str, Any]:
        return {"revoked": await st_async.revoke_session((await request.json())["handle"])}

    @app.post("/revoke-all")
    async def revoke_all(request: Request) -> dict[str, Any]:
        return {"revoked": await st_async.revoke_all_sessions_for_user((await request.json())["userId"])}

    @app.post("/revoke-multiple")
    async def revoke_multiple(request: Request) -> dict[str, Any]:
        return {"revoked": await st_async.revoke_multiple_sessions((await request.json())["handles"])}

    if extra_routes is not None:
        extra_routes(app)
    return app


def flask_app(fauna_url: str) -> Any:
    app = Flask(__name__)
    Middleware(app)

    @app.errorhandler(GatepassError)
    def gatepass_error(error: GatepassError) -> Any:
        return jsonify(_error_body(error)), error.http_status

    @app.post("/login")
    def login() -> Any:
        session = st_sync.create_new_session(request, "public", RecipeUserId(request.get_json()["userId"]))
        return jsonify(handle=session.get_handle())

    @app.get("/notes")
    @flask_verify_session()
    def notes() -> Any:
        return jsonify(notes_of(fauna_url, fauna_sync.get_faunadb_token(g.supertokens)))

    @app.get("/secret")
    @flask_verify_session()
    def secret() -> Any:
        return jsonify(secret=fauna_sync.get_faunadb_token(g.supertokens))

    @app.post("/revoke")
    def revoke() -> Any:
        return jsonify(revoked=st_sync.revoke_session(request.get_json()["handle"]))

    @app.post("/revoke-all")
    def revoke_all() -> Any:
        return jsonify(revoked=st_sync.revoke_all_sessions_for_user(request.get_json()["userId"]))

    @app.post("/revoke-multiple")
    def revoke_multiple() -> Any:
        return jsonify(revoked=st_sync.revoke_multiple_sessions(request.get_json()["handles"]))

    return app


@contextmanager
def serve_wsgi(app: Any, port: int) -> Iterator[str]:
    """A WSGI app on werkzeug's server in one background thread, one request at a time (as a sync worker of
    gunicorn serves it). The official SDK's sync API runs its coroutines on an event loop it creates in the calling
    thread and never closes: the thread closes it when the server stops."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", port, app, threaded=False)

    def serve() -> None:
        try:
            server.serve_forever()
        finally:
            with contextlib.suppress(RuntimeError):  # no loop: no request reached the SDK
                asyncio.get_event_loop_policy().get_event_loop().close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


@contextmanager
def serve_official_app(
    framework: str,
    connection_uri: str,
    fauna: FaunaClient,
    fauna_url: str,
    wrap: Callable[[Any], Any] | None = None,
    **fauna_options: Any,
) -> Iterator[str]:
    """Init the official SDK for ``framework`` ("fastapi" or "flask") and serve its app; yields the base URL."""
    port = free_port()
    init_official_sdk(framework, connection_uri, f"http://127.0.0.1:{port}", fauna, wrap, **fauna_options)
    if framework == "fastapi":
        with serve_in_thread(fastapi_app(fauna_url), port) as base:
            yield base
    else:
        with serve_wsgi(flask_app(fauna_url), port) as base:
            yield base
