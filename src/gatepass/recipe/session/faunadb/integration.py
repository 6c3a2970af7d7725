"""The FaunaDB integration as an override of the session recipe's functions (how SuperTokens' node SDK did it),
plus the revocation the original promised and never did.

- create: the first login of a process first checks, in one query, that the key is accepted and the user
  collection exists. Then the session is created, and one Fauna query mints a token for the user's document with
  TTL = the access token's expiry + lag, tagged with the session handle. Its secret and ref go into the session's
  database data (and, if enabled, the secret into the access-token payload as ``faunadbToken``). If Fauna fails,
  the new session is revoked at once and the login fails with a clear error.
- refresh: the session is rotated first (a client is never stranded); one Fauna query then mints the replacement
  and deletes the previous token. If Fauna fails, the refresh still succeeds and the token is minted again on the
  next ``get_faunadb_token()``.
- revoke (sign-out, ``revoke_session``, revoke-all, multiple, token theft): the sessions' Fauna tokens are deleted
  in one query right after the sessions are revoked; a Fauna failure is logged (never the secret) and the sessions
  stay revoked. A session that ends any other way loses its token by TTL within the access-token lifetime + lag.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import Any

from gatepass.recipe.session.faunadb.fauna_calls import FaunaTokens, MintedToken
from gatepass.recipe.session.http_types import RequestView
from gatepass.recipe.session.outcomes import Refusal, Unauthorised
from gatepass.recipe.session.recipe import RecipeInterface
from gatepass.recipe.session.state import SessionState
from gatepass.recipe.session.steps import Blocking, Flow

log = logging.getLogger("gatepass.faunadb")

FAUNADB_TOKEN_KEY = "faunadbToken"
FAUNADB_TOKEN_REF_KEY = "faunadbTokenRef"
FAUNADB_TOKEN_PENDING_KEY = "faunadbTokenPending"
DEFAULT_LAG_MS = 30_000


@dataclass
class FaunaSettings:
    """How the integration runs: the Fauna calls, whether the secret also goes into the access-token payload
    (``faunadbToken``), and the lag a Fauna token outlives its access token by."""

    tokens: FaunaTokens
    access_faunadb_token_from_frontend: bool = False
    lag_ms: int = DEFAULT_LAG_MS


class FaunaIntegration:
    """The overrides, installed on the recipe's functions by ``install``; ``inner`` keeps the functions it wraps."""

    def __init__(self, settings: FaunaSettings, original: RecipeInterface) -> None:
        self.settings = settings
        self.inner = replace(original)  # the wrapped originals, before install() replaces them
        self.recipe = original.recipe
        self.setup_checked = False  # the key and the collection are checked once, before the first session

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
        self.settings.tokens.users.check(user_id)  # before any session exists
        if not self.setup_checked:
            yield Blocking(self.settings.tokens.check_setup)
            self.setup_checked = True
        state = yield from self.inner.create_new_session(
            request=request,
            tenant_id=tenant_id,
            user_id=user_id,
            access_token_payload=access_token_payload,
            session_data_in_database=session_data_in_database,
        )
        try:
            token = yield Blocking(lambda: self._mint(state, None))
        except Exception:
            yield from self.inner.revoke_session(session_handle=state.session_handle)  # no session without its token
            raise
        yield from self._store(state, token, dict(session_data_in_database))
        return state

    def refresh_session(self, *, request: RequestView) -> Flow[SessionState | Refusal]:
        """Rotate the session first (a client is never stranded), then its Fauna token."""
        state = yield from self.inner.refresh_session(request=request)
        if not isinstance(state, SessionState):
            return state
        info = yield from self._outer.get_session_information(session_handle=state.session_handle)
        data = dict(info.session_data_in_database) if info else {}
        try:
            token = yield Blocking(lambda: self._mint(state, data.get(FAUNADB_TOKEN_REF_KEY)))
        except Exception as exc:
            log.warning(
                "FaunaDB token not renewed at refresh (session %s): %s; it is minted again on the next "
                "get_faunadb_token()",
                state.session_handle,
                type(exc).__name__,
            )
            yield from self._mark_pending(state, data)
            return state
        yield from self._store(state, token, data)
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
    def _mint(self, state: SessionState, old_ref: str | None) -> MintedToken:
        ttl_ms = state.access_token_expiry_ms + self.settings.lag_ms
        return self.settings.tokens.rotate(state.user_id, state.session_handle, ttl_ms, old_ref)

    def _store(self, state: SessionState, token: MintedToken, data: dict[str, Any]) -> Flow[None]:
        data = {k: v for k, v in data.items() if k != FAUNADB_TOKEN_PENDING_KEY}
        data.update({FAUNADB_TOKEN_KEY: token.secret, FAUNADB_TOKEN_REF_KEY: token.ref_id})
        yield from self._outer.update_session_data_in_database(session_handle=state.session_handle, data=data)
        if self.settings.access_faunadb_token_from_frontend:
            yield from self._outer.regenerate_access_token(state=state, update={FAUNADB_TOKEN_KEY: token.secret})

    def _mark_pending(self, state: SessionState, data: dict[str, Any]) -> Flow[None]:
        pending = {k: v for k, v in data.items() if k != FAUNADB_TOKEN_KEY}
        pending[FAUNADB_TOKEN_PENDING_KEY] = True
        yield from self._outer.update_session_data_in_database(session_handle=state.session_handle, data=pending)
        if self.settings.access_faunadb_token_from_frontend:
            yield from self._outer.regenerate_access_token(state=state, update={FAUNADB_TOKEN_KEY: None})

    def _refs(self, handles: list[str]) -> Flow[list[str]]:
        refs: list[str] = []
        for handle in handles:
            info = yield from self._outer.get_session_information(session_handle=handle)
            ref = info.session_data_in_database.get(FAUNADB_TOKEN_REF_KEY) if info else None
            if isinstance(ref, str):
                refs.append(ref)
        return refs

    def _delete(self, refs: list[str]) -> Flow[None]:
        if not refs:
            return
        try:
            yield Blocking(lambda: self.settings.tokens.delete(refs))
        except Exception as exc:
            log.warning("could not delete %d FaunaDB token(s) of revoked sessions: %s", len(refs), type(exc).__name__)

    # the token ----------------------------------------------------------------------------------------------------
    def get_faunadb_token(self, *, state: SessionState) -> Flow[str | Refusal]:
        """The session's current Fauna secret (minted again here if a refresh could not renew it)."""
        if self.settings.access_faunadb_token_from_frontend:
            in_payload = state.access_token_payload.get(FAUNADB_TOKEN_KEY)
            if isinstance(in_payload, str):
                return str(in_payload)
        info = yield from self._outer.get_session_information(session_handle=state.session_handle)
        if info is None:
            return Unauthorised("Session does not exist anymore.")
        data = dict(info.session_data_in_database)
        stored = data.get(FAUNADB_TOKEN_KEY)
        if isinstance(stored, str) and not data.get(FAUNADB_TOKEN_PENDING_KEY):
            return str(stored)
        token: MintedToken = yield Blocking(lambda: self._mint(state, data.get(FAUNADB_TOKEN_REF_KEY)))
        yield from self._store(state, token, data)
        return token.secret
