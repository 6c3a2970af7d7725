"""Session outcomes that end a request, raised from flows and turned into responses by the framework adapters.

Defaults (overridable with ``ErrorHandlers``): unauthorised -> 401 ``{"message":"unauthorised"}`` (clearing tokens
unless the request simply had none); try-refresh -> 401 ``{"message":"try refresh token"}``; token theft -> the
session is revoked, then 401 ``{"message":"token theft detected"}`` with tokens cleared; invalid claims -> 403.
Messages never contain tokens.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gatepass.errors import CoreError as CoreError  # re-exported: the SDK's names for core failures
from gatepass.errors import CoreUnavailableError as CoreUnavailableError
from gatepass.errors import GatepassError


class SessionError(GatepassError):
    code = "session_error"
    http_status = 401


class UnauthorisedError(SessionError):
    code = "unauthorised"

    def __init__(self, message: str, *, clear_tokens: bool = True) -> None:
        super().__init__(message)
        self.clear_tokens = clear_tokens


class TryRefreshTokenError(SessionError):
    code = "try_refresh_token"


class TokenTheftError(SessionError):
    code = "token_theft_detected"

    def __init__(self, session_handle: str, user_id: str) -> None:
        super().__init__("token theft detected")
        self.session_handle = session_handle
        self.user_id = user_id


@dataclass(frozen=True)
class ClaimValidationError:
    id: str
    reason: Any = None

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id} if self.reason is None else {"id": self.id, "reason": self.reason}


class InvalidClaimsError(SessionError):
    code = "invalid_claims"
    http_status = 403

    def __init__(self, errors: list[ClaimValidationError]) -> None:
        super().__init__("invalid claim")
        self.errors = errors


class ClearDuplicateSessionCookiesError(SessionError):
    """Cookies for an older cookie domain were found and are being cleared (answered with 200)."""

    code = "clear_duplicate_session_cookies"
    http_status = 200


class DuplicateSessionCookiesError(SessionError):
    """Several refresh cookies reached the refresh endpoint and ``older_cookie_domain`` is not configured."""

    code = "duplicate_session_cookies"
    http_status = 500


@dataclass
class ErrorHandlers:
    """Replace any default error answer. Each handler gets the error and returns ``(status, json_body)``;
    token clearing (and the theft handler's revocation) still happens as by default."""

    on_unauthorised: Any = None
    on_try_refresh_token: Any = None
    on_token_theft_detected: Any = None
    on_invalid_claim: Any = None
    extra: dict[str, Any] = field(default_factory=dict)
