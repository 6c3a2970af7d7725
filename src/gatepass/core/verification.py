"""The core's verify: ``protocol.verify``'s decision, then, when it says so, the database (promotion or
``checkDatabase``).

The CPU-only part answers most verifies without blocking; what is left is returned as ``NeedsDatabase`` for a
worker thread. The signature is checked once per call: an unknown key id is decided again after the keys are
reloaded, without having been checked before. A replacement access token (promotion, or a payload changed in the
database) keeps the presented token's ``exp``: upstream's starts a new validity at the first use after a refresh,
which let an idle tab's session outlive the Fauna token issued with that refresh.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from gatepass.core import lifetimes
from gatepass.core.apps import AppContext
from gatepass.core.clock import Clock
from gatepass.core.issuing import AccessGrant, Issuer, key_lookup, session_ref
from gatepass.core.rotation import decide_promotion
from gatepass.core.steps import run_inline
from gatepass.protocol.cdi import Verified, VerifyRefused, VerifyReply, VerifySession
from gatepass.protocol.verify import Accept, NeedsCore, TryRefresh, UnknownKey, VerifyRules, decide_verify
from gatepass.storage.contract import Promotion, Storage
from gatepass.tokens.access_token import VerifiedAccessToken
from gatepass.tokens.encoding import sha256_hex

log = logging.getLogger("gatepass.core")


@dataclass(frozen=True)
class NeedsDatabase:
    """An operation that cannot finish without the database; ``run`` does the rest (blocking)."""

    run: Callable[[], VerifyReply]


def _refused(decision: TryRefresh) -> VerifyRefused:
    if decision.kind == "anti_csrf":
        return VerifyRefused("TRY_REFRESH_TOKEN", decision.reason, reason="anti_csrf")
    message = f"Access token is not valid: {decision.reason}"
    if decision.is_expiry:
        return VerifyRefused("TRY_REFRESH_TOKEN", message, reason="expired")
    return VerifyRefused("TRY_REFRESH_TOKEN", message, reason="invalid_token")


def _locally(verified: VerifiedAccessToken) -> Verified:
    claims = verified.claims
    return Verified(session_ref(claims.session_handle, claims.user_id, claims.tenant_id, verified.custom_claims))


class Verifier:
    """Verify for one core: decision first, database only when needed."""

    def __init__(self, storage: Storage, clock: Clock, issuer: Issuer) -> None:
        self._storage = storage
        self._clock = clock
        self._issuer = issuer

    def verify(self, ctx: AppContext, request: VerifySession) -> VerifyReply:
        """The whole verify, blocking."""
        outcome = self.verify_without_io(ctx, request)
        return outcome.run() if isinstance(outcome, NeedsDatabase) else outcome

    def verify_without_io(self, ctx: AppContext, request: VerifySession) -> VerifyReply | NeedsDatabase:
        """The CPU-only part of verify: the answer, or the database step still needed to reach it."""
        rules = VerifyRules(
            request.anti_csrf_token, request.do_anti_csrf_check and request.enable_anti_csrf, request.check_database
        )
        token = request.access_token
        decision = decide_verify(token, rules, key_lookup(ctx, reload=False), self._clock() // 1000)
        if isinstance(decision, UnknownKey):  # maybe a key another core process just created: look in the database
            return NeedsDatabase(lambda: self._after_key_reload(ctx, token, rules))
        return self._answer(ctx, decision, rules)

    def _after_key_reload(self, ctx: AppContext, token: str, rules: VerifyRules) -> VerifyReply:
        decision = decide_verify(token, rules, key_lookup(ctx, reload=True), self._clock() // 1000)
        if isinstance(decision, UnknownKey):
            decision = TryRefresh("unknown signing key", "invalid")
        answer = self._answer(ctx, decision, rules)
        return answer.run() if isinstance(answer, NeedsDatabase) else answer

    def _answer(
        self, ctx: AppContext, decision: Accept | NeedsCore | TryRefresh, rules: VerifyRules
    ) -> VerifyReply | NeedsDatabase:
        if isinstance(decision, TryRefresh):
            return _refused(decision)
        if isinstance(decision, Accept):
            return _locally(decision.verified)
        return NeedsDatabase(lambda: self._with_database(ctx, decision, rules.check_database))

    def _with_database(self, ctx: AppContext, decision: NeedsCore, check_database: bool) -> VerifyReply:
        verified = decision.verified
        drift = False
        if check_database:
            with self._storage.read() as tx:
                row = tx.get_session(ctx.app_id, verified.claims.session_handle, self._clock())
            if row is None:
                message = "Either the session has ended or has been blacklisted"
                return VerifyRefused("UNAUTHORISED", message, reason="session_ended")
            drift = row.jwt_payload != verified.custom_claims
        if not decision.promote and not drift:
            return _locally(verified)
        return self._in_transaction(ctx, verified)

    def _in_transaction(self, ctx: AppContext, verified: VerifiedAccessToken) -> VerifyReply:
        claims = verified.claims
        now = self._clock()
        with self._storage.transaction() as tx:
            row = tx.get_session(ctx.app_id, claims.session_handle, now, for_update=True)
            if row is None:
                return VerifyRefused("UNAUTHORISED", "Session missing in db", reason="session_ended")
            decision = decide_promotion(
                row.refresh_token_hash2, claims.refresh_token_hash1, claims.parent_refresh_token_hash1
            )
            if decision.promote:
                expiry = lifetimes.rotated_expiry(now, ctx.config.refresh_validity_ms, row)
                promotion = Promotion(sha256_hex(claims.refresh_token_hash1), row.refresh_token_hash2, expiry, now)
                tx.promote(ctx.app_id, row.session_handle, promotion)
        if decision.promote:
            log.info("session promoted: app=%s handle=%s user=%s", ctx.app_id, row.session_handle, row.user_id)
        if not decision.mint:
            return Verified(session_ref(row.session_handle, row.user_id, row.tenant_id, verified.custom_claims))
        grant = AccessGrant.of_row(row, rth1=claims.refresh_token_hash1, prth1=None, anti_csrf=claims.anti_csrf_token)
        # The replacement keeps the presented token's exp: a verify never lengthens an access token's life (only a
        # refresh does), so whatever was issued with the refresh (a Fauna token's TTL) covers every token after it.
        expires_at_s = lifetimes.kept_expiry_s(claims.expires_at, row.absolute_expires_at_ms)
        access = run_inline(self._issuer.access(ctx, grant, now, expires_at_s=expires_at_s).signed())
        ref = session_ref(row.session_handle, row.user_id, row.tenant_id, row.jwt_payload, row.browser_session)
        return Verified(ref, access)
