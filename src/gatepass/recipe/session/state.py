"""What a verified or newly created session is, independent of sync or async use."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from gatepass.protocol.cdi import RevokedSession
from gatepass.recipe.session.claims.base import SessionClaimValidator
from gatepass.recipe.session.http_types import ResponseChanges, TransferMethod


# Reprs show who and which session, never a token: the tokens, and the payload (it carries the anti-CSRF token and,
# with FaunaDB, the Fauna secret), are left out so that a logged or printed session leaks nothing.
@dataclass
class SessionState:
    """A verified or newly created session as the flows hold it: identity, tokens, payload, and the response
    changes that deliver them. ``transfer_method`` is ``None`` for a session verified without a request."""

    session_handle: str
    user_id: str
    tenant_id: str
    access_token: str = field(repr=False)
    access_token_payload: dict[str, Any] = field(repr=False)
    access_token_expiry_ms: int
    refresh_token: str | None = field(default=None, repr=False)
    refresh_token_expiry_ms: int | None = None
    anti_csrf_token: str | None = field(default=None, repr=False)
    transfer_method: TransferMethod | None = None
    access_token_updated: bool = False
    browser_session: bool = False  # the core says: token cookies without Expires (``lifetime.SessionLifetime``)
    # at creation, the sessions the core's per-user cap ended to make room for this one (their payloads hold secrets)
    revoked_sessions: tuple[RevokedSession, ...] = field(default=(), repr=False)
    changes: ResponseChanges = field(default_factory=ResponseChanges)

    # upstream's session getters, so that code written against its SessionContainer (an override of the global
    # validators, say) reads a SessionState the same way
    def get_user_id(self, user_context: dict[str, Any] | None = None) -> str:
        """The session's user."""
        return self.user_id

    def get_recipe_user_id(self, user_context: dict[str, Any] | None = None) -> str:
        """The session's user (no account linking: the same id)."""
        return self.user_id

    def get_handle(self, user_context: dict[str, Any] | None = None) -> str:
        """The session's handle."""
        return self.session_handle

    def get_tenant_id(self, user_context: dict[str, Any] | None = None) -> str:
        """The session's tenant."""
        return self.tenant_id

    def get_access_token_payload(self, user_context: dict[str, Any] | None = None) -> dict[str, Any]:
        """A copy of the access token's payload."""
        return dict(self.access_token_payload)

    @property
    def custom_claims(self) -> dict[str, Any]:
        """The payload without the protected (session) claims."""
        from gatepass.tokens.access_token import custom_claims_of

        return custom_claims_of(self.access_token_payload)


@dataclass(frozen=True)
class SessionInformation:
    """A session's stored state as the core reports it (``expiry`` and ``time_created`` in epoch milliseconds)."""

    session_handle: str
    user_id: str
    recipe_user_id: str
    tenant_id: str
    session_data_in_database: dict[str, Any] = field(repr=False)  # holds the Fauna secret with FaunaDB
    custom_claims_in_access_token_payload: dict[str, Any] = field(repr=False)  # and, in frontend mode, here too
    expiry: int
    time_created: int


@dataclass(frozen=True)
class ClaimValidator:
    """A check on the access-token payload; ``validate`` returns ``(ok, reason)``."""

    id: str
    validate: Callable[[Mapping[str, Any]], tuple[bool, Any]]


AnyValidator = ClaimValidator | SessionClaimValidator
"""A bare ``ClaimValidator`` or a claims validator (``claims``: ``has_value``, ``includes``, your own)."""

GlobalValidatorsOverride = Callable[[list[AnyValidator], SessionState, dict[str, Any]], list[AnyValidator]]
"""Upstream's ``override_global_claim_validators(global_validators, session, user_context)``: the validators to run
(the session has upstream's getters: ``get_user_id()``, ``get_access_token_payload()``, ...)."""


@dataclass(frozen=True)
class VerifyOptions:
    """How ``get_session`` checks a request. ``anti_csrf_check=None``: check cookie-borne tokens on every
    method but GET. ``override_global_claim_validators`` gets the global validators, the session and the
    call's ``user_context``, and returns the ones to run."""

    session_required: bool = True
    anti_csrf_check: bool | None = None
    check_database: bool = False
    override_global_claim_validators: GlobalValidatorsOverride | None = None
