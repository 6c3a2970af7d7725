"""The expected ways a session request does not end in a session, as values (h11's lesson: "I need more input" is
a return value, not an exception).

Flows and the recipe's functions return these; the one answer path (``answers``) turns them into responses, and
the public helpers turn them into the upstream-style exceptions of ``errors`` (``error_for``). Messages are for
logs and never contain tokens.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Unauthorised:
    """No usable session: the client must log in. ``clear_tokens`` is false when the request simply had none."""

    message: str
    clear_tokens: bool = True


@dataclass(frozen=True)
class TryRefreshToken:
    """The access token cannot be used (expired, invalid, anti-CSRF check failed): the client should refresh."""

    message: str


@dataclass(frozen=True)
class TokenTheft:
    """A superseded refresh token was used again: the session is to be revoked."""

    session_handle: str
    user_id: str


@dataclass(frozen=True)
class ClaimFailure:
    """One claim validator that failed, in the frontend's shape (``{"id", "reason"}``)."""

    id: str
    reason: Any = None

    def as_json(self) -> dict[str, Any]:
        """The entry of ``claimValidationErrors`` in a 403 body."""
        return {"id": self.id} if self.reason is None else {"id": self.id, "reason": self.reason}


@dataclass(frozen=True)
class InvalidClaims:
    """The session is valid but fails claim validators: 403."""

    failures: list[ClaimFailure] = field(default_factory=list)


@dataclass
class ClaimsValidationResult:
    """What ``validate_claims`` found: the failures, and the payload to store when a refetch changed it."""

    invalid_claims: list[ClaimFailure] = field(default_factory=list)
    access_token_payload_update: dict[str, Any] | None = field(default=None, repr=False)


@dataclass(frozen=True)
class ClearDuplicateCookies:
    """Refresh cookies of ``older_cookie_domain`` were found: they are cleared and the client retries (200)."""

    message: str


@dataclass(frozen=True)
class DuplicateCookies:
    """Several refresh cookies reached the refresh endpoint and ``older_cookie_domain`` is not set (400)."""

    message: str


Refusal = Unauthorised | TryRefreshToken | TokenTheft | InvalidClaims | ClearDuplicateCookies | DuplicateCookies
REFUSALS = (Unauthorised, TryRefreshToken, TokenTheft, InvalidClaims, ClearDuplicateCookies, DuplicateCookies)
