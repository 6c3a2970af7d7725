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
from dataclasses import dataclass
from typing import Any

from gatepass.recipe.session.faunadb.fauna_calls import FaunaTokens, MintedToken, validate_user_id
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
    tokens: FaunaTokens
    access_faunadb_token_from_frontend: bool = False
    lag_ms: int = DEFAULT_LAG_MS


class FaunaIntegration:
    """Installed on the recipe (``recipe.extensions["faunadb"]``); the session objects' ``get_faunadb_token`` use it."""

    def __init__(self, settings: FaunaSettings, original: RecipeInterface) -> None:
        self.settings = settings
        self.original = original
        self.setup_checked = False  # the key and the collection are checked once, before the first session

    # overrides -------------------------------------------------------------------------------------------------------
    def install(self, functions: RecipeInterface) -> RecipeInterface:
        create, refresh = functions.create_new_session, functions.refresh_session
        revoke, revoke_all, revoke_many = (
            functions.revoke_session,
            functions.revoke_all_sessions_for_user,
            functions.revoke_multiple_sessions,
        )

        def create_new_session(**kwargs: Any) -> Flow[SessionState]:
            validate_user_id(kwargs["user_id"])  # before any session exists
            if not self.setup_checked:
                yield Blocking(self.settings.tokens.check_setup)
                self.setup_checked = True
            state = yield from create(**kwargs)
            try:
                token = yield Blocking(lambda: self._mint(state, None))
            except Exception:
                yield from revoke(session_handle=state.session_handle)  # no session without its Fauna token
                raise
            yield from self._store(state, token, dict(kwargs["session_data_in_database"]))
            return state

        def refresh_session(**kwargs: Any) -> Flow[SessionState]:
            state = yield from refresh(**kwargs)
            info = yield from functions.get_session_information(session_handle=state.session_handle)
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

        def revoke_session(**kwargs: Any) -> Flow[bool]:
            refs = yield from self._refs([kwargs["session_handle"]])
            revoked = yield from revoke(**kwargs)
            yield from self._delete(refs)
            return revoked

        def revoke_all_sessions_for_user(**kwargs: Any) -> Flow[list[str]]:
            handles = yield from functions.get_all_session_handles_for_user(**kwargs)
            refs = yield from self._refs(handles)
            revoked = yield from revoke_all(**kwargs)
            yield from self._delete(refs)
            return revoked

        def revoke_multiple_sessions(**kwargs: Any) -> Flow[list[str]]:
            refs = yield from self._refs(kwargs["session_handles"])
            revoked = yield from revoke_many(**kwargs)
            yield from self._delete(refs)
            return revoked

        functions.create_new_session = create_new_session  # type: ignore[method-assign]
        functions.refresh_session = refresh_session  # type: ignore[method-assign]
        functions.revoke_session = revoke_session  # type: ignore[method-assign]
        functions.revoke_all_sessions_for_user = revoke_all_sessions_for_user  # type: ignore[method-assign]
        functions.revoke_multiple_sessions = revoke_multiple_sessions  # type: ignore[method-assign]
        functions.recipe.extensions["faunadb"] = self
        return functions

    # steps -----------------------------------------------------------------------------------------------------------
    def _mint(self, state: SessionState, old_ref: str | None) -> MintedToken:
        ttl_ms = state.access_token_expiry_ms + self.settings.lag_ms
        return self.settings.tokens.rotate(state.user_id, state.session_handle, ttl_ms, old_ref)

    def _store(self, state: SessionState, token: MintedToken, data: dict[str, Any]) -> Flow[None]:
        data = {k: v for k, v in data.items() if k != FAUNADB_TOKEN_PENDING_KEY}
        data.update({FAUNADB_TOKEN_KEY: token.secret, FAUNADB_TOKEN_REF_KEY: token.ref_id})
        functions = self.original.recipe.functions
        yield from functions.update_session_data_in_database(session_handle=state.session_handle, data=data)
        if self.settings.access_faunadb_token_from_frontend:
            yield from functions.regenerate_access_token(state=state, update={FAUNADB_TOKEN_KEY: token.secret})

    def _mark_pending(self, state: SessionState, data: dict[str, Any]) -> Flow[None]:
        functions = self.original.recipe.functions
        pending = {k: v for k, v in data.items() if k != FAUNADB_TOKEN_KEY}
        pending[FAUNADB_TOKEN_PENDING_KEY] = True
        yield from functions.update_session_data_in_database(session_handle=state.session_handle, data=pending)
        if self.settings.access_faunadb_token_from_frontend:
            yield from functions.regenerate_access_token(state=state, update={FAUNADB_TOKEN_KEY: None})

    def _refs(self, handles: list[str]) -> Flow[list[str]]:
        refs: list[str] = []
        for handle in handles:
            info = yield from self.original.recipe.functions.get_session_information(session_handle=handle)
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
    def get_faunadb_token(self, state: SessionState) -> Flow[str]:
        """The session's current Fauna secret (minted again here if a refresh could not renew it)."""
        if self.settings.access_faunadb_token_from_frontend:
            in_payload = state.access_token_payload.get(FAUNADB_TOKEN_KEY)
            if isinstance(in_payload, str):
                return str(in_payload)
        info = yield from self.original.recipe.functions.get_session_information(session_handle=state.session_handle)
        if info is None:
            from gatepass.recipe.session.errors import UnauthorisedError

            raise UnauthorisedError("Session does not exist anymore.")
        data = dict(info.session_data_in_database)
        stored = data.get(FAUNADB_TOKEN_KEY)
        if isinstance(stored, str) and not data.get(FAUNADB_TOKEN_PENDING_KEY):
            return str(stored)
        token: MintedToken = yield Blocking(lambda: self._mint(state, data.get(FAUNADB_TOKEN_REF_KEY)))
        yield from self._store(state, token, data)
        return token.secret
