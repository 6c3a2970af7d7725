"""The session object handed to application code: ``SessionContainer`` (sync) and ``AsyncSessionContainer``.

Both run the same flows; only the driver differs. Reads of the verified token (user id, handle, payload) are
plain attributes; anything that asks the core is a method (awaitable on the async container).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gatepass.protocol.cdi import RevokedSession
from gatepass.recipe.session import transport
from gatepass.recipe.session.claim_flows import assert_claims, build
from gatepass.recipe.session.claims.base import SessionClaim
from gatepass.recipe.session.errors import InvalidClaimsError, UnauthorisedError, error_for
from gatepass.recipe.session.http_types import ResponseChanges
from gatepass.recipe.session.signatures import user_context_of
from gatepass.recipe.session.state import AnyValidator, SessionInformation, SessionState
from gatepass.recipe.session.steps import Flow, run_async, run_sync

if TYPE_CHECKING:
    from gatepass.recipe.session.recipe import SessionRecipe

Context = dict[str, Any]


def _information(recipe: SessionRecipe, handle: str, user_context: Context) -> Flow[SessionInformation]:
    info = yield from recipe.functions.get_session_information(session_handle=handle, user_context=user_context)
    if info is None:
        raise UnauthorisedError("Session does not exist anymore.")
    return info


def _revoke(recipe: SessionRecipe, state: SessionState, user_context: Context) -> Flow[None]:
    yield from recipe.functions.revoke_session(session_handle=state.session_handle, user_context=user_context)
    if state.transfer_method is not None:
        transport.clear_tokens(state.changes, recipe.config, state.transfer_method)


def _revoke_others(recipe: SessionRecipe, state: SessionState, user_context: Context) -> Flow[list[str]]:
    revoke = recipe.functions.revoke_other_sessions
    revoked = yield from revoke(session_handle=state.session_handle, tenant_id=None, user_context=user_context)
    if revoked is None:
        raise UnauthorisedError("Session does not exist anymore.")
    return [session.session_handle for session in revoked]


def _faunadb_token(recipe: SessionRecipe, state: SessionState, user_context: Context) -> Flow[str]:
    token = yield from recipe.functions.get_faunadb_token(state=state, user_context=user_context)
    if not isinstance(token, str):
        raise error_for(token)
    return token


def _regenerate(
    recipe: SessionRecipe, state: SessionState, update: dict[str, Any], user_context: Context
) -> Flow[None]:
    regenerate = recipe.functions.regenerate_access_token
    if not (yield from regenerate(state=state, update=update, user_context=user_context)):
        raise UnauthorisedError("Session does not exist anymore.")


def _assert_claims(
    recipe: SessionRecipe, state: SessionState, validators: list[AnyValidator], user_context: Context
) -> Flow[None]:
    refusal = yield from assert_claims(recipe.functions, state, validators, user_context)
    if refusal is not None:
        raise InvalidClaimsError(refusal.failures)


def _fetch_and_set(
    recipe: SessionRecipe, state: SessionState, claim: SessionClaim[Any], user_context: Context
) -> Flow[None]:
    payload = state.access_token_payload
    update = yield from build(claim, state.user_id, state.user_id, state.tenant_id, payload, user_context)
    yield from _regenerate(recipe, state, update, user_context)


def _update_data(recipe: SessionRecipe, handle: str, data: dict[str, Any], user_context: Context) -> Flow[None]:
    update = recipe.functions.update_session_data_in_database
    updated = yield from update(session_handle=handle, data=data, user_context=user_context)
    if not updated:
        raise UnauthorisedError("Session does not exist anymore.")


class _SessionView:
    def __init__(self, recipe: SessionRecipe, state: SessionState) -> None:
        self.recipe = recipe
        self.state = state

    def __repr__(self) -> str:
        return f"{type(self).__name__}(handle={self.state.session_handle!r}, user_id={self.state.user_id!r})"

    def get_user_id(self, user_context: Context | None = None) -> str:
        return self.state.user_id

    def get_recipe_user_id(self, user_context: Context | None = None) -> str:
        return self.state.user_id

    def get_handle(self, user_context: Context | None = None) -> str:
        return self.state.session_handle

    def get_tenant_id(self, user_context: Context | None = None) -> str:
        return self.state.tenant_id

    def get_access_token(self, user_context: Context | None = None) -> str:
        return self.state.access_token

    def get_access_token_payload(self, user_context: Context | None = None) -> dict[str, Any]:
        return dict(self.state.access_token_payload)

    def get_access_token_expiry(self) -> int:
        """When the current access token expires (epoch milliseconds)."""
        return self.state.access_token_expiry_ms

    def get_revoked_sessions(self) -> list[RevokedSession]:
        """For a session just created: the sessions the core's per-user cap (``max_sessions_per_user``) ended to
        make room for it, oldest first, with what they stored; empty otherwise."""
        return list(self.state.revoked_sessions)

    def get_all_session_tokens_dangerously(self) -> dict[str, Any]:
        return {
            "accessToken": self.state.access_token,
            "refreshToken": self.state.refresh_token,
            "antiCsrfToken": self.state.anti_csrf_token,
            "frontToken": transport.front_token(
                self.state.user_id, self.state.access_token_expiry_ms, self.state.access_token_payload
            ),
            "accessAndFrontTokenUpdated": self.state.access_token_updated,
        }

    def _claim_value(self, claim: SessionClaim[Any], user_context: Context) -> Any:
        return claim.get_value_from_payload(self.state.access_token_payload, user_context)

    @property
    def response_changes(self) -> ResponseChanges:
        """Cookies and headers this session needs on the response (applied by the framework adapters)."""
        return self.state.changes


class SessionContainer(_SessionView):
    """A session in synchronous code (Flask, sync Django views, scripts)."""

    def revoke_session(self, user_context: Context | None = None) -> None:
        """Revoke this session at the core, and clear its tokens in the response changes (unless it was verified
        without a request)."""
        run_sync(_revoke(self.recipe, self.state, user_context_of(user_context)), self.recipe)

    def revoke_other_sessions(self, user_context: Context | None = None) -> list[str]:
        """gatepass's "sign out everywhere else": revoke every other session of this user, in all tenants; the
        handles revoked. ``UnauthorisedError`` if this session no longer exists (then nothing is revoked)."""
        return run_sync(_revoke_others(self.recipe, self.state, user_context_of(user_context)), self.recipe)

    def get_session_data_from_database(self, user_context: Context | None = None) -> dict[str, Any]:
        """The data stored with this session, from the core; ``UnauthorisedError`` if the session no longer exists."""
        return run_sync(
            _information(self.recipe, self.state.session_handle, user_context_of(user_context)), self.recipe
        ).session_data_in_database

    def update_session_data_in_database(self, data: dict[str, Any], user_context: Context | None = None) -> None:
        """Replace the data stored with this session; ``UnauthorisedError`` if the session no longer exists."""
        run_sync(_update_data(self.recipe, self.state.session_handle, data, user_context_of(user_context)), self.recipe)

    def merge_into_access_token_payload(self, update: dict[str, Any], user_context: Context | None = None) -> None:
        """Merge ``update`` into this session's access-token payload (a ``None`` value removes a claim) and re-sign
        the token with the same ``exp``; an expired token is not replaced, and the next refresh carries the
        payload. ``UnauthorisedError`` if the session no longer exists."""
        run_sync(_regenerate(self.recipe, self.state, update, user_context_of(user_context)), self.recipe)

    def get_session_information(self, user_context: Context | None = None) -> SessionInformation:
        """This session's stored state, from the core; ``UnauthorisedError`` if the session no longer exists."""
        return run_sync(
            _information(self.recipe, self.state.session_handle, user_context_of(user_context)), self.recipe
        )

    def get_time_created(self, user_context: Context | None = None) -> int:
        """When this session was created (epoch milliseconds), from the core."""
        return self.get_session_information(user_context).time_created

    def get_expiry(self, user_context: Context | None = None) -> int:
        """When this session expires (epoch milliseconds), from the core."""
        return self.get_session_information(user_context).expiry

    def assert_claims(self, validators: list[AnyValidator], user_context: Context | None = None) -> None:
        """Raise ``InvalidClaimsError`` if the session fails any of ``validators``; a claim they find missing or
        stale is fetched first and merged into the access token (one core call then, none otherwise)."""
        run_sync(_assert_claims(self.recipe, self.state, validators, user_context_of(user_context)), self.recipe)

    def fetch_and_set_claim(self, claim: SessionClaim[Any], user_context: Context | None = None) -> None:
        """Fetch ``claim``'s value for this user and merge it into this session's access token."""
        run_sync(_fetch_and_set(self.recipe, self.state, claim, user_context_of(user_context)), self.recipe)

    def set_claim_value(self, claim: SessionClaim[Any], value: Any, user_context: Context | None = None) -> None:
        """Merge ``value`` into this session's access token as ``claim``'s (fetched now)."""
        self.merge_into_access_token_payload(
            claim.add_to_payload_({}, value, user_context_of(user_context)), user_context
        )

    def get_claim_value(self, claim: SessionClaim[Any], user_context: Context | None = None) -> Any:
        """``claim``'s value in this session's access token, or ``None`` (no core call)."""
        return self._claim_value(claim, user_context_of(user_context))

    def remove_claim(self, claim: SessionClaim[Any], user_context: Context | None = None) -> None:
        """Remove ``claim`` from this session's access token."""
        self.merge_into_access_token_payload(
            claim.remove_from_payload_by_merge_({}, user_context_of(user_context)), user_context
        )

    def get_faunadb_token(self, user_context: Context | None = None) -> str:
        """The session's FaunaDB secret (FaunaDB integration only)."""
        return run_sync(_faunadb_token(self.recipe, self.state, user_context_of(user_context)), self.recipe)


class AsyncSessionContainer(_SessionView):
    """A session in asynchronous code (FastAPI, Starlette, async Django views)."""

    async def revoke_session(self, user_context: Context | None = None) -> None:
        """Revoke this session at the core, and clear its tokens in the response changes (unless it was verified
        without a request)."""
        await run_async(_revoke(self.recipe, self.state, user_context_of(user_context)), self.recipe)

    async def revoke_other_sessions(self, user_context: Context | None = None) -> list[str]:
        """gatepass's "sign out everywhere else": revoke every other session of this user, in all tenants; the
        handles revoked. ``UnauthorisedError`` if this session no longer exists (then nothing is revoked)."""
        return await run_async(_revoke_others(self.recipe, self.state, user_context_of(user_context)), self.recipe)

    async def get_session_data_from_database(self, user_context: Context | None = None) -> dict[str, Any]:
        """The data stored with this session, from the core; ``UnauthorisedError`` if the session no longer exists."""
        info = await run_async(
            _information(self.recipe, self.state.session_handle, user_context_of(user_context)), self.recipe
        )
        return info.session_data_in_database

    async def update_session_data_in_database(self, data: dict[str, Any], user_context: Context | None = None) -> None:
        """Replace the data stored with this session; ``UnauthorisedError`` if the session no longer exists."""
        await run_async(
            _update_data(self.recipe, self.state.session_handle, data, user_context_of(user_context)), self.recipe
        )

    async def merge_into_access_token_payload(
        self, update: dict[str, Any], user_context: Context | None = None
    ) -> None:
        """Merge ``update`` into this session's access-token payload (a ``None`` value removes a claim) and re-sign
        the token with the same ``exp``; an expired token is not replaced, and the next refresh carries the
        payload. ``UnauthorisedError`` if the session no longer exists."""
        await run_async(_regenerate(self.recipe, self.state, update, user_context_of(user_context)), self.recipe)

    async def get_session_information(self, user_context: Context | None = None) -> SessionInformation:
        """This session's stored state, from the core; ``UnauthorisedError`` if the session no longer exists."""
        return await run_async(
            _information(self.recipe, self.state.session_handle, user_context_of(user_context)), self.recipe
        )

    async def get_time_created(self, user_context: Context | None = None) -> int:
        """When this session was created (epoch milliseconds), from the core."""
        return (await self.get_session_information(user_context)).time_created

    async def get_expiry(self, user_context: Context | None = None) -> int:
        """When this session expires (epoch milliseconds), from the core."""
        return (await self.get_session_information(user_context)).expiry

    async def assert_claims(self, validators: list[AnyValidator], user_context: Context | None = None) -> None:
        """Raise ``InvalidClaimsError`` if the session fails any of ``validators``; a claim they find missing or
        stale is fetched first and merged into the access token (one core call then, none otherwise)."""
        await run_async(_assert_claims(self.recipe, self.state, validators, user_context_of(user_context)), self.recipe)

    async def fetch_and_set_claim(self, claim: SessionClaim[Any], user_context: Context | None = None) -> None:
        """Fetch ``claim``'s value for this user and merge it into this session's access token."""
        await run_async(_fetch_and_set(self.recipe, self.state, claim, user_context_of(user_context)), self.recipe)

    async def set_claim_value(self, claim: SessionClaim[Any], value: Any, user_context: Context | None = None) -> None:
        """Merge ``value`` into this session's access token as ``claim``'s (fetched now)."""
        await self.merge_into_access_token_payload(
            claim.add_to_payload_({}, value, user_context_of(user_context)), user_context
        )

    async def get_claim_value(self, claim: SessionClaim[Any], user_context: Context | None = None) -> Any:
        """``claim``'s value in this session's access token, or ``None`` (no core call)."""
        return self._claim_value(claim, user_context_of(user_context))

    async def remove_claim(self, claim: SessionClaim[Any], user_context: Context | None = None) -> None:
        """Remove ``claim`` from this session's access token."""
        await self.merge_into_access_token_payload(
            claim.remove_from_payload_by_merge_({}, user_context_of(user_context)), user_context
        )

    async def get_faunadb_token(self, user_context: Context | None = None) -> str:
        """The session's FaunaDB secret (FaunaDB integration only)."""
        return await run_async(_faunadb_token(self.recipe, self.state, user_context_of(user_context)), self.recipe)
