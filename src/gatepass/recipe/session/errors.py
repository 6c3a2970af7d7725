"""The SuperTokens-style session exceptions, raised only by the public helpers (``asyncio``/``syncio``, the
session objects, the framework dependencies and decorators); inside, outcomes are values (``outcomes``).

Each exception carries its ``outcome``, and the one answer path (``answers``) maps it to the response. Defaults
(overridable with ``ErrorHandlers``): unauthorised -> 401 ``{"message":"unauthorised"}`` (clearing tokens unless
the request simply had none); try-refresh -> 401 ``{"message":"try refresh token"}``; token theft -> the session
is revoked, then 401 ``{"message":"token theft detected"}`` with tokens cleared; invalid claims -> 403. Messages
never contain tokens.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from gatepass.errors import CoreError as CoreError  # re-exported: the SDK's names for core failures
from gatepass.errors import CoreUnavailableError as CoreUnavailableError
from gatepass.errors import GatepassError
from gatepass.errors import SessionLimitReachedError as SessionLimitReachedError
from gatepass.recipe.session.http_types import RequestView, ResponseChanges
from gatepass.recipe.session.outcomes import (
    ClaimFailure,
    ClearDuplicateCookies,
    DuplicateCookies,
    InvalidClaims,
    Refusal,
    TokenTheft,
    TryRefreshToken,
    Unauthorised,
)
from gatepass.recipe.session.state import SessionState
from gatepass.recipe.session.steps import Flow

# Upstream's name for one failed claim (a value, not an exception, despite the name): kept so that code ports over.
ClaimValidationError = ClaimFailure


class SessionError(GatepassError):
    """A session request refused; ``outcome`` is the value the answer is built from."""

    code = "session_error"
    http_status = 401

    def __init__(self, outcome: Refusal, message: str) -> None:
        super().__init__(message)
        self.outcome = outcome


class UnauthorisedError(SessionError):
    """No usable session (upstream's ``UnauthorisedError``)."""

    code = "unauthorised"

    def __init__(self, message: str, *, clear_tokens: bool = True) -> None:
        super().__init__(Unauthorised(message, clear_tokens), message)
        self.clear_tokens = clear_tokens


class TryRefreshTokenError(SessionError):
    """The access token cannot be used: refresh (upstream's ``TryRefreshTokenError``)."""

    code = "try_refresh_token"

    def __init__(self, message: str) -> None:
        super().__init__(TryRefreshToken(message), message)


class TokenTheftError(SessionError):
    """A superseded refresh token was reused (upstream's ``TokenTheftError``)."""

    code = "token_theft_detected"

    def __init__(self, session_handle: str, user_id: str) -> None:
        super().__init__(TokenTheft(session_handle, user_id), "token theft detected")
        self.session_handle = session_handle
        self.user_id = user_id


class InvalidClaimsError(SessionError):
    """Claim validators failed (upstream's ``InvalidClaimsError``); answered with 403."""

    code = "invalid_claims"
    http_status = 403

    def __init__(self, errors: list[ClaimFailure]) -> None:
        super().__init__(InvalidClaims(list(errors)), "invalid claim")
        self.errors = errors


class ClearDuplicateSessionCookiesError(SessionError):
    """Cookies for an older cookie domain were found and are being cleared (answered with 200)."""

    code = "clear_duplicate_session_cookies"
    http_status = 200

    def __init__(self, message: str) -> None:
        super().__init__(ClearDuplicateCookies(message), message)


class DuplicateSessionCookiesError(SessionError):
    """Several refresh cookies reached the refresh endpoint and ``older_cookie_domain`` is not configured (400)."""

    code = "duplicate_session_cookies"
    http_status = 400

    def __init__(self, message: str) -> None:
        super().__init__(DuplicateCookies(message), message)


def error_for(outcome: Refusal) -> SessionError:
    """The public exception for an outcome value (what the helpers raise)."""
    if isinstance(outcome, Unauthorised):
        return UnauthorisedError(outcome.message, clear_tokens=outcome.clear_tokens)
    if isinstance(outcome, TryRefreshToken):
        return TryRefreshTokenError(outcome.message)
    if isinstance(outcome, TokenTheft):
        return TokenTheftError(outcome.session_handle, outcome.user_id)
    if isinstance(outcome, InvalidClaims):
        return InvalidClaimsError(outcome.failures)
    if isinstance(outcome, ClearDuplicateCookies):
        return ClearDuplicateSessionCookiesError(outcome.message)
    return DuplicateSessionCookiesError(outcome.message)


def raising(flow: Flow[SessionState | Refusal | None]) -> Flow[SessionState | None]:
    """The flow with its refusal raised as the public exception: how the helpers turn values into upstream's API."""
    result = yield from flow
    if result is None or isinstance(result, SessionState):
        return result
    raise error_for(result)


def raising_required(flow: Flow[SessionState | Refusal]) -> Flow[SessionState]:
    """``raising`` for operations that always yield a session or a refusal (refresh)."""
    result = yield from flow
    if isinstance(result, SessionState):
        return result
    raise error_for(result)


@dataclass
class ErrorResponse:
    """The answer an error handler shapes: filled with the default (status, JSON body, and the response changes
    such as cleared cookies), changed in place by the handler."""

    status: int
    body: dict[str, Any]
    changes: ResponseChanges = field(repr=False)

    def set_header(self, name: str, value: str) -> None:
        """Set a response header (CR and LF are refused: a header value is one line; surrounding spaces, which
        HTTP does not count as part of the value, are dropped)."""
        if "\r" in value or "\n" in value or "\r" in name or "\n" in name:
            raise ValueError("a header name or value cannot contain CR or LF")
        self.changes.set_header(name.strip().lower(), value.strip())

    def redirect(self, location: str, status: int = 303) -> None:
        """Answer with a redirect to ``location`` (``status`` 301, 302, 303, 307 or 308)."""
        if status not in (301, 302, 303, 307, 308):
            raise ValueError("a redirect status is one of 301, 302, 303, 307, 308")
        self.set_header("location", location)
        self.status = status


# upstream's on_unauthorised(request, message, response) and friends: here the error carries the message (and the
# handle and user of a theft, the failures of invalid claims); the handler changes ``response`` in place.
ErrorHandler = Callable[[SessionError, RequestView | None, ErrorResponse], None]


@dataclass
class ErrorHandlers:
    """Replace any default error answer. Each handler gets the error, the request (``None`` when there is none)
    and the default answer as an ``ErrorResponse`` to change (status, body, headers, a redirect); token clearing
    (and the theft handler's revocation) still happens as by default."""

    on_unauthorised: ErrorHandler | None = None
    on_try_refresh_token: ErrorHandler | None = None
    on_token_theft_detected: ErrorHandler | None = None
    on_invalid_claim: ErrorHandler | None = None
    on_clear_duplicate_session_cookies: ErrorHandler | None = None
