"""Session operations of the core: create, verify (with promotion), refresh (rotation and theft detection),
regenerate, read, update and revoke. Synchronous by design: each operation is one database transaction plus, at
most, one signature; the HTTP app runs it in one thread hop and an embedded core can call it directly.

Results are the CDI 5.4 response bodies (dicts with a ``status``), so the HTTP app and an in-process caller see
exactly the same thing. Bad input raises ``BadRequest`` before anything is written. Signing happens after the
transaction commits, so no transaction waits on RSA and none nests a key transaction inside it.
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from gatepass.core.apps import DEFAULT_TENANT, AppContext
from gatepass.core.clock import Clock
from gatepass.core.identifiers import could_be_handle, could_be_user_id, validate_user_id
from gatepass.core.payloads import check_access_token_payload, check_storable, no_session
from gatepass.core.rotation import RefreshOutcome, decide_promotion, decide_refresh
from gatepass.protocol.verify import Accept, KeyLookup, NeedsCore, TryRefresh, UnknownKey, VerifyRules, decide_verify
from gatepass.storage.contract import SessionRow, Storage
from gatepass.tokens import access_token, refresh_token
from gatepass.tokens.access_token import Rejected, SessionClaims, VerifiedAccessToken
from gatepass.tokens.encoding import secret_equals, sha256_hex
from gatepass.tokens.keys import SigningKey
from gatepass.tokens.refresh_token import RefreshTokenContent

log = logging.getLogger("gatepass.core")

Body = dict[str, Any]
RandomBytes = Callable[[int], bytes]
REFRESH_TOKEN_NOT_VALID = "The refresh token is not valid"  # the token did not even open: forged or garbage
ACCESS_TOKEN_EXPIRED = "Access token is not valid: token expired"  # the one rejection a real client meets daily


def tenant_of_handle(handle: str) -> str:
    """Handles of non-public tenants end in ``_<tenantId>``."""
    _, sep, tenant = handle.partition("_")
    return tenant if sep and tenant else DEFAULT_TENANT


@dataclass(frozen=True)
class NeedsDatabase:
    """An operation that cannot finish without the database; ``run`` does the rest (blocking)."""

    run: Callable[[], Body]


@dataclass(frozen=True)
class _Minted:
    token: str = field(repr=False)  # a bearer token: never in a repr
    expiry_ms: int
    created_ms: int

    def as_json(self) -> Body:
        return {"token": self.token, "expiry": self.expiry_ms, "createdTime": self.created_ms}


def _uuid4(random_bytes: RandomBytes) -> str:
    return str(uuid.UUID(bytes=random_bytes(16), version=4))


class SessionService:
    """The session operations of one core over one storage; ``clock`` and ``random_bytes`` (a CSPRNG) are
    injected so that tests can pin every decision that uses them."""

    def __init__(self, storage: Storage, clock: Clock, random_bytes: RandomBytes = os.urandom) -> None:
        self._storage = storage
        self._clock = clock
        self._random = random_bytes

    # helpers -------------------------------------------------------------------------------------------------
    def _mint_access(
        self,
        ctx: AppContext,
        *,
        user_id: str,
        handle: str,
        tenant_id: str,
        rth1: str,
        prth1: str | None,
        anti_csrf: str | None,
        custom: dict[str, Any],
        use_static_key: bool,
        now_ms: int,
        expires_at_s: int | None = None,
        key: SigningKey | None = None,
    ) -> _Minted:
        issued_at = now_ms // 1000
        if expires_at_s is None:
            expires_at_s = (now_ms + ctx.config.access_validity_ms) // 1000
        claims = SessionClaims(user_id, handle, tenant_id, rth1, prth1, anti_csrf, issued_at, expires_at_s)
        if key is None:
            key = ctx.keyring.signing_key(ctx.config.key_times, static=use_static_key)
        return _Minted(access_token.mint(claims, custom, key), expires_at_s * 1000, issued_at * 1000)

    def _seal_refresh(self, ctx: AppContext, content: RefreshTokenContent) -> str:
        return refresh_token.seal(content, ctx.keyring.refresh_token_key(), ctx.app_id, self._random)

    def verify_access_token(
        self, ctx: AppContext, token: str, *, allow_expired: bool = False, reload_keys: bool = True
    ) -> VerifiedAccessToken | Rejected:
        now_s = self._clock() // 1000
        times = ctx.config.key_times
        return access_token.verify(
            token,
            lambda kid: ctx.keyring.verification_key(kid, times, reload=reload_keys),
            now_s,
            allow_expired=allow_expired,
        )

    @staticmethod
    def _session_json(handle: str, user_id: str, tenant_id: str, custom: dict[str, Any]) -> Body:
        return {
            "handle": handle,
            "userId": user_id,
            "recipeUserId": user_id,
            "userDataInJWT": custom,
            "tenantId": tenant_id,
        }

    # create -------------------------------------------------------------------------------------------------
    def create(
        self,
        ctx: AppContext,
        tenant_id: str,
        *,
        user_id: str,
        payload: dict[str, Any],
        session_data: dict[str, Any],
        use_dynamic_key: bool,
        enable_anti_csrf: bool,
    ) -> Body:
        validate_user_id(user_id)
        check_access_token_payload(payload)
        check_storable(session_data, "userDataInDatabase")
        now = self._clock()
        handle = _uuid4(self._random) + ("" if tenant_id == DEFAULT_TENANT else f"_{tenant_id}")
        anti_csrf = _uuid4(self._random) if enable_anti_csrf else None
        refresh = self._seal_refresh(ctx, RefreshTokenContent(handle, user_id, tenant_id, None, anti_csrf))
        rth1 = sha256_hex(refresh)
        # Take the key first: if key creation fails, no session row is left behind.
        key = ctx.keyring.signing_key(ctx.config.key_times, static=not use_dynamic_key)
        refresh_expiry = now + ctx.config.refresh_validity_ms
        row = SessionRow(
            app_id=ctx.app_id,
            session_handle=handle,
            tenant_id=tenant_id,
            user_id=user_id,
            refresh_token_hash2=sha256_hex(rth1),
            session_data=session_data,
            jwt_payload=payload,
            expires_at_ms=refresh_expiry,
            created_at_ms=now,
            use_static_key=not use_dynamic_key,
        )
        # Sign before the insert (not inside the transaction, which must not wait on RSA): a signing failure then
        # leaves no row behind, and the token is handed out only once the row is committed.
        access = self._mint_access(
            ctx,
            user_id=user_id,
            handle=handle,
            tenant_id=tenant_id,
            rth1=rth1,
            prth1=None,
            anti_csrf=anti_csrf,
            custom=payload,
            use_static_key=not use_dynamic_key,
            now_ms=now,
            key=key,
        )
        with self._storage.transaction() as tx:
            tx.insert_session(row)
        log.info("session created: app=%s handle=%s user=%s", ctx.app_id, handle, user_id)
        body: Body = {
            "status": "OK",
            "session": self._session_json(handle, user_id, tenant_id, payload),
            "accessToken": access.as_json(),
            "refreshToken": {"token": refresh, "expiry": refresh_expiry, "createdTime": now},
        }
        if anti_csrf is not None:
            body["antiCsrfToken"] = anti_csrf
        return body

    # verify -------------------------------------------------------------------------------------------------
    def verify(
        self,
        ctx: AppContext,
        *,
        token: str,
        anti_csrf_token: str | None,
        do_anti_csrf_check: bool,
        enable_anti_csrf: bool,
        check_database: bool,
    ) -> Body:
        """Verify an access token, promoting its refresh token when it is the first use after a refresh."""
        outcome = self.verify_without_io(
            ctx,
            token=token,
            anti_csrf_token=anti_csrf_token,
            do_anti_csrf_check=do_anti_csrf_check,
            enable_anti_csrf=enable_anti_csrf,
            check_database=check_database,
        )
        return outcome.run() if isinstance(outcome, NeedsDatabase) else outcome

    def verify_without_io(
        self,
        ctx: AppContext,
        *,
        token: str,
        anti_csrf_token: str | None,
        do_anti_csrf_check: bool,
        enable_anti_csrf: bool,
        check_database: bool,
    ) -> Body | NeedsDatabase:
        """The CPU-only part of verify: the answer, or the database step still needed to reach it.

        Most verifies end here (no promotion, no ``checkDatabase``), so an async server can answer them on its event
        loop and send only the rest to a worker thread. The decision is ``protocol.verify``'s, the SDK's too.
        """
        rules = VerifyRules(anti_csrf_token, do_anti_csrf_check and enable_anti_csrf, check_database)
        decision = decide_verify(token, rules, self._key_lookup(ctx, reload=False), self._clock() // 1000)
        if isinstance(decision, UnknownKey):  # maybe a key another core process just created: look in the database
            return NeedsDatabase(lambda: self._verify_after_key_reload(ctx, token, rules))
        return self._answer_verify(ctx, decision, rules)

    def _key_lookup(self, ctx: AppContext, *, reload: bool) -> KeyLookup:
        times = ctx.config.key_times
        return lambda kid: ctx.keyring.verification_key(kid, times, reload=reload)

    def _verify_after_key_reload(self, ctx: AppContext, token: str, rules: VerifyRules) -> Body:
        decision = decide_verify(token, rules, self._key_lookup(ctx, reload=True), self._clock() // 1000)
        if isinstance(decision, UnknownKey):
            decision = TryRefresh("unknown signing key", "invalid")
        answer = self._answer_verify(ctx, decision, rules)
        return answer.run() if isinstance(answer, NeedsDatabase) else answer

    def _answer_verify(
        self, ctx: AppContext, decision: Accept | NeedsCore | TryRefresh, rules: VerifyRules
    ) -> Body | NeedsDatabase:
        if isinstance(decision, TryRefresh):
            message = (
                decision.reason if decision.kind == "anti_csrf" else f"Access token is not valid: {decision.reason}"
            )
            return {"status": "TRY_REFRESH_TOKEN", "message": message}
        if isinstance(decision, Accept):
            return self._verified_locally(decision.verified)
        return NeedsDatabase(lambda: self._verify_with_database(ctx, decision, rules.check_database))

    def _verified_locally(self, verified: VerifiedAccessToken) -> Body:
        claims = verified.claims
        return {
            "status": "OK",
            "session": self._session_json(
                claims.session_handle, claims.user_id, claims.tenant_id, verified.custom_claims
            ),
        }

    def _verify_with_database(self, ctx: AppContext, decision: NeedsCore, check_database: bool) -> Body:
        verified = decision.verified
        drift = False
        if check_database:
            with self._storage.read() as tx:
                row = tx.get_session(ctx.app_id, verified.claims.session_handle, self._clock())
            if row is None:
                return {"status": "UNAUTHORISED", "message": "Either the session has ended or has been blacklisted"}
            drift = row.jwt_payload != verified.custom_claims
        if not decision.promote and not drift:
            return self._verified_locally(verified)
        return self._verify_in_transaction(ctx, verified)

    def _verify_in_transaction(self, ctx: AppContext, verified: VerifiedAccessToken) -> Body:
        claims = verified.claims
        now = self._clock()
        with self._storage.transaction() as tx:
            row = tx.get_session(ctx.app_id, claims.session_handle, now, for_update=True)
            if row is None:
                return {"status": "UNAUTHORISED", "message": "Session missing in db"}
            decision = decide_promotion(
                row.refresh_token_hash2, claims.refresh_token_hash1, claims.parent_refresh_token_hash1
            )
            if decision.promote:
                tx.update_refresh_state(
                    ctx.app_id,
                    row.session_handle,
                    sha256_hex(claims.refresh_token_hash1),
                    now + ctx.config.refresh_validity_ms,
                    now,
                )
        if decision.promote:
            log.info("session promoted: app=%s handle=%s user=%s", ctx.app_id, row.session_handle, row.user_id)
        if not decision.mint:
            return {
                "status": "OK",
                "session": self._session_json(row.session_handle, row.user_id, row.tenant_id, verified.custom_claims),
            }
        access = self._mint_access(
            ctx,
            user_id=row.user_id,
            handle=row.session_handle,
            tenant_id=row.tenant_id,
            rth1=claims.refresh_token_hash1,
            prth1=None,
            anti_csrf=claims.anti_csrf_token,
            custom=row.jwt_payload,
            use_static_key=row.use_static_key,
            now_ms=now,
        )
        return {
            "status": "OK",
            "session": self._session_json(row.session_handle, row.user_id, row.tenant_id, row.jwt_payload),
            "accessToken": access.as_json(),
        }

    # refresh ------------------------------------------------------------------------------------------------
    def refresh(
        self,
        ctx: AppContext,
        *,
        token: str,
        anti_csrf_token: str | None,
        enable_anti_csrf: bool,
        use_dynamic_key: bool,
    ) -> Body:
        content = refresh_token.open_token(token, ctx.keyring.refresh_token_key(), ctx.app_id)
        if content is None:
            return {"status": "UNAUTHORISED", "message": REFRESH_TOKEN_NOT_VALID}
        if (
            enable_anti_csrf
            and content.anti_csrf_token is not None
            and not secret_equals(anti_csrf_token, content.anti_csrf_token)
        ):
            return {"status": "UNAUTHORISED", "message": "Anti CSRF token missing, or not matching"}
        token_hash1 = sha256_hex(token)
        now = self._clock()
        use_static_key = not use_dynamic_key
        with self._storage.transaction() as tx:
            row = tx.get_session(ctx.app_id, content.session_handle, now, for_update=True)
            if row is None:
                return {"status": "UNAUTHORISED", "message": "Session missing in db or has expired"}
            outcome = decide_refresh(row.refresh_token_hash2, token_hash1, content.parent_refresh_token_hash1)
            if outcome is RefreshOutcome.PROMOTE:
                tx.update_refresh_state(
                    ctx.app_id,
                    row.session_handle,
                    sha256_hex(token_hash1),
                    now + ctx.config.refresh_validity_ms,
                    now,
                )
            if outcome is not RefreshOutcome.THEFT and row.use_static_key != use_static_key:
                tx.set_use_static_key(ctx.app_id, row.session_handle, use_static_key)
        if outcome is RefreshOutcome.THEFT:
            log.warning(
                "refresh token reuse (token theft) detected: app=%s handle=%s user=%s",
                ctx.app_id,
                row.session_handle,
                row.user_id,
            )
            return {
                "status": "TOKEN_THEFT_DETECTED",
                "session": {"handle": row.session_handle, "userId": row.user_id, "recipeUserId": row.user_id},
            }
        anti_csrf = _uuid4(self._random) if enable_anti_csrf else None
        child = self._seal_refresh(
            ctx, RefreshTokenContent(row.session_handle, row.user_id, row.tenant_id, token_hash1, anti_csrf)
        )
        access = self._mint_access(
            ctx,
            user_id=row.user_id,
            handle=row.session_handle,
            tenant_id=row.tenant_id,
            rth1=sha256_hex(child),
            prth1=token_hash1,
            anti_csrf=anti_csrf,
            custom=row.jwt_payload,
            use_static_key=use_static_key,
            now_ms=now,
        )
        log.info("session refreshed: app=%s handle=%s user=%s", ctx.app_id, row.session_handle, row.user_id)
        body: Body = {
            "status": "OK",
            "session": self._session_json(row.session_handle, row.user_id, row.tenant_id, row.jwt_payload),
            "accessToken": access.as_json(),
            "refreshToken": {
                "token": child,
                "expiry": now + ctx.config.refresh_validity_ms,
                "createdTime": now,
            },
        }
        if anti_csrf is not None:
            body["antiCsrfToken"] = anti_csrf
        return body

    # regenerate ---------------------------------------------------------------------------------------------
    def regenerate(self, ctx: AppContext, *, token: str, payload: dict[str, Any] | None) -> Body:
        """Replace the payload and re-sign keeping the token's identity and ``exp``.

        Upstream does not check the signature here; we do (expiry aside), so that an open core cannot be made to
        sign a forged token for someone else's session.
        """
        if payload is not None:
            check_access_token_payload(payload)
        verified = self.verify_access_token(ctx, token, allow_expired=True)
        if isinstance(verified, Rejected):
            return {"status": "UNAUTHORISED", "message": f"Access token is not valid: {verified.reason}"}
        claims = verified.claims
        now = self._clock()
        with self._storage.transaction() as tx:
            row = tx.get_session(ctx.app_id, claims.session_handle, now, for_update=True)
            if row is None:
                return {"status": "UNAUTHORISED", "message": "Session does not exist."}
            new_payload = row.jwt_payload if payload is None else payload
            if payload is not None:
                tx.update_jwt_payload(ctx.app_id, row.session_handle, payload, now)
        session = self._session_json(row.session_handle, row.user_id, row.tenant_id, new_payload)
        if claims.expires_at * 1000 <= now:
            return {"status": "OK", "session": session}
        access = self._mint_access(
            ctx,
            user_id=row.user_id,
            handle=row.session_handle,
            tenant_id=row.tenant_id,
            rth1=claims.refresh_token_hash1,
            prth1=claims.parent_refresh_token_hash1,
            anti_csrf=claims.anti_csrf_token,
            custom=new_payload,
            use_static_key=row.use_static_key,
            now_ms=now,
            expires_at_s=claims.expires_at,
        )
        return {"status": "OK", "session": session, "accessToken": access.as_json()}

    # handle-based APIs --------------------------------------------------------------------------------------
    def information(self, ctx: AppContext, handle: str) -> Body:
        if not could_be_handle(handle):
            return no_session()
        with self._storage.read() as tx:
            row = tx.get_session(ctx.app_id, handle, self._clock())
        if row is None:
            return no_session()
        return {
            "status": "OK",
            "sessionHandle": row.session_handle,
            "userId": row.user_id,
            "recipeUserId": row.user_id,
            "userDataInDatabase": row.session_data,
            "expiry": row.expires_at_ms,
            "userDataInJWT": row.jwt_payload,
            "timeCreated": row.created_at_ms,
            "tenantId": row.tenant_id,
        }

    def update_session_data(self, ctx: AppContext, handle: str, data: dict[str, Any]) -> Body:
        check_storable(data, "userDataInDatabase")
        if not could_be_handle(handle):
            return no_session()
        with self._storage.transaction() as tx:
            updated = tx.update_session_data(ctx.app_id, handle, data, self._clock())
        return {"status": "OK"} if updated else no_session()

    def update_jwt_payload(self, ctx: AppContext, handle: str, payload: dict[str, Any]) -> Body:
        check_access_token_payload(payload)
        if not could_be_handle(handle):
            return no_session()
        with self._storage.transaction() as tx:
            updated = tx.update_jwt_payload(ctx.app_id, handle, payload, self._clock())
        return {"status": "OK"} if updated else no_session()

    def revoke_handles(self, ctx: AppContext, handles: list[str]) -> Body:
        handles = [handle for handle in handles if could_be_handle(handle)]
        if not handles:
            return {"status": "OK", "sessionHandlesRevoked": []}
        with self._storage.transaction() as tx:
            revoked = tx.delete_sessions(ctx.app_id, handles, self._clock())
        for handle in revoked:
            log.info("session revoked: app=%s handle=%s", ctx.app_id, handle)
        return {"status": "OK", "sessionHandlesRevoked": revoked}

    def revoke_user(self, ctx: AppContext, user_id: str, tenant_id: str | None) -> Body:
        if not could_be_user_id(user_id):
            return {"status": "OK", "sessionHandlesRevoked": []}
        with self._storage.transaction() as tx:
            revoked = tx.delete_sessions_for_user(ctx.app_id, user_id, tenant_id, self._clock())
        log.info("sessions revoked for user: app=%s user=%s count=%d", ctx.app_id, user_id, len(revoked))
        return {"status": "OK", "sessionHandlesRevoked": revoked}

    def handles_for_user(self, ctx: AppContext, user_id: str, tenant_id: str | None) -> Body:
        if not could_be_user_id(user_id):
            return {"status": "OK", "sessionHandles": []}
        with self._storage.read() as tx:
            handles = tx.handles_for_user(ctx.app_id, user_id, tenant_id, self._clock())
        return {"status": "OK", "sessionHandles": handles}

    def delete_expired(self) -> int:
        with self._storage.transaction() as tx:
            return tx.delete_expired_sessions(self._clock())
