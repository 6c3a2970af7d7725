"""The session object handed to application code: ``SessionContainer`` (sync) and ``AsyncSessionContainer``.

Both run the same flows; only the driver differs. Reads of the verified token (user id, handle, payload) are
plain attributes; anything that asks the core is a method (awaitable on the async container).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gatepass.recipe.session import transport
from gatepass.recipe.session.claim_flows import assert_claims, build
from gatepass.recipe.session.claims.base import SessionClaim
from gatepass.recipe.session.errors import InvalidClaimsError, UnauthorisedError, error_for
from gatepass.recipe.session.http_types import ResponseChanges
from gatepass.recipe.session.state import AnyValidator, SessionInformation, SessionState
from gatepass.recipe.session.steps import Flow, run_async, run_sync

if TYPE_CHECKING:
    from gatepass.recipe.session.recipe import SessionRecipe


def _information(recipe: SessionRecipe, handle: str) -> Flow[SessionInformation]:
    info = yield from recipe.functions.get_session_information(session_handle=handle)
    if info is None:
        raise UnauthorisedError("Session does not exist anymore.")
    return info


def _revoke(recipe: SessionRecipe, state: SessionState) -> Flow[None]:
    yield from recipe.functions.revoke_session(session_handle=state.session_handle)
    if state.transfer_method is not None:
        transport.clear_tokens(state.changes, recipe.config, state.transfer_method)


def _faunadb_token(recipe: SessionRecipe, state: SessionState) -> Flow[str]:
    token = yield from recipe.functions.get_faunadb_token(state=state)
    if not isinstance(token, str):
        raise error_for(token)
    return token


def _regenerate(recipe: SessionRecipe, state: SessionState, update: dict[str, Any]) -> Flow[None]:
    if not (yield from recipe.functions.regenerate_access_token(state=state, update=update)):
        raise UnauthorisedError("Session does not exist anymore.")


def _assert_claims(recipe: SessionRecipe, state: SessionState, validators: list[AnyValidator]) -> Flow[None]:
    refusal = yield from assert_claims(recipe.functions, state, validators, {})
    if refusal is not None:
        raise InvalidClaimsError(refusal.failures)


def _fetch_and_set(recipe: SessionRecipe, state: SessionState, claim: SessionClaim[Any]) -> Flow[None]:
    payload = state.access_token_payload
    update = yield from build(claim, state.user_id, state.user_id, state.tenant_id, payload, {})
    yield from _regenerate(recipe, state, update)


def _update_data(recipe: SessionRecipe, handle: str, data: dict[str, Any]) -> Flow[None]:
    updated = yield from recipe.functions.update_session_data_in_database(session_handle=handle, data=data)
    if not updated:
        raise UnauthorisedError("Session does not exist anymore.")


class _SessionView:
    def __init__(self, recipe: SessionRecipe, state: SessionState) -> None:
        self.recipe = recipe
        self.state = state

    def __repr__(self) -> str:
        return f"{type(self).__name__}(handle={self.state.session_handle!r}, user_id={self.state.user_id!r})"

    def get_user_id(self) -> str:
        return self.state.user_id

    def get_recipe_user_id(self) -> str:
        return self.state.user_id

    def get_handle(self) -> str:
        return self.state.session_handle

    def get_tenant_id(self) -> str:
        return self.state.tenant_id

    def get_access_token(self) -> str:
        return self.state.access_token

    def get_access_token_payload(self) -> dict[str, Any]:
        return dict(self.state.access_token_payload)

    def get_access_token_expiry(self) -> int:
        """When the current access token expires (epoch milliseconds)."""
        return self.state.access_token_expiry_ms

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

    def _claim_value(self, claim: SessionClaim[Any]) -> Any:
        return claim.get_value_from_payload(self.state.access_token_payload)

    @property
    def response_changes(self) -> ResponseChanges:
        """Cookies and headers this session needs on the response (applied by the framework adapters)."""
        return self.state.changes


class SessionContainer(_SessionView):
    """A session in synchronous code (Flask, sync Django views, scripts)."""

    def revoke_session(self) -> None:
        """Revoke this session at the core, and clear its tokens in the response changes (unless it was verified
        without a request)."""
        run_sync(_revoke(self.recipe, self.state), self.recipe)

    def get_session_data_from_database(self) -> dict[str, Any]:
        """The data stored with this session, from the core; ``UnauthorisedError`` if the session no longer exists."""
        return run_sync(_information(self.recipe, self.state.session_handle), self.recipe).session_data_in_database

    def update_session_data_in_database(self, data: dict[str, Any]) -> None:
        """Replace the data stored with this session; ``UnauthorisedError`` if the session no longer exists."""
        run_sync(_update_data(self.recipe, self.state.session_handle, data), self.recipe)

    def merge_into_access_token_payload(self, update: dict[str, Any]) -> None:
        """Merge ``update`` into this session's access-token payload (a ``None`` value removes a claim) and re-sign
        the token with the same ``exp``; an expired token is not replaced, and the next refresh carries the
        payload. ``UnauthorisedError`` if the session no longer exists."""
        run_sync(_regenerate(self.recipe, self.state, update), self.recipe)

    def get_session_information(self) -> SessionInformation:
        """This session's stored state, from the core; ``UnauthorisedError`` if the session no longer exists."""
        return run_sync(_information(self.recipe, self.state.session_handle), self.recipe)

    def get_time_created(self) -> int:
        """When this session was created (epoch milliseconds), from the core."""
        return self.get_session_information().time_created

    def get_expiry(self) -> int:
        """When this session expires (epoch milliseconds), from the core."""
        return self.get_session_information().expiry

    def assert_claims(self, validators: list[AnyValidator]) -> None:
        """Raise ``InvalidClaimsError`` if the session fails any of ``validators``; a claim they find missing or
        stale is fetched first and merged into the access token (one core call then, none otherwise)."""
        run_sync(_assert_claims(self.recipe, self.state, validators), self.recipe)

    def fetch_and_set_claim(self, claim: SessionClaim[Any]) -> None:
        """Fetch ``claim``'s value for this user and merge it into this session's access token."""
        run_sync(_fetch_and_set(self.recipe, self.state, claim), self.recipe)

    def set_claim_value(self, claim: SessionClaim[Any], value: Any) -> None:
        """Merge ``value`` into this session's access token as ``claim``'s (fetched now)."""
        self.merge_into_access_token_payload(claim.add_to_payload_({}, value))

    def get_claim_value(self, claim: SessionClaim[Any]) -> Any:
        """``claim``'s value in this session's access token, or ``None`` (no core call)."""
        return self._claim_value(claim)

    def remove_claim(self, claim: SessionClaim[Any]) -> None:
        """Remove ``claim`` from this session's access token."""
        self.merge_into_access_token_payload(claim.remove_from_payload_by_merge_({}))

    def get_faunadb_token(self) -> str:
        """The session's FaunaDB secret (FaunaDB integration only)."""
        return run_sync(_faunadb_token(self.recipe, self.state), self.recipe)


class AsyncSessionContainer(_SessionView):
    """A session in asynchronous code (FastAPI, Starlette, async Django views)."""

    async def revoke_session(self) -> None:
        """Revoke this session at the core, and clear its tokens in the response changes (unless it was verified
        without a request)."""
        await run_async(_revoke(self.recipe, self.state), self.recipe)

    async def get_session_data_from_database(self) -> dict[str, Any]:
        """The data stored with this session, from the core; ``UnauthorisedError`` if the session no longer exists."""
        info = await run_async(_information(self.recipe, self.state.session_handle), self.recipe)
        return info.session_data_in_database

    async def update_session_data_in_database(self, data: dict[str, Any]) -> None:
        """Replace the data stored with this session; ``UnauthorisedError`` if the session no longer exists."""
        await run_async(_update_data(self.recipe, self.state.session_handle, data), self.recipe)

    async def merge_into_access_token_payload(self, update: dict[str, Any]) -> None:
        """Merge ``update`` into this session's access-token payload (a ``None`` value removes a claim) and re-sign
        the token with the same ``exp``; an expired token is not replaced, and the next refresh carries the
        payload. ``UnauthorisedError`` if the session no longer exists."""
        await run_async(_regenerate(self.recipe, self.state, update), self.recipe)

    async def get_session_information(self) -> SessionInformation:
        """This session's stored state, from the core; ``UnauthorisedError`` if the session no longer exists."""
        return await run_async(_information(self.recipe, self.state.session_handle), self.recipe)

    async def get_time_created(self) -> int:
        """When this session was created (epoch milliseconds), from the core."""
        return (await self.get_session_information()).time_created

    async def get_expiry(self) -> int:
        """When this session expires (epoch milliseconds), from the core."""
        return (await self.get_session_information()).expiry

    async def assert_claims(self, validators: list[AnyValidator]) -> None:
        """Raise ``InvalidClaimsError`` if the session fails any of ``validators``; a claim they find missing or
        stale is fetched first and merged into the access token (one core call then, none otherwise)."""
        await run_async(_assert_claims(self.recipe, self.state, validators), self.recipe)

    async def fetch_and_set_claim(self, claim: SessionClaim[Any]) -> None:
        """Fetch ``claim``'s value for this user and merge it into this session's access token."""
        await run_async(_fetch_and_set(self.recipe, self.state, claim), self.recipe)

    async def set_claim_value(self, claim: SessionClaim[Any], value: Any) -> None:
        """Merge ``value`` into this session's access token as ``claim``'s (fetched now)."""
        await self.merge_into_access_token_payload(claim.add_to_payload_({}, value))

    async def get_claim_value(self, claim: SessionClaim[Any]) -> Any:
        """``claim``'s value in this session's access token, or ``None`` (no core call)."""
        return self._claim_value(claim)

    async def remove_claim(self, claim: SessionClaim[Any]) -> None:
        """Remove ``claim`` from this session's access token."""
        await self.merge_into_access_token_payload(claim.remove_from_payload_by_merge_({}))

    async def get_faunadb_token(self) -> str:
        """The session's FaunaDB secret (FaunaDB integration only)."""
        return await run_async(_faunadb_token(self.recipe, self.state), self.recipe)
