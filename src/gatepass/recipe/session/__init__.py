"""The session recipe: ``init`` its options, then use ``asyncio`` or ``syncio`` helpers and a framework adapter."""

from __future__ import annotations

from typing import Any

from gatepass.protocol.cdi import RevokedSession
from gatepass.recipe.session.config import SessionOptions
from gatepass.recipe.session.errors import (
    ClaimValidationError,
    ErrorHandlers,
    InvalidClaimsError,
    SessionError,
    SessionLimitReachedError,
    TokenTheftError,
    TryRefreshTokenError,
    UnauthorisedError,
)
from gatepass.recipe.session.lifetime import SessionLifetime
from gatepass.recipe.session.recipe import Overrides
from gatepass.recipe.session.spec import SessionRecipeSpec
from gatepass.recipe.session.state import AnyValidator, ClaimValidator, SessionInformation, VerifyOptions

__all__ = [
    "ClaimValidationError",
    "ClaimValidator",
    "ErrorHandlers",
    "InvalidClaimsError",
    "RevokedSession",
    "SessionError",
    "SessionInformation",
    "SessionLifetime",
    "SessionLimitReachedError",
    "TokenTheftError",
    "TryRefreshTokenError",
    "UnauthorisedError",
    "VerifyOptions",
    "init",
]


def init(
    *,
    claim_validators: list[AnyValidator] | None = None,
    override: Overrides | None = None,
    error_handlers: ErrorHandlers | None = None,
    **options: Any,
) -> SessionRecipeSpec:
    """The session recipe. ``options`` are ``SessionOptions``' fields: cookie_domain, cookie_secure,
    cookie_same_site, anti_csrf (VIA_TOKEN / VIA_CUSTOM_HEADER / NONE), token_transfer_method (cookie / header /
    any), session_expired_status_code, invalid_claim_status_code, ...; ``override`` wraps the functions and APIs
    (``recipe.Overrides``); ``error_handlers`` replaces default error answers."""
    return SessionRecipeSpec(SessionOptions(**options), list(claim_validators or []), override, error_handlers)
