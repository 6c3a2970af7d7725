"""Litestar: ``GatepassPlugin`` and the ``verify_session(...)`` dependency (or the ``session_guard(...)`` guard).

Litestar routes a request before any middleware runs and answers a handler's exception inside the route, so the
plugin installs three things: routes for the SDK's own APIs (refresh, sign-out, the JWKS, OpenID discovery), an
outermost middleware that adds the cookies and headers of every session touched to the response, and exception
handlers that turn session errors and core failures into the protocol's answers (an app's own handler for the same
exception class wins)::

    app = Litestar([me], plugins=[GatepassPlugin()])

    @get("/me", dependencies={"session": Provide(verify_session())})
    async def me(session: NamedDependency[AsyncSessionContainer]) -> dict[str, str]:
        return {"user": session.get_user_id()}

    @get("/admin", guards=[session_guard()])
    async def admin(request: Request) -> dict[str, str]:
        return {"user": get_verified_session(request).get_user_id()}
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, cast

from litestar import Request, Response, asgi
from litestar.config.app import AppConfig
from litestar.connection import ASGIConnection
from litestar.exceptions import NotFoundException
from litestar.handlers import BaseRouteHandler
from litestar.middleware import DefineMiddleware
from litestar.plugins import InitPluginProtocol
from litestar.response.base import ASGIResponse
from litestar.types import ASGIApp
from litestar.types import Receive as LitestarReceive
from litestar.types import Scope as LitestarScope
from litestar.types import Send as LitestarSend

from gatepass.errors import ConfigurationError, CoreError, FaunaUnavailableError, SessionLimitReachedError
from gatepass.recipe.instance import Gatepass, get_instance
from gatepass.recipe.session import asgi as plumbing
from gatepass.recipe.session.asgi import Receive, Scope, Send
from gatepass.recipe.session.container import AsyncSessionContainer
from gatepass.recipe.session.errors import SessionError, error_for
from gatepass.recipe.session.http_types import RequestView
from gatepass.recipe.session.recipe import SessionRecipe
from gatepass.recipe.session.signatures import ApiResult
from gatepass.recipe.session.state import GlobalValidatorsOverride, SessionState, VerifyOptions
from gatepass.recipe.session.steps import Flow, run_async

_SESSION = "gatepass.session"
ANSWERED = (SessionError, CoreError, FaunaUnavailableError, SessionLimitReachedError)


def _scope(connection: ASGIConnection[Any, Any, Any, Any]) -> Scope:
    return cast(Scope, connection.scope)  # Litestar types its scope as TypedDicts; ours is the plain mapping


class _LitestarAdapter:
    def view(self, request: ASGIConnection[Any, Any, Any, Any]) -> RequestView:
        return plumbing.request_view(_scope(request))

    def remember(self, request: ASGIConnection[Any, Any, Any, Any], state: SessionState) -> None:
        plumbing.remember(_scope(request), state)


ADAPTER = _LitestarAdapter()


class _AnswerASGIResponse(ASGIResponse):
    """Sends the answer flow's result: Litestar's exception handlers are synchronous, the answer may not be (a
    theft revokes the session through the core first)."""

    def __init__(self, answer: Flow[ApiResult], recipe: SessionRecipe) -> None:
        super().__init__()
        self._answer, self._recipe = answer, recipe

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        plumbing.forget_sessions(scope)  # an error answer carries only the error's own changes
        await plumbing.send_result(send, await run_async(self._answer, self._recipe))


class _AnswerResponse(Response[None]):
    def __init__(self, answer: Flow[ApiResult], recipe: SessionRecipe) -> None:
        super().__init__(None)
        self._answer, self._recipe = answer, recipe

    def to_asgi_response(self, app: Any, request: Request[Any, Any, Any], **_: Any) -> ASGIResponse:
        return _AnswerASGIResponse(self._answer, self._recipe)


def _error_handler(gp: Gatepass) -> Callable[[Request[Any, Any, Any], Exception], Response[Any]]:
    def answer_error(request: Request[Any, Any, Any], error: Exception) -> Response[Any]:
        answer = gp.session.answer_exception(error, ADAPTER.view(request))
        if answer is None:  # registered only for the exceptions answer_exception answers
            raise ConfigurationError(f"gatepass cannot answer {type(error).__name__}") from error
        return _AnswerResponse(answer, gp.session)

    return answer_error


def _api_handler(gp: Gatepass) -> asgi:
    async def sdk_api(scope: Scope, receive: Receive, send: Send) -> None:
        api = gp.session.serve(plumbing.request_view(scope))
        if api is None:  # the wrong method, or an API switched off
            raise NotFoundException()
        await plumbing.send_result(send, await run_async(api, gp.session))

    return asgi(path=sorted({path for _, path in gp.session.api_paths()}), name="gatepass-sdk-apis", copy_scope=True)(
        sdk_api
    )


class GatepassMiddleware:
    """Pure ASGI middleware (installed by ``GatepassPlugin``): adds the cookies and headers of every session
    touched during the request to the response."""

    def __init__(self, app: ASGIApp, gatepass: Gatepass) -> None:
        self.app = app
        self._gatepass = gatepass

    async def __call__(self, scope: LitestarScope, receive: LitestarReceive, send: LitestarSend) -> None:
        plain = cast(Scope, scope)
        if plain["type"] != "http":
            await self.app(scope, receive, send)
            return
        plain.setdefault(plumbing.INSTANCE, self._gatepass)
        await self.app(scope, receive, cast(LitestarSend, plumbing.with_session_changes(plain, cast(Send, send))))


class GatepassPlugin(InitPluginProtocol):
    """Installs the SDK's API routes, the session middleware (outermost) and the session exception handlers; the
    instance is ``gatepass`` or the process default (``gatepass.init`` must then run before the app is built)."""

    def __init__(self, gatepass: Gatepass | None = None) -> None:
        self._gatepass = gatepass

    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        """Add the routes, middleware and exception handlers to the app being built."""
        gp = self._gatepass or get_instance()
        app_config.route_handlers.append(_api_handler(gp))
        app_config.middleware.insert(0, DefineMiddleware(GatepassMiddleware, gatepass=gp))
        for error in ANSWERED:
            app_config.exception_handlers.setdefault(error, _error_handler(gp))
        return app_config


async def _verified(
    connection: ASGIConnection[Any, Any, Any, Any], options: VerifyOptions, user_context: dict[str, Any] | None
) -> AsyncSessionContainer | None:
    scope = _scope(connection)
    if scope.get("method") in ("OPTIONS", "TRACE"):
        return None
    gp: Gatepass = scope.get(plumbing.INSTANCE) or get_instance()
    context = dict(user_context or {})  # a fresh dict per request: what an override adds stays with its request
    flow = gp.session.functions.get_session(request=ADAPTER.view(connection), options=options, user_context=context)
    state = await run_async(flow, gp.session)
    if state is None:
        return None
    if not isinstance(state, SessionState):
        raise error_for(state)
    ADAPTER.remember(connection, state)
    session = AsyncSessionContainer(gp.session, state)
    scope[_SESSION] = session
    return session


Override = GlobalValidatorsOverride


def verify_session(
    session_required: bool = True,
    anti_csrf_check: bool | None = None,
    check_database: bool = False,
    override_global_claim_validators: Override | None = None,
    user_context: dict[str, Any] | None = None,
) -> Callable[[Request[Any, Any, Any]], Awaitable[AsyncSessionContainer | None]]:
    """A dependency (``Provide(verify_session())``) that verifies the request's session; ``None`` when optional
    and absent."""
    options = VerifyOptions(session_required, anti_csrf_check, check_database, override_global_claim_validators)

    async def dependency(request: Request[Any, Any, Any]) -> AsyncSessionContainer | None:
        return await _verified(request, options, user_context)

    return dependency


def session_guard(
    session_required: bool = True,
    anti_csrf_check: bool | None = None,
    check_database: bool = False,
    override_global_claim_validators: Override | None = None,
    user_context: dict[str, Any] | None = None,
) -> Callable[[ASGIConnection[Any, Any, Any, Any], BaseRouteHandler], Awaitable[None]]:
    """A guard that verifies the request's session; the handler reads it with ``get_verified_session``."""
    options = VerifyOptions(session_required, anti_csrf_check, check_database, override_global_claim_validators)

    async def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        await _verified(connection, options, user_context)

    return guard


def get_verified_session(connection: ASGIConnection[Any, Any, Any, Any]) -> AsyncSessionContainer | None:
    """The session ``verify_session`` or ``session_guard`` verified for this request (``None`` if there is none)."""
    session: AsyncSessionContainer | None = _scope(connection).get(_SESSION)
    return session
