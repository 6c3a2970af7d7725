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

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request

from gatepass.recipe.instance import Gatepass, get_instance
from gatepass.recipe.session import asgi
from gatepass.recipe.session.asgi import Receive, Scope, Send
from gatepass.recipe.session.container import AsyncSessionContainer
from gatepass.recipe.session.errors import error_for
from gatepass.recipe.session.http_types import RequestView
from gatepass.recipe.session.state import GlobalValidatorsOverride, SessionState, VerifyOptions
from gatepass.recipe.session.steps import run_async


class _StarletteAdapter:
    def view(self, request: Request) -> RequestView:
        return asgi.request_view(request.scope)

    def remember(self, request: Request, state: SessionState) -> None:
        asgi.remember(request.scope, state)


ADAPTER = _StarletteAdapter()


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
        scope.setdefault(asgi.INSTANCE, gp)
        view = asgi.request_view(scope)
        api = recipe.serve(view)
        if api is not None:
            await asgi.send_result(send, await run_async(api, recipe))
            return
        started = False
        send_with_session = asgi.with_session_changes(scope, send)

        async def tracking_send(message: asgi.Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send_with_session(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as error:
            answer = None if started else recipe.answer_exception(error, view)
            if answer is None:
                raise
            await asgi.send_result(send, await run_async(answer, recipe))


def verify_session(
    session_required: bool = True,
    anti_csrf_check: bool | None = None,
    check_database: bool = False,
    override_global_claim_validators: GlobalValidatorsOverride | None = None,
    user_context: dict[str, Any] | None = None,
) -> Callable[[Request], Awaitable[AsyncSessionContainer | None]]:
    """A FastAPI dependency (or a callable for Starlette endpoints) that verifies the request's session."""
    options = VerifyOptions(session_required, anti_csrf_check, check_database, override_global_claim_validators)

    async def dependency(request: Request) -> AsyncSessionContainer | None:
        if request.method in ("OPTIONS", "TRACE"):
            return None
        gp: Gatepass = request.scope.get(asgi.INSTANCE) or get_instance()
        state = await run_async(
            gp.session.functions.get_session(
                request=ADAPTER.view(request), options=options, user_context=dict(user_context or {})
            ),
            gp.session,
        )
        if state is None:
            return None
        if not isinstance(state, SessionState):
            raise error_for(state)
        ADAPTER.remember(request, state)
        return AsyncSessionContainer(gp.session, state)

    return dependency
