"""Session issuing operations of the core: create, refresh (rotation and theft detection) and regenerate.

Synchronous by design: each operation is one database transaction plus, at most, one signature. Each is also
written as steps (``core.steps``: ``create_steps`` and so on), which yield the access token to be signed, so that
the HTTP app can sign on another thread while its event loop runs the rest; the plain methods sign inline (an
embedded core, a worker thread). Requests and replies are the typed CDI contract
(``protocol.cdi``), so the HTTP app and an in-process caller see exactly the same thing. Bad input raises
``BadRequest`` before anything is written. Signing happens outside transactions, so no transaction waits on RSA
and none nests a key transaction inside it. Verify is ``verification``'s; the handle-based APIs are
``session_records``'.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable

from gatepass.core import lifetimes
from gatepass.core.apps import AppContext
from gatepass.core.clock import Clock
from gatepass.core.identifiers import validate_user_id
from gatepass.core.issuing import AccessGrant, Issuer, key_lookup, session_ref
from gatepass.core.payloads import check_access_token_payload, check_storable
from gatepass.core.rotation import RefreshOutcome, decide_refresh_with_grace
from gatepass.core.session_cap import CapDecision, decide_cap
from gatepass.core.session_records import revoked_session
from gatepass.core.steps import SigningSteps, run_inline
from gatepass.errors import BadRequest
from gatepass.protocol.cdi import (
    CreateReply,
    CreateSession,
    IssuedToken,
    NoSession,
    Refreshed,
    RefreshRefused,
    RefreshReply,
    RefreshSession,
    Regenerated,
    RegenerateReply,
    RegenerateSession,
    RevokedSession,
    SessionCreated,
    SessionLimitReached,
    TokenTheftDetected,
)
from gatepass.protocol.verify import Accept, NeedsCore, TryRefresh, VerifyRules, decide_verify
from gatepass.storage.contract import Promotion, SessionRow, Storage, Transaction
from gatepass.tokens import refresh_token
from gatepass.tokens.access_token import VerifiedAccessToken
from gatepass.tokens.encoding import secret_equals, sha256_hex
from gatepass.tokens.refresh_token import RefreshTokenContent

log = logging.getLogger("gatepass.core")

_Minted = tuple[RefreshTokenContent, str]  # a refresh token's content and its sealed form

REFRESH_TOKEN_NOT_VALID = "The refresh token is not valid"  # the token did not even open: forged or garbage


class SessionService:
    """Create, refresh and regenerate over one storage; ``issuer`` signs and seals."""

    def __init__(
        self, storage: Storage, clock: Clock, issuer: Issuer, uniform: Callable[[], float] = random.random
    ) -> None:
        self._storage = storage
        self._clock = clock
        self._issuer = issuer
        self._uniform = uniform  # the jitter's draws from [0, 1): not a secret, so not from ``secrets``

    def _access_expiry_s(self, ctx: AppContext, now: int, end_ms: int | None) -> int:
        config = ctx.config
        jitter = config.access_token_validity_jitter
        return lifetimes.access_expiry_s(now, config.access_validity_ms, jitter, self._uniform(), end_ms)

    # create -------------------------------------------------------------------------------------------------------
    def create(self, ctx: AppContext, request: CreateSession) -> CreateReply:
        """``create_steps``, signed inline."""
        return run_inline(self.create_steps(ctx, request))

    def create_steps(self, ctx: AppContext, request: CreateSession) -> SigningSteps[CreateReply]:
        """A new session: its row, a refresh token and an access token (signed before the row is written, so a
        signing failure leaves nothing behind; handed out only once the row is committed). With a per-user cap,
        the sessions revoked to make room are in the reply, or the session is refused (``session_cap``)."""
        user_id, tenant_id, payload = request.user_id, request.tenant_id, request.user_data_in_jwt
        validate_user_id(user_id)
        check_access_token_payload(payload)
        check_storable(request.user_data_in_database, "userDataInDatabase")
        _check_session_lifetimes(ctx, request)
        now = self._clock()
        handle = self._issuer.new_handle(tenant_id)
        anti_csrf = self._issuer.new_id() if request.enable_anti_csrf else None
        refresh = self._issuer.refresh(ctx, RefreshTokenContent(handle, user_id, tenant_id, None, anti_csrf))
        rth1 = sha256_hex(refresh)
        static = not request.use_dynamic_signing_key
        key = ctx.keyring.signing_key(ctx.config.key_times, static=static)  # first: a failure leaves no row
        grant = AccessGrant(user_id, handle, tenant_id, rth1, None, anti_csrf, payload, static)
        end = lifetimes.absolute_end(now, ctx.config.absolute_lifetime_ms, request.absolute_lifetime_ms)
        pending = self._issuer.access(ctx, grant, now, key=key, expires_at_s=self._access_expiry_s(ctx, now, end))
        access = yield from pending.signed()
        inactivity = lifetimes.inactivity_ms(ctx.config.refresh_validity_ms, request.refresh_validity_ms)
        refresh_expiry = lifetimes.session_expiry(now, inactivity, end)
        row = SessionRow(
            app_id=ctx.app_id,
            session_handle=handle,
            tenant_id=tenant_id,
            user_id=user_id,
            refresh_token_hash2=sha256_hex(rth1),
            session_data=request.user_data_in_database,
            jwt_payload=payload,
            expires_at_ms=refresh_expiry,
            created_at_ms=now,
            use_static_key=static,
            absolute_expires_at_ms=end,
            refresh_validity_ms=request.refresh_validity_ms,
            browser_session=request.browser_session,
            created_client=request.client_info,
            last_client=request.client_info,
        )
        with self._storage.transaction() as tx:
            decision, revoked = self._make_room(tx, ctx, user_id, now)
            if not decision.refuse:
                tx.insert_session(row)
        if decision.refuse:
            log.info("session refused at the per-user cap: app=%s user=%s", ctx.app_id, user_id)
            return SessionLimitReached(ctx.config.session_cap)
        for gone in revoked:
            log.info("session revoked by the per-user cap: app=%s handle=%s", ctx.app_id, gone.session_handle)
        log.info("session created: app=%s handle=%s user=%s", ctx.app_id, handle, user_id)
        ref = session_ref(handle, user_id, tenant_id, payload, request.browser_session)
        return SessionCreated(ref, access, IssuedToken(refresh, refresh_expiry, now), anti_csrf, revoked)

    @staticmethod
    def _make_room(
        tx: Transaction, ctx: AppContext, user_id: str, now: int
    ) -> tuple[CapDecision, tuple[RevokedSession, ...]]:
        """The per-user cap (``session_cap``), inside the creating transaction: nothing to do without a cap; else
        lock the user, decide over their live sessions and revoke what the decision says."""
        cap = ctx.config.session_cap
        if cap <= 0:
            return CapDecision(), ()
        tx.lock_user(ctx.app_id, user_id)
        live = tx.sessions_for_user(ctx.app_id, user_id, None, now)
        decision = decide_cap([row.session_handle for row in live], cap, ctx.config.session_cap_policy)
        if not decision.revoke:
            return decision, ()
        tx.delete_sessions(ctx.app_id, decision.revoke, now)
        gone = set(decision.revoke)
        return decision, tuple(revoked_session(row) for row in live if row.session_handle in gone)

    # refresh ------------------------------------------------------------------------------------------------------
    def refresh(self, ctx: AppContext, request: RefreshSession) -> RefreshReply:
        """``refresh_steps``, signed inline."""
        return run_inline(self.refresh_steps(ctx, request))

    def refresh_steps(self, ctx: AppContext, request: RefreshSession) -> SigningSteps[RefreshReply]:
        """Rotate: a child of the presented refresh token and a new access token, or theft, or a refusal."""
        content = refresh_token.open_token(request.refresh_token, ctx.keyring.refresh_token_key(), ctx.app_id)
        if content is None:
            return RefreshRefused(REFRESH_TOKEN_NOT_VALID, reason="invalid_token")
        expected_anti_csrf = content.anti_csrf_token
        if request.enable_anti_csrf and expected_anti_csrf is not None:
            if not secret_equals(request.anti_csrf_token, expected_anti_csrf):
                return RefreshRefused("Anti CSRF token missing, or not matching", reason="anti_csrf")
        token_hash1 = sha256_hex(request.refresh_token)
        now = self._clock()
        rotated = self._rotate(ctx, content, token_hash1, request, now)
        if rotated is None:
            return RefreshRefused("Session missing in db or has expired", reason="session_ended")
        outcome, row, grace_token = rotated
        if outcome is RefreshOutcome.THEFT:
            log.warning(
                "refresh token reuse (token theft) detected: app=%s handle=%s user=%s",
                ctx.app_id,
                row.session_handle,
                row.user_id,
            )
            return TokenTheftDetected(row.session_handle, row.user_id)
        if grace_token is not None:
            log.info(
                "superseded refresh token used in the grace window: app=%s handle=%s", ctx.app_id, row.session_handle
            )
            return (yield from self._refreshed(ctx, row, grace_token, request, now))
        anti_csrf = self._issuer.new_id() if request.enable_anti_csrf else None
        child = RefreshTokenContent(row.session_handle, row.user_id, row.tenant_id, token_hash1, anti_csrf)
        return (yield from self._refreshed(ctx, row, (child, self._issuer.refresh(ctx, child)), request, now))

    def _rotate(
        self, ctx: AppContext, content: RefreshTokenContent, token_hash1: str, request: RefreshSession, now: int
    ) -> tuple[RefreshOutcome, SessionRow, _Minted | None] | None:
        """The rotation decision and its writes, in one transaction; ``None`` when the session is gone. In the grace
        window the answer's refresh token is minted here and made current at once (a new root: the lineage it
        displaced gets no grace of its own, so there is no back and forth)."""
        use_static_key = not request.use_dynamic_signing_key
        grace_token: _Minted | None = None
        with self._storage.transaction() as tx:
            row = tx.get_session(ctx.app_id, content.session_handle, now, for_update=True)
            if row is None:
                return None
            parent_hash1 = content.parent_refresh_token_hash1
            outcome = decide_refresh_with_grace(row, token_hash1, parent_hash1, now, ctx.config.grace_period_ms)
            expiry = lifetimes.rotated_expiry(now, ctx.config.refresh_validity_ms, row)
            if outcome is RefreshOutcome.PROMOTE:
                promotion = Promotion(
                    sha256_hex(token_hash1), row.refresh_token_hash2, expiry, now, request.client_info
                )
                tx.promote(ctx.app_id, row.session_handle, promotion)
            elif outcome is RefreshOutcome.GRACE:
                anti_csrf = self._issuer.new_id() if request.enable_anti_csrf else None
                root = RefreshTokenContent(row.session_handle, row.user_id, row.tenant_id, None, anti_csrf)
                grace_token = (root, self._issuer.refresh(ctx, root))
                hash2 = sha256_hex(sha256_hex(grace_token[1]))
                tx.promote(ctx.app_id, row.session_handle, Promotion(hash2, None, expiry, now, request.client_info))
            elif outcome is RefreshOutcome.CURRENT:
                tx.record_activity(ctx.app_id, row.session_handle, now, request.client_info)
            if outcome is not RefreshOutcome.THEFT and row.use_static_key != use_static_key:
                tx.set_use_static_key(ctx.app_id, row.session_handle, use_static_key)
        return outcome, row, grace_token

    def _refreshed(
        self, ctx: AppContext, row: SessionRow, minted: _Minted, request: RefreshSession, now: int
    ) -> SigningSteps[Refreshed]:
        """The reply for the refresh token ``minted`` (its content and sealed form) and a new access token."""
        content, token = minted
        static = not request.use_dynamic_signing_key
        grant = AccessGrant.of_row(
            row,
            rth1=sha256_hex(token),
            prth1=content.parent_refresh_token_hash1,
            anti_csrf=content.anti_csrf_token,
            use_static_key=static,
        )
        end = row.absolute_expires_at_ms
        pending = self._issuer.access(ctx, grant, now, expires_at_s=self._access_expiry_s(ctx, now, end))
        access = yield from pending.signed()
        log.info("session refreshed: app=%s handle=%s user=%s", ctx.app_id, row.session_handle, row.user_id)
        ref = session_ref(row.session_handle, row.user_id, row.tenant_id, row.jwt_payload, row.browser_session)
        refresh = IssuedToken(token, lifetimes.rotated_expiry(now, ctx.config.refresh_validity_ms, row), now)
        return Refreshed(ref, access, refresh, content.anti_csrf_token)

    # regenerate ---------------------------------------------------------------------------------------------------
    def regenerate(self, ctx: AppContext, request: RegenerateSession) -> RegenerateReply:
        """``regenerate_steps``, signed inline."""
        return run_inline(self.regenerate_steps(ctx, request))

    def regenerate_steps(self, ctx: AppContext, request: RegenerateSession) -> SigningSteps[RegenerateReply]:
        """Replace the payload and re-sign keeping the token's identity and ``exp``.

        Upstream does not check the signature here; we do (expiry aside), so that an open core cannot be made to
        sign a forged token for someone else's session.
        """
        payload = request.user_data_in_jwt
        if payload is not None:
            check_access_token_payload(payload)
        verified = self._verified_ignoring_expiry(ctx, request.access_token)
        if isinstance(verified, TryRefresh):
            return NoSession(f"Access token is not valid: {verified.reason}")
        claims = verified.claims
        now = self._clock()
        with self._storage.transaction() as tx:
            row = tx.get_session(ctx.app_id, claims.session_handle, now, for_update=True)
            if row is None:
                return NoSession()
            new_payload = row.jwt_payload if payload is None else payload
            if payload is not None:
                tx.update_jwt_payload(ctx.app_id, row.session_handle, payload, now)
        ref = session_ref(row.session_handle, row.user_id, row.tenant_id, new_payload, row.browser_session)
        expires_at_s = lifetimes.kept_expiry_s(claims.expires_at, row.absolute_expires_at_ms)
        if expires_at_s * 1000 <= now:
            return Regenerated(ref)
        grant = AccessGrant.of_row(
            row,
            rth1=claims.refresh_token_hash1,
            prth1=claims.parent_refresh_token_hash1,
            anti_csrf=claims.anti_csrf_token,
            custom=new_payload,
        )
        access = yield from self._issuer.access(ctx, grant, now, expires_at_s=expires_at_s).signed()
        return Regenerated(ref, access)

    def _verified_ignoring_expiry(self, ctx: AppContext, token: str) -> VerifiedAccessToken | TryRefresh:
        now_s = self._clock() // 1000
        decision = decide_verify(token, VerifyRules(), key_lookup(ctx, reload=True), now_s, allow_expired=True)
        if isinstance(decision, Accept | NeedsCore):
            return decision.verified
        return decision if isinstance(decision, TryRefresh) else TryRefresh("unknown signing key", "invalid")


def _check_session_lifetimes(ctx: AppContext, request: CreateSession) -> None:
    """A session's own inactivity timeout must outlive its access token and not exceed the app's (400 otherwise)."""
    validity = request.refresh_validity_ms
    if validity is None:
        return
    if validity <= ctx.config.access_validity_ms:
        raise BadRequest("refreshTokenValidityMs must be longer than the access token's validity")
    if validity > ctx.config.refresh_validity_ms:
        raise BadRequest("refreshTokenValidityMs must be at most the app's refresh_token_validity")
