"""FastAPI and Starlette: ``GatepassMiddleware`` (pure ASGI) and the ``verify_session(...)`` dependency.

The middleware answers ``POST {base}/session/refresh`` and ``POST {base}/signout`` itself, turns session errors
raised by endpoints or dependencies into the protocol's 401/403 answers, and adds the cookies and headers of every
session touched during the request to the response::

    app = FastAPI()
    app.add_middleware(GatepassMiddleware)

    @app.get("/me")
    async def me(session: AsyncSessionContainer = Depends(verify_session())):
        return {"user": session.get_user_id()}
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from starlette.requests import Request

from gatepass.recipe.instance import Gatepass, get_instance
from gatepass.recipe.session.container import AsyncSessionContainer
from gatepass.recipe.session.errors import error_for
from gatepass.recipe.session.http_types import RequestView, ResponseChanges
from gatepass.recipe.session.signatures import ApiResult
from gatepass.recipe.session.state import AnyValidator, SessionState, VerifyOptions
from gatepass.recipe.session.steps import run_async

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

_STATES = "gatepass.states"


class _StarletteAdapter:
    def view(self, request: Request) -> RequestView:
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in request.scope.get("headers", [])]
        client = request.client.host if request.client else ""
        return RequestView.build(request.method, request.url.path, headers, client)

    def remember(self, request: Request, state: SessionState) -> None:
        request.scope.setdefault(_STATES, []).append(state)


ADAPTER = _StarletteAdapter()


def _collected_changes(scope: Scope) -> ResponseChanges:
    merged = ResponseChanges()
    for state in scope.get(_STATES, []):
        merged.extend(state.changes)
    return merged


def _apply(headers: list[tuple[bytes, bytes]], changes: ResponseChanges) -> list[tuple[bytes, bytes]]:
    replaced = {name.lower() for name in changes.headers} | {n.lower() for n in changes.removed_headers}
    if changes.expose:
        replaced.add("access-control-expose-headers")
    existing_expose = next(
        (v.decode("latin-1") for k, v in headers if k.decode("latin-1").lower() == "access-control-expose-headers"),
        None,
    )
    kept = [(k, v) for k, v in headers if k.decode("latin-1").lower() not in replaced]
    added = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in changes.final_headers(existing_expose)]
    return kept + added


async def _send_result(send: Send, result: ApiResult) -> None:
    body = json.dumps(result.body, separators=(",", ":")).encode("utf-8")
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": result.status, "headers": _apply(headers, result.changes)})
    await send({"type": "http.response.body", "body": body})


class GatepassMiddleware:
    """Pure ASGI middleware: answers the SDK's refresh and sign-out APIs itself, answers session errors and
    core failures the app raises before it starts its response, and adds the cookies and headers of every
    session touched to the response."""

    def __init__(
        self, app: Callable[[Scope, Receive, Send], Awaitable[None]], gatepass: Gatepass | None = None
    ) -> None:
        self.app = app
        self._gatepass = gatepass

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        gp = self._gatepass or get_instance()
        recipe = gp.session
        scope.setdefault("gatepass.instance", gp)
        api = recipe.serve(ADAPTER.view(Request(scope)))
        if api is not None:
            await _send_result(send, await run_async(api, recipe))
            return
        started = False

        async def send_with_session(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                changes = _collected_changes(scope)
                if not changes.empty:
                    message = dict(message)
                    message["headers"] = _apply(list(message.get("headers", [])), changes)
            await send(message)

        try:
            await self.app(scope, receive, send_with_session)
        except Exception as error:
            answer = None if started else recipe.answer_exception(error)
            if answer is None:
                raise
            await _send_result(send, await run_async(answer, recipe))


def verify_session(
    session_required: bool = True,
    anti_csrf_check: bool | None = None,
    check_database: bool = False,
    override_global_claim_validators: Callable[[list[AnyValidator], SessionState], list[AnyValidator]] | None = None,
) -> Callable[[Request], Awaitable[AsyncSessionContainer | None]]:
    """A FastAPI dependency (or a callable for Starlette endpoints) that verifies the request's session."""
    options = VerifyOptions(session_required, anti_csrf_check, check_database, override_global_claim_validators)

    async def dependency(request: Request) -> AsyncSessionContainer | None:
        if request.method in ("OPTIONS", "TRACE"):
            return None
        gp: Gatepass = request.scope.get("gatepass.instance") or get_instance()
        state = await run_async(
            gp.session.functions.get_session(request=ADAPTER.view(request), options=options), gp.session
        )
        if state is None:
            return None
        if not isinstance(state, SessionState):
            raise error_for(state)
        ADAPTER.remember(request, state)
        return AsyncSessionContainer(gp.session, state)

    return dependency
