"""The FaunaDB integration installed on gatepass's own session recipe: an override of its functions (how
SuperTokens' node SDK did it), plus the revocation the original promised and never did. The rules (when to mint,
rotate and delete) are ``lifecycle``'s, shared with the supertokens-python plugin; this module is gatepass's
``SessionHost`` for them and the wrappers that call them.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from gatepass.protocol.cdi import RevokedSession
from gatepass.recipe.session.faunadb.lifecycle import (
    DEFAULT_LAG_MS,
    FAUNADB_SEALED_TOKEN_KEY,
    FAUNADB_TOKEN_KEY,
    FAUNADB_TOKEN_PENDING_KEY,
    FAUNADB_TOKEN_REF_KEY,
    FaunaLifecycle,
    FaunaSettings,
)
from gatepass.recipe.session.http_types import RequestView
from gatepass.recipe.session.lifetime import SessionLifetime
from gatepass.recipe.session.outcomes import Refusal, Unauthorised
from gatepass.recipe.session.recipe import RecipeInterface
from gatepass.recipe.session.state import SessionState
from gatepass.recipe.session.steps import Flow

__all__ = [
    "DEFAULT_LAG_MS",
    "FAUNADB_SEALED_TOKEN_KEY",
    "FAUNADB_TOKEN_KEY",
    "FAUNADB_TOKEN_PENDING_KEY",
    "FAUNADB_TOKEN_REF_KEY",
    "FaunaIntegration",
    "FaunaSettings",
]


class FaunaIntegration:
    """The overrides, installed on the recipe's functions by ``install``; ``inner`` keeps the functions it wraps.
    Each call runs the rules against a ``_CallHost`` carrying that call's ``user_context``."""

    def __init__(self, settings: FaunaSettings, original: RecipeInterface) -> None:
        self.settings = settings
        self.lifecycle = FaunaLifecycle(settings)
        self.inner = replace(original)  # the wrapped originals, before install() replaces them
        self.recipe = original.recipe
        settings.credentials.bind(self.recipe.config.app_info, self.recipe.now_ms)

    def install(self, functions: RecipeInterface) -> RecipeInterface:
        """Wrap create, refresh and the revocations, and provide ``get_faunadb_token``."""
        functions.create_new_session = self.create_new_session
        functions.refresh_session = self.refresh_session
        functions.revoke_session = self.revoke_session
        functions.revoke_all_sessions_for_user = self.revoke_all_sessions_for_user
        functions.revoke_multiple_sessions = self.revoke_multiple_sessions
        functions.revoke_other_sessions = self.revoke_other_sessions
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
        disable_anti_csrf: bool = False,
        user_context: dict[str, Any],
        lifetime: SessionLifetime | None = None,
    ) -> Flow[SessionState]:
        """A session and its Fauna token, or neither; the tokens of sessions the per-user cap ended are deleted."""
        yield from self.lifecycle.before_create(user_id)
        extra = {} if lifetime is None else {"lifetime": lifetime}
        state = yield from self.inner.create_new_session(
            request=request,
            tenant_id=tenant_id,
            user_id=user_id,
            access_token_payload=access_token_payload,
            session_data_in_database=session_data_in_database,
            disable_anti_csrf=disable_anti_csrf,
            user_context=user_context,
            **extra,
        )
        yield from self.lifecycle.release(state.revoked_sessions)
        yield from self.lifecycle.after_create(self._host(user_context), state)
        return state

    def refresh_session(
        self, *, request: RequestView, disable_anti_csrf: bool | None = None, user_context: dict[str, Any]
    ) -> Flow[SessionState | Refusal]:
        """Rotate the session first (a client is never stranded), then its Fauna token."""
        refresh = self.inner.refresh_session
        state = yield from refresh(request=request, disable_anti_csrf=disable_anti_csrf, user_context=user_context)
        if isinstance(state, SessionState):
            yield from self.lifecycle.after_refresh(self._host(user_context), state)
        return state

    def revoke_session(self, *, session_handle: str, user_context: dict[str, Any]) -> Flow[bool]:
        """Revoke the session, then delete its Fauna token."""
        revocation = self.inner.revoke_session(session_handle=session_handle, user_context=user_context)
        return self.lifecycle.revoking(self._host(user_context), [session_handle], revocation)

    def revoke_all_sessions_for_user(
        self, *, user_id: str, tenant_id: str | None, user_context: dict[str, Any]
    ) -> Flow[list[str]]:
        """Revoke the user's sessions, then delete their Fauna tokens."""
        handles = yield from self._outer.get_all_session_handles_for_user(
            user_id=user_id, tenant_id=tenant_id, user_context=user_context
        )
        revocation = self.inner.revoke_all_sessions_for_user(
            user_id=user_id, tenant_id=tenant_id, user_context=user_context
        )
        revoked: list[str] = yield from self.lifecycle.revoking(self._host(user_context), handles, revocation)
        return revoked

    def revoke_multiple_sessions(self, *, session_handles: list[str], user_context: dict[str, Any]) -> Flow[list[str]]:
        """Revoke the sessions, then delete their Fauna tokens."""
        revocation = self.inner.revoke_multiple_sessions(session_handles=session_handles, user_context=user_context)
        return self.lifecycle.revoking(self._host(user_context), session_handles, revocation)

    def revoke_other_sessions(
        self, *, session_handle: str, tenant_id: str | None, user_context: dict[str, Any]
    ) -> Flow[list[RevokedSession] | None]:
        """Revoke the user's other sessions, then delete their Fauna tokens (the core's reply names them)."""
        revoke = self.inner.revoke_other_sessions
        revoked = yield from revoke(session_handle=session_handle, tenant_id=tenant_id, user_context=user_context)
        yield from self.lifecycle.release(revoked or ())
        return revoked

    def get_faunadb_token(self, *, state: SessionState, user_context: dict[str, Any]) -> Flow[str | Refusal]:
        """The Fauna secret the session's access token carries (see ``FaunaLifecycle.secret``)."""
        secret = yield from self.lifecycle.secret(self._host(user_context), state)
        return Unauthorised("Session does not exist anymore.") if secret is None else secret

    def _host(self, user_context: dict[str, Any]) -> _CallHost:
        return _CallHost(self, user_context)


class _CallHost:
    """The ``SessionHost`` of one call: the integration's own calls (a regenerate, a revoke, a read) carry that
    call's ``user_context``, so the app's overrides of them see the caller's dict."""

    def __init__(self, integration: FaunaIntegration, user_context: dict[str, Any]) -> None:
        self._integration = integration
        self._context = user_context

    def facts(self, session: SessionState) -> SessionState:
        """A ``SessionState`` has every fact the rules read."""
        return session

    def store(self, session: SessionState, update: dict[str, Any]) -> Flow[bool]:
        """One regenerate through the outermost functions."""
        regenerate = self._integration._outer.regenerate_access_token
        stored: bool = yield from regenerate(state=session, update=update, user_context=self._context)
        return stored

    def revoke(self, session_handle: str) -> Flow[bool]:
        """The wrapped revoke (the session's token, if any, is the caller's to delete)."""
        return self._integration.inner.revoke_session(session_handle=session_handle, user_context=self._context)

    def stored_payloads(self, session_handle: str) -> Flow[tuple[dict[str, Any], dict[str, Any]] | None]:
        """One ``get_session_information`` through the outermost functions."""
        read = self._integration._outer.get_session_information
        info = yield from read(session_handle=session_handle, user_context=self._context)
        return None if info is None else (info.custom_claims_in_access_token_payload, info.session_data_in_database)
