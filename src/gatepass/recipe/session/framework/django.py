"""Django: ``gatepass.recipe.session.framework.django.Middleware`` (sync and async) and ``@verify_session()`` for
sync and async views. The verified session is ``request.gatepass_session``. (Django REST framework: ``drf``, which
needs this middleware too.)::

    MIDDLEWARE = [..., "gatepass.recipe.session.framework.django.Middleware"]

    @verify_session()
    def me(request):
        return JsonResponse({"user": request.gatepass_session.get_user_id()})
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps
from http.cookies import SimpleCookie
from inspect import iscoroutinefunction
from typing import Any, TypeVar, cast

from asgiref.sync import markcoroutinefunction
from django.http import HttpRequest, HttpResponse

from gatepass.recipe.instance import Gatepass, get_instance
from gatepass.recipe.session.container import AsyncSessionContainer, SessionContainer
from gatepass.recipe.session.errors import error_for
from gatepass.recipe.session.http_types import RequestView, ResponseChanges
from gatepass.recipe.session.outcomes import Refusal
from gatepass.recipe.session.recipe import SessionRecipe
from gatepass.recipe.session.signatures import ApiResult
from gatepass.recipe.session.state import GlobalValidatorsOverride, SessionState, VerifyOptions
from gatepass.recipe.session.steps import run_async, run_sync

F = TypeVar("F", bound=Callable[..., Any])
_STATES = "_gatepass_states"
_CHANGES = "_gatepass_changes"


class _DjangoAdapter:
    # A Django REST framework ``Request`` wraps the ``HttpRequest`` (``_request``): both are accepted.
    def view(self, request: HttpRequest) -> RequestView:
        request = getattr(request, "_request", request)
        headers = [(k, v) for k, v in request.headers.items()]
        client = str(request.META.get("REMOTE_ADDR") or "")
        return RequestView.build(request.method or "GET", request.path, headers, client)

    def remember(self, request: HttpRequest, state: SessionState) -> None:
        request = getattr(request, "_request", request)
        states: list[SessionState] = request.__dict__.setdefault(_STATES, [])
        states.append(state)


ADAPTER = _DjangoAdapter()


def apply_changes(response: HttpResponse, changes: ResponseChanges) -> HttpResponse:
    """Apply ``changes`` to a Django response: removed headers dropped, headers set, cookies loaded into
    ``response.cookies`` (which keeps one cookie per name), exposed headers merged."""
    existing_expose = response.headers.get("Access-Control-Expose-Headers")
    for name in changes.removed_headers:
        if name in response.headers:
            del response.headers[name]
    for name, value in changes.final_headers(existing_expose):
        if name == "set-cookie":
            # Django keeps cookies in one SimpleCookie keyed by name; load our rendered header into it.
            parsed: SimpleCookie = SimpleCookie()
            parsed.load(value)
            for morsel_name, morsel in parsed.items():
                response.cookies[morsel_name] = morsel
        else:
            response.headers[name] = value
    return response


def _result_response(result: ApiResult) -> HttpResponse:
    response = HttpResponse(json.dumps(result.body), status=result.status, content_type="application/json")
    return apply_changes(response, result.changes)


def remember_changes(request: HttpRequest, changes: ResponseChanges) -> None:
    """Keep ``changes`` (an error answer's, say) with ``request``: the ``Middleware`` applies them to its response,
    after those of the request's sessions."""
    request.__dict__.setdefault(_CHANGES, []).append(changes)


def _changes_for(request: HttpRequest) -> ResponseChanges:
    changes = ResponseChanges()
    for state in request.__dict__.get(_STATES, []):
        changes.extend(state.changes)
    for extra in request.__dict__.get(_CHANGES, []):
        changes.extend(extra)
    return changes


class Middleware:
    """Serves the refresh and sign-out endpoints, answers session errors and sets session cookies/headers."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], Any], gatepass: Gatepass | None = None) -> None:
        self.get_response = get_response
        self._gatepass = gatepass
        self._async = iscoroutinefunction(get_response)
        if self._async:
            markcoroutinefunction(self)

    def _recipe_for(self, request: HttpRequest) -> SessionRecipe:
        gp = self._gatepass or get_instance()
        request.__dict__["gatepass_instance"] = gp
        return gp.session

    def __call__(self, request: HttpRequest) -> Any:
        if self._async:
            return self.__acall__(request)
        recipe = self._recipe_for(request)
        api = recipe.serve(ADAPTER.view(request))
        if api is not None:
            return _result_response(run_sync(api, recipe))
        response = self.get_response(request)
        return apply_changes(response, _changes_for(request))

    async def __acall__(self, request: HttpRequest) -> HttpResponse:
        recipe = self._recipe_for(request)
        api = recipe.serve(ADAPTER.view(request))
        if api is not None:
            return _result_response(await run_async(api, recipe))
        response = await self.get_response(request)
        return apply_changes(response, _changes_for(request))

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        """Answer a session error or core failure a view raised (``None``: not ours, Django carries on); the
        answer carries only the error's response changes."""
        recipe = self._recipe_for(request)
        answer = recipe.answer_exception(exception, ADAPTER.view(request))
        if answer is None:
            return None
        request.__dict__[_STATES] = []  # an error answer carries only the error's changes
        request.__dict__[_CHANGES] = []
        return _result_response(run_sync(answer, recipe))


def _verified(request: HttpRequest, state: SessionState | Refusal | None) -> SessionState | None:
    if state is not None and not isinstance(state, SessionState):
        raise error_for(state)
    if state is not None:
        ADAPTER.remember(request, state)
    return state


def verify_session(
    session_required: bool = True,
    anti_csrf_check: bool | None = None,
    check_database: bool = False,
    override_global_claim_validators: GlobalValidatorsOverride | None = None,
    user_context: dict[str, Any] | None = None,
) -> Callable[[F], F]:
    """Verify the session before a sync or async view; the session is ``request.gatepass_session``."""
    options = VerifyOptions(session_required, anti_csrf_check, check_database, override_global_claim_validators)

    def decorator(view: F) -> F:
        if iscoroutinefunction(view):

            @wraps(view)
            async def async_wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
                request.__dict__["gatepass_session"] = None
                if request.method not in ("OPTIONS", "TRACE"):
                    gp: Gatepass = request.__dict__.get("gatepass_instance") or get_instance()
                    flow = gp.session.functions.get_session(
                        request=ADAPTER.view(request), options=options, user_context=dict(user_context or {})
                    )
                    state = _verified(request, await run_async(flow, gp.session))
                    if state is not None:
                        request.__dict__["gatepass_session"] = AsyncSessionContainer(gp.session, state)
                return await view(request, *args, **kwargs)

            return cast(F, async_wrapped)

        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
            request.__dict__["gatepass_session"] = None
            if request.method not in ("OPTIONS", "TRACE"):
                gp: Gatepass = request.__dict__.get("gatepass_instance") or get_instance()
                flow = gp.session.functions.get_session(
                    request=ADAPTER.view(request), options=options, user_context=dict(user_context or {})
                )
                state = _verified(request, run_sync(flow, gp.session))
                if state is not None:
                    request.__dict__["gatepass_session"] = SessionContainer(gp.session, state)
            return view(request, *args, **kwargs)

        return cast(F, wrapped)

    return decorator
