"""Minting what the core hands out: access tokens (one RS256 signature each), sealed refresh tokens, fresh ids.

Shared by create, refresh, verify (promotion) and regenerate. Randomness is injected (a CSPRNG in production) so
that tests can pin handles, anti-CSRF tokens and refresh-token nonces.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from gatepass.core.apps import DEFAULT_TENANT, AppContext
from gatepass.core.steps import SigningSteps
from gatepass.protocol.cdi import IssuedToken, SessionRef
from gatepass.protocol.verify import KeyLookup
from gatepass.storage.contract import SessionRow
from gatepass.tokens import access_token, refresh_token
from gatepass.tokens.access_token import SessionClaims
from gatepass.tokens.jws import Unsigned
from gatepass.tokens.keys import SigningKey
from gatepass.tokens.refresh_token import RefreshTokenContent

RandomBytes = Callable[[int], bytes]


@dataclass(frozen=True)
class AccessGrant:
    """The identity and lineage an access token states (see ``tokens.access_token.SessionClaims``)."""

    user_id: str
    handle: str
    tenant_id: str
    rth1: str
    prth1: str | None
    anti_csrf: str | None
    custom: dict[str, Any]
    use_static_key: bool

    @classmethod
    def of_row(
        cls,
        row: SessionRow,
        *,
        rth1: str,
        prth1: str | None,
        anti_csrf: str | None,
        custom: dict[str, Any] | None = None,
        use_static_key: bool | None = None,
    ) -> AccessGrant:
        """A grant for a stored session: its identity, and by default its payload and key kind."""
        return cls(
            row.user_id,
            row.session_handle,
            row.tenant_id,
            rth1,
            prth1,
            anti_csrf,
            row.jwt_payload if custom is None else custom,
            row.use_static_key if use_static_key is None else use_static_key,
        )


@dataclass(frozen=True)
class PendingAccess:
    """An access token ready to be signed, and the times its ``IssuedToken`` states."""

    unsigned: Unsigned
    expires_at_ms: int
    issued_at_ms: int

    def signed(self) -> SigningSteps[IssuedToken]:
        """The step that has it signed (``core.steps``)."""
        token = yield self.unsigned
        return IssuedToken(token, self.expires_at_ms, self.issued_at_ms)


def session_ref(
    handle: str, user_id: str, tenant_id: str, custom: dict[str, Any], browser_session: bool = False
) -> SessionRef:
    """The ``session`` object of a reply (no account linking: the recipe user is the user)."""
    return SessionRef(handle, user_id, user_id, tenant_id, custom, browser_session)


class Issuer:
    """Signs access tokens and seals refresh tokens for one core."""

    def __init__(self, random_bytes: RandomBytes) -> None:
        self._random = random_bytes

    def new_id(self) -> str:
        """A random UUID4 (session handles, anti-CSRF tokens)."""
        return str(uuid.UUID(bytes=self._random(16), version=4))

    def new_handle(self, tenant_id: str) -> str:
        """A session handle; non-public tenants' handles end in ``_<tenantId>``, as upstream's."""
        return self.new_id() + ("" if tenant_id == DEFAULT_TENANT else f"_{tenant_id}")

    def access(
        self,
        ctx: AppContext,
        grant: AccessGrant,
        now_ms: int,
        *,
        expires_at_s: int | None = None,
        key: SigningKey | None = None,
    ) -> PendingAccess:
        """An access token for ``grant``, to be signed, valid for the app's validity unless ``expires_at_s`` is
        given (``key``: the app's current key of the grant's kind unless given)."""
        issued_at = now_ms // 1000
        if expires_at_s is None:
            expires_at_s = (now_ms + ctx.config.access_validity_ms) // 1000
        claims = SessionClaims(
            user_id=grant.user_id,
            session_handle=grant.handle,
            tenant_id=grant.tenant_id,
            refresh_token_hash1=grant.rth1,
            parent_refresh_token_hash1=grant.prth1,
            anti_csrf_token=grant.anti_csrf,
            issued_at=issued_at,
            expires_at=expires_at_s,
        )
        if key is None:
            key = ctx.keyring.signing_key(ctx.config.key_times, static=grant.use_static_key)
        return PendingAccess(access_token.prepare(claims, grant.custom, key), expires_at_s * 1000, issued_at * 1000)

    def refresh(self, ctx: AppContext, content: RefreshTokenContent) -> str:
        """A sealed refresh token for ``content`` (only this app's key opens it)."""
        return refresh_token.seal(content, ctx.keyring.refresh_token_key(), ctx.app_id, self._random)


def key_lookup(ctx: AppContext, *, reload: bool) -> KeyLookup:
    """The app's verification keys by kid (``reload``: look in the database for keys another core created)."""
    times = ctx.config.key_times
    return lambda kid: ctx.keyring.verification_key(kid, times, reload=reload)
