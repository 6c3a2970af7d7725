"""Flask: ``Middleware(app)`` (before/after-request hooks and an error handler) and the ``@verify_session()``
decorator. Synchronous all the way: no event loop is involved::

    app = Flask(__name__)
    Middleware(app)

    @app.get("/me")
    @verify_session()
    def me():
        return {"user": get_verified_session().get_user_id()}
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from flask import Flask, Response, g, jsonify, request

from gatepass.errors import GatepassError
from gatepass.recipe.instance import Gatepass, get_instance
from gatepass.recipe.session.container import SessionContainer
from gatepass.recipe.session.errors import error_for
from gatepass.recipe.session.http_types import RequestView, ResponseChanges
from gatepass.recipe.session.signatures import ApiResult
from gatepass.recipe.session.state import GlobalValidatorsOverride, SessionState, VerifyOptions
from gatepass.recipe.session.steps import run_sync

F = TypeVar("F", bound=Callable[..., Any])


class _FlaskAdapter:
    def view(self, req: Any) -> RequestView:
        return RequestView.build(req.method, req.path, list(req.headers.items()), req.remote_addr or "")

    def remember(self, req: Any, state: SessionState) -> None:
        states: list[SessionState] = g.setdefault("gatepass_states", [])
        states.append(state)


ADAPTER = _FlaskAdapter()


def apply_changes(response: Response, changes: ResponseChanges) -> Response:
    """Apply ``changes`` to a Flask response: removed headers dropped, headers set, one ``Set-Cookie`` per
    cookie, exposed headers merged."""
    existing_expose = response.headers.get("Access-Control-Expose-Headers")
    for name in changes.removed_headers:
        response.headers.pop(name, None)
    for name, value in changes.final_headers(existing_expose):
        if name == "set-cookie":
            response.headers.add("Set-Cookie", value)
        else:
            response.headers[name] = value
    return response


def _result_response(result: ApiResult) -> Response:
    response = jsonify(result.body)
    response.status_code = result.status
    return apply_changes(response, result.changes)


def _instance() -> Gatepass:
    gp: Gatepass | None = g.get("gatepass_instance")
    return gp or get_instance()


class Middleware:
    """Installs gatepass on a Flask app: serves the refresh and sign-out APIs before any view, answers session
    errors and core failures, and adds the cookies and headers of the request's sessions to the response."""

    def __init__(self, app: Flask, gatepass: Gatepass | None = None) -> None:
        self._gatepass = gatepass
        app.before_request(self._before)
        app.after_request(self._after)
        app.register_error_handler(GatepassError, self._on_error)

    def _before(self) -> Response | None:
        g.gatepass_instance = self._gatepass or get_instance()
        recipe = _instance().session
        api = recipe.serve(ADAPTER.view(request))
        if api is None:
            return None
        g.gatepass_answered = True
        return _result_response(run_sync(api, recipe))

    def _after(self, response: Response) -> Response:
        if g.get("gatepass_answered"):
            return response
        changes = ResponseChanges()
        for state in g.get("gatepass_states", []):
            changes.extend(state.changes)
        return response if changes.empty else apply_changes(response, changes)

    def _on_error(self, error: GatepassError) -> Response:
        recipe = _instance().session
        answer = recipe.answer_exception(error, ADAPTER.view(request))
        if answer is None:
            raise error
        result = run_sync(answer, recipe)
        g.gatepass_states = []  # an error answer carries only the error's changes
        return _result_response(result)


def verify_session(
    session_required: bool = True,
    anti_csrf_check: bool | None = None,
    check_database: bool = False,
    override_global_claim_validators: GlobalValidatorsOverride | None = None,
    user_context: dict[str, Any] | None = None,
) -> Callable[[F], F]:
    """A view decorator that verifies the session first (not for OPTIONS or TRACE); the view reads it with
    ``get_verified_session()``. A refusal is raised, for ``Middleware`` to answer."""
    options = VerifyOptions(session_required, anti_csrf_check, check_database, override_global_claim_validators)

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            g.gatepass_session = None
            if request.method not in ("OPTIONS", "TRACE"):
                recipe = _instance().session
                state = run_sync(
                    recipe.functions.get_session(
                        request=ADAPTER.view(request), options=options, user_context=dict(user_context or {})
                    ),
                    recipe,
                )
                if state is not None and not isinstance(state, SessionState):
                    raise error_for(state)
                if state is not None:
                    ADAPTER.remember(request, state)
                    g.gatepass_session = SessionContainer(recipe, state)
            return view(*args, **kwargs)

        return cast(F, wrapped)

    return decorator


def get_verified_session() -> SessionContainer | None:
    """The session ``@verify_session()`` verified for this request (``None`` if optional and absent)."""
    session: SessionContainer | None = g.get("gatepass_session")
    return session
