"""The FaunaDB integration as an override of the session recipe's functions (how SuperTokens' node SDK did it),
plus the revocation the original promised and never did. Below, "Fauna token" is the guide's kind of credential
(``credentials.FaunaTokenCredentials``); with ``faunadb.init_with_access_provider`` it is a JWT instead
(``access_provider``): minted by one core call instead of a Fauna query, and never deleted (it lives until
``exp``), so the Fauna steps below cost nothing and the revocations look nothing up.

The Fauna token travels with the session, in the access-token payload: ``faunadbTokenRef`` (its id, not a
credential), and the secret as ``faunadbToken`` (frontend mode) or sealed as ``faunadbTokenSealed`` (backend-only
mode, see ``sealing``). So a create or a refresh costs two core calls (the operation and one regenerate that puts
the token in), and ``get_faunadb_token()`` none.

- create: the first login of a process first checks, in one query, that the key is accepted and the user
  collection exists. Then the session is created, and one Fauna query mints a token for the user's document with
  TTL = the access token's expiry + lag, tagged with the session handle. If Fauna fails, the new session is
  revoked at once and the login fails with a clear error.
- refresh: the session is rotated first (a client is never stranded); one Fauna query then mints the replacement
  and deletes the previous token (whose ref the refreshed payload carries). If Fauna fails, the refresh still
  succeeds and the token is minted again on the next ``get_faunadb_token()``.
- revoke (sign-out, ``revoke_session``, revoke-all, multiple, token theft): the sessions' Fauna tokens are deleted
  in one query right after the sessions are revoked; a Fauna failure is logged (never the secret) and the sessions
  stay revoked. A session that ends any other way loses its token by TTL within the access-token lifetime + lag.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import Any

from gatepass.recipe.session.faunadb.credentials import FaunaCredentials
from gatepass.recipe.session.faunadb.fauna_calls import MintedToken
from gatepass.recipe.session.faunadb.sealing import TokenSeal
from gatepass.recipe.session.http_types import RequestView
from gatepass.recipe.session.outcomes import Refusal, Unauthorised
from gatepass.recipe.session.recipe import RecipeInterface
from gatepass.recipe.session.state import SessionState
from gatepass.recipe.session.steps import Flow

log = logging.getLogger("gatepass.faunadb")

FAUNADB_TOKEN_KEY = "faunadbToken"
FAUNADB_SEALED_TOKEN_KEY = "faunadbTokenSealed"
FAUNADB_TOKEN_REF_KEY = "faunadbTokenRef"
FAUNADB_TOKEN_PENDING_KEY = "faunadbTokenPending"
DEFAULT_LAG_MS = 30_000


@dataclass
class FaunaSettings:
    """How the integration runs: the kind of Fauna credential (a Fauna token or an AccessProvider JWT), whether
    the secret goes into the access-token payload as is (``faunadbToken``) or sealed (``seal``; ``None`` only in
    frontend mode), and the lag a credential outlives its access token by."""

    credentials: FaunaCredentials
    seal: TokenSeal | None
    lag_ms: int = DEFAULT_LAG_MS

    @property
    def access_faunadb_token_from_frontend(self) -> bool:
        """Frontend mode: the secret travels unsealed, as ``faunadbToken``."""
        return self.seal is None


class FaunaIntegration:
    """The overrides, installed on the recipe's functions by ``install``; ``inner`` keeps the functions it wraps."""

    def __init__(self, settings: FaunaSettings, original: RecipeInterface) -> None:
        self.settings = settings
        self.inner = replace(original)  # the wrapped originals, before install() replaces them
        self.recipe = original.recipe
        self.setup_checked = False  # the key and the collection are checked once, before the first session
        settings.credentials.bind(self.recipe.config.app_info, self.recipe.now_ms)

    def install(self, functions: RecipeInterface) -> RecipeInterface:
        """Wrap create, refresh and the revocations, and provide ``get_faunadb_token``."""
        functions.create_new_session = self.create_new_session
        functions.refresh_session = self.refresh_session
        functions.revoke_session = self.revoke_session
        functions.revoke_all_sessions_for_user = self.revoke_all_sessions_for_user
        functions.revoke_multiple_sessions = self.revoke_multiple_sessions
        functions.get_faunadb_token = self.get_faunadb_token
        return functions

    @property
    def _outer(self) -> RecipeInterface:
        return self.recipe.functions  # the outermost functions: later overrides apply to our own calls too

    # overrides -------------------------------------------------------------------------------------------------------
    def create_new_session(
        self,
        *,
        request: RequestView | None,
        tenant_id: str,
        user_id: str,
        access_token_payload: dict[str, Any],
        session_data_in_database: dict[str, Any],
    ) -> Flow[SessionState]:
        """A session and its Fauna token, or neither."""
        self.settings.credentials.check_user(user_id)  # before any session exists
        if not self.setup_checked:
            yield from self.settings.credentials.check_setup()
            self.setup_checked = True
        state = yield from self.inner.create_new_session(
            request=request,
            tenant_id=tenant_id,
            user_id=user_id,
            access_token_payload=access_token_payload,
            session_data_in_database=session_data_in_database,
        )
        token: MintedToken | None = None
        try:
            token = yield from self._mint(state, None)
            yield from self._store(state, token)  # the core may refuse the payload with it (too large, say)
        except Exception:
            yield from self.inner.revoke_session(session_handle=state.session_handle)  # no session without its token
            if token is not None and token.ref_id is not None:
                yield from self._delete([token.ref_id])  # nor a token without its session
            raise
        return state

    def refresh_session(self, *, request: RequestView) -> Flow[SessionState | Refusal]:
        """Rotate the session first (a client is never stranded), then its Fauna token."""
        state = yield from self.inner.refresh_session(request=request)
        if not isinstance(state, SessionState):
            return state
        old_ref = yield from self._current_ref(state)
        try:
            token = yield from self._mint(state, old_ref)
        except Exception as exc:
            log.warning(
                "FaunaDB token not renewed at refresh (session %s): %s; it is minted again on the next "
                "get_faunadb_token()",
                state.session_handle,
                type(exc).__name__,
            )
            yield from self._outer.regenerate_access_token(state=state, update=self._pending())
            return state
        yield from self._store(state, token)
        return state

    def revoke_session(self, *, session_handle: str) -> Flow[bool]:
        """Revoke the session, then delete its Fauna token."""
        refs = yield from self._refs([session_handle])
        revoked = yield from self.inner.revoke_session(session_handle=session_handle)
        yield from self._delete(refs)
        return revoked

    def revoke_all_sessions_for_user(self, *, user_id: str, tenant_id: str | None) -> Flow[list[str]]:
        """Revoke the user's sessions, then delete their Fauna tokens."""
        handles = yield from self._outer.get_all_session_handles_for_user(user_id=user_id, tenant_id=tenant_id)
        refs = yield from self._refs(handles)
        revoked = yield from self.inner.revoke_all_sessions_for_user(user_id=user_id, tenant_id=tenant_id)
        yield from self._delete(refs)
        return revoked

    def revoke_multiple_sessions(self, *, session_handles: list[str]) -> Flow[list[str]]:
        """Revoke the sessions, then delete their Fauna tokens."""
        refs = yield from self._refs(session_handles)
        revoked = yield from self.inner.revoke_multiple_sessions(session_handles=session_handles)
        yield from self._delete(refs)
        return revoked

    # steps -----------------------------------------------------------------------------------------------------------
    def _mint(self, state: SessionState, old_ref: str | None) -> Flow[MintedToken]:
        expires_at_ms = state.access_token_expiry_ms + self.settings.lag_ms
        return self.settings.credentials.mint(state, old_ref, expires_at_ms)

    def _store(self, state: SessionState, token: MintedToken) -> Flow[bool]:
        """Put the token in the session's payload (one regenerate: the stored payload and the access token);
        ``False`` if the session no longer exists."""
        update: dict[str, Any] = {FAUNADB_TOKEN_REF_KEY: token.ref_id, FAUNADB_TOKEN_PENDING_KEY: None}
        if self.settings.seal is None:
            update[FAUNADB_TOKEN_KEY] = token.secret
        else:
            update[FAUNADB_SEALED_TOKEN_KEY] = self.settings.seal.seal(token.secret, state.session_handle)
        stored: bool = yield from self._outer.regenerate_access_token(state=state, update=update)
        return stored

    @staticmethod
    def _pending() -> dict[str, Any]:
        """The payload change when a refresh could not renew the token: no secret until it is minted again."""
        return {FAUNADB_TOKEN_KEY: None, FAUNADB_SEALED_TOKEN_KEY: None, FAUNADB_TOKEN_PENDING_KEY: True}

    def _current_ref(self, state: SessionState) -> Flow[str | None]:
        """The session's Fauna token ref: in the payload, or, for a session stored before the payload held it,
        in its database data (one core call)."""
        ref = state.access_token_payload.get(FAUNADB_TOKEN_REF_KEY)
        if isinstance(ref, str) or not self.settings.credentials.revocable:
            return ref if isinstance(ref, str) else None
        info = yield from self._outer.get_session_information(session_handle=state.session_handle)
        stored = info.session_data_in_database.get(FAUNADB_TOKEN_REF_KEY) if info else None
        return stored if isinstance(stored, str) else None

    def _refs(self, handles: list[str]) -> Flow[list[str]]:
        refs: list[str] = []
        if not self.settings.credentials.revocable:
            return refs  # nothing to delete, so no session needs looking up
        for handle in handles:
            info = yield from self._outer.get_session_information(session_handle=handle)
            if info is None:
                continue
            for place in (info.custom_claims_in_access_token_payload, info.session_data_in_database):
                ref = place.get(FAUNADB_TOKEN_REF_KEY)
                if isinstance(ref, str) and ref not in refs:
                    refs.append(ref)
        return refs

    def _delete(self, refs: list[str]) -> Flow[None]:
        if not refs:
            return
        try:
            yield from self.settings.credentials.delete(refs)
        except Exception as exc:
            log.warning("could not delete %d FaunaDB token(s) of revoked sessions: %s", len(refs), type(exc).__name__)

    # the token ----------------------------------------------------------------------------------------------------
    def get_faunadb_token(self, *, state: SessionState) -> Flow[str | Refusal]:
        """The Fauna secret the session's access token carries (minted again here if a refresh could not renew
        it). A superseded access token may carry a revoked one: the newest carries the live one."""
        payload = state.access_token_payload
        if not payload.get(FAUNADB_TOKEN_PENDING_KEY):
            if self.settings.seal is None:
                secret = payload.get(FAUNADB_TOKEN_KEY)
            else:
                secret = self.settings.seal.open(payload.get(FAUNADB_SEALED_TOKEN_KEY), state.session_handle)
            if isinstance(secret, str):
                return str(secret)
        old_ref = yield from self._current_ref(state)
        token = yield from self._mint(state, old_ref)
        if not (yield from self._store(state, token)):
            yield from self._delete([token.ref_id] if token.ref_id is not None else [])
            return Unauthorised("Session does not exist anymore.")
        return token.secret
