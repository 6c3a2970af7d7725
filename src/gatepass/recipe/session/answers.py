"""The one path from a session outcome or failure to a response, shared by every framework adapter.

An adapter only translates: it builds a ``RequestView``, runs ``serve`` (the SDK's own APIs) or the app, and for
an exception that escapes asks ``exception_answer``; then it writes the ``ApiResult`` (status, JSON body, cookies,
headers) its framework's way. Nothing here knows a framework.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from gatepass.errors import (
    CoreError,
    CoreUnavailableError,
    FaunaUnavailableError,
    GatepassError,
    SessionLimitReachedError,
)
from gatepass.recipe.session import transport
from gatepass.recipe.session.config import SessionConfig
from gatepass.recipe.session.errors import ErrorHandler, ErrorHandlers, ErrorResponse, SessionError, error_for
from gatepass.recipe.session.http_types import RequestView, ResponseChanges
from gatepass.recipe.session.outcomes import (
    ClearDuplicateCookies,
    InvalidClaims,
    Refusal,
    TokenTheft,
    TryRefreshToken,
    Unauthorised,
)
from gatepass.recipe.session.signatures import ApiResult, JsonObject, RevokeSession
from gatepass.recipe.session.steps import Flow

log = logging.getLogger("gatepass.session")
UNAVAILABLE = {"message": "the session service is unavailable"}


def failure_answer(error: GatepassError) -> ApiResult:
    """The answer when the core (or FaunaDB) is unreachable or refuses a call: 503 (or 500), no tokens touched."""
    log.error("session service call failed: %s", error.message)
    unavailable = isinstance(error, CoreUnavailableError | FaunaUnavailableError)
    return ApiResult(503 if unavailable else 500, dict(UNAVAILABLE), ResponseChanges())


def _default(config: SessionConfig, refusal: Refusal, changes: ResponseChanges) -> tuple[int, JsonObject]:
    expired = config.session_expired_status_code
    if isinstance(refusal, TokenTheft):
        transport.clear_everywhere(changes, config)
        return expired, {"message": "token theft detected"}
    if isinstance(refusal, Unauthorised):
        if refusal.clear_tokens:
            transport.clear_everywhere(changes, config)
        return expired, {"message": "unauthorised"}
    if isinstance(refusal, TryRefreshToken):
        return expired, {"message": "try refresh token"}
    if isinstance(refusal, InvalidClaims):
        failures = [failure.as_json() for failure in refusal.failures]
        return config.invalid_claim_status_code, {"message": "invalid claim", "claimValidationErrors": failures}
    if isinstance(refusal, ClearDuplicateCookies):
        transport.clear_tokens(changes, config, "cookie", domain=config.older_cookie_domain)
        return 200, {"message": refusal.message}
    # Upstream answers 500; anyone can send two cookies, so this is a 400 (the request cannot be served as it
    # stands) and a warning naming the setting that fixes it, not an internal error.
    log.warning("%s", refusal.message)
    return 400, {"message": refusal.message}


def _custom_handler(handlers: ErrorHandlers | None, refusal: Refusal) -> ErrorHandler | None:
    if handlers is None:
        return None
    if isinstance(refusal, TokenTheft):
        return handlers.on_token_theft_detected
    if isinstance(refusal, Unauthorised):
        return handlers.on_unauthorised
    if isinstance(refusal, TryRefreshToken):
        return handlers.on_try_refresh_token
    if isinstance(refusal, InvalidClaims):
        return handlers.on_invalid_claim
    if isinstance(refusal, ClearDuplicateCookies):
        return handlers.on_clear_duplicate_session_cookies
    return None


def refusal_answer(
    config: SessionConfig,
    handlers: ErrorHandlers | None,
    revoke: RevokeSession,
    refusal: Refusal,
    request: RequestView | None = None,
) -> Flow[ApiResult]:
    """The response for a refusal (a theft first revokes the session; if that needs the core and it fails, the
    answer is the failure's, never an exception escaping into the framework); the app's handler for it, if any,
    then shapes the answer with the request at hand."""
    changes = ResponseChanges()
    if isinstance(refusal, TokenTheft):
        log.warning("token theft detected: handle=%s user=%s", refusal.session_handle, refusal.user_id)
        try:
            yield from revoke(session_handle=refusal.session_handle, user_context={})
        except CoreError as failure:
            return failure_answer(failure)
    status, body = _default(config, refusal, changes)
    custom = _custom_handler(handlers, refusal)
    if custom is None:
        return ApiResult(status, body, changes, refusal)
    response = ErrorResponse(status, body, changes)
    custom(error_for(refusal), request, response)
    # ``changes``, not ``response.changes``: a handler adds headers to it, but cannot swap out the token clearing
    return ApiResult(response.status, response.body, changes, refusal)


def exception_answer(
    config: SessionConfig,
    handlers: ErrorHandlers | None,
    revoke: RevokeSession,
    error: BaseException,
    request: RequestView | None = None,
) -> Flow[ApiResult] | None:
    """The answer flow for an exception the app or a helper raised, or ``None`` if it is not ours to answer."""
    if isinstance(error, SessionError):
        return refusal_answer(config, handlers, revoke, error.outcome, request)
    if isinstance(error, CoreError | FaunaUnavailableError):
        return _ready(failure_answer(error))
    if isinstance(error, SessionLimitReachedError):
        return _ready(ApiResult(403, {"message": "session limit reached"}, ResponseChanges()))
    return None


def _ready(result: ApiResult) -> Flow[ApiResult]:
    return result
    yield  # a flow with nothing to do


def guarded(
    config: SessionConfig,
    handlers: ErrorHandlers | None,
    revoke: RevokeSession,
    api: Callable[[], Flow[ApiResult]],
    request: RequestView,
) -> Flow[ApiResult]:
    """Run one of the SDK's APIs, answering what it raises (a core or Fauna failure, or a session exception from an
    override) instead of letting it escape."""
    try:
        return (yield from api())
    except (SessionError, CoreError, FaunaUnavailableError) as error:
        answer = exception_answer(config, handlers, revoke, error, request)
        assert answer is not None  # every exception caught here has an answer
        return (yield from answer)
