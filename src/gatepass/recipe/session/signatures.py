"""The signatures of the recipe's overridable functions and APIs, as callable protocols.

``RecipeInterface`` and ``APIInterface`` (in ``recipe``) hold one callable per operation, typed by these, so an
override that wraps the original (upstream's pattern) is checked by mypy: assign a function with the same keyword
arguments and return type. Every callable returns a flow (see ``steps``), so one override serves sync and async
code. Expected refusals are returned as values (``outcomes.Refusal``), never raised.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from gatepass.protocol.cdi import RevokedSession, UserSession
from gatepass.recipe.session.http_types import RequestView, ResponseChanges
from gatepass.recipe.session.lifetime import SessionLifetime
from gatepass.recipe.session.outcomes import ClaimsValidationResult, Refusal
from gatepass.recipe.session.state import AnyValidator, SessionInformation, SessionState, VerifyOptions
from gatepass.recipe.session.steps import Flow

JsonObject = dict[str, Any]


def user_context_of(user_context: JsonObject | None) -> JsonObject:
    """Upstream's rule for every public ``user_context``: ``None`` is a fresh ``{}``; a dict is passed through as
    is (not copied), so what an override puts in it reaches the caller."""
    return {} if user_context is None else user_context


@dataclass
class ApiResult:
    """A framework-neutral answer: status, JSON body and the response changes (cookies, headers); ``refusal`` is
    the outcome it answers, if any (the refresh API's rate limit counts them)."""

    status: int
    body: JsonObject
    changes: ResponseChanges
    refusal: Refusal | None = None


class CreateNewSession(Protocol):
    """``create_new_session``: a new session for ``user_id`` in ``tenant_id``. ``request`` (``None``: none)
    chooses how the tokens travel, and a session it already carried is revoked; ``disable_anti_csrf`` creates it
    without an anti-CSRF token even with ``VIA_TOKEN`` (as upstream's). ``lifetime`` (gatepass's) is passed only
    when the caller gave one, so an override written without it keeps working for every other call."""

    def __call__(
        self,
        *,
        request: RequestView | None,
        tenant_id: str,
        user_id: str,
        access_token_payload: JsonObject,
        session_data_in_database: JsonObject,
        disable_anti_csrf: bool = False,
        user_context: JsonObject,
        lifetime: SessionLifetime | None = None,
    ) -> Flow[SessionState]: ...


class GetSession(Protocol):
    """``get_session``: the request's session, checked as ``options`` say; a refusal, or ``None`` when the
    request carries none and none is required."""

    def __call__(
        self, *, request: RequestView, options: VerifyOptions, user_context: JsonObject
    ) -> Flow[SessionState | Refusal | None]: ...


class GetSessionWithoutRequest(Protocol):
    """``get_session_without_request``: the session ``access_token`` stands for; a refusal, or ``None`` when
    none is required and the token is empty or not an access token."""

    def __call__(
        self,
        *,
        access_token: str,
        anti_csrf_token: str | None,
        anti_csrf_check: bool,
        session_required: bool,
        check_database: bool,
        user_context: JsonObject,
    ) -> Flow[SessionState | Refusal | None]: ...


class RefreshSession(Protocol):
    """``refresh_session``: the session with the request's refresh token rotated, or a refusal.
    ``disable_anti_csrf`` (``None``: by how the token came, as the refresh API does) says whether the core skips
    the anti-CSRF check that ``VIA_TOKEN`` asks for (upstream's option of the same name)."""

    def __call__(
        self, *, request: RequestView, disable_anti_csrf: bool | None = None, user_context: JsonObject
    ) -> Flow[SessionState | Refusal]: ...


class RevokeSession(Protocol):
    """``revoke_session``: ``True`` if the session existed."""

    def __call__(self, *, session_handle: str, user_context: JsonObject) -> Flow[bool]: ...


class RevokeMultipleSessions(Protocol):
    """``revoke_multiple_sessions``: the handles of the sessions that existed."""

    def __call__(self, *, session_handles: list[str], user_context: JsonObject) -> Flow[list[str]]: ...


class SessionsOfUser(Protocol):
    """``revoke_all_sessions_for_user`` and ``get_all_session_handles_for_user`` (``tenant_id=None``: all)."""

    def __call__(self, *, user_id: str, tenant_id: str | None, user_context: JsonObject) -> Flow[list[str]]: ...


class GetUserSessions(Protocol):
    """``get_user_sessions`` (gatepass's): a user's live sessions with their activity, oldest first
    (``tenant_id=None``: in all tenants)."""

    def __call__(self, *, user_id: str, tenant_id: str | None, user_context: JsonObject) -> Flow[list[UserSession]]: ...


class RevokeOtherSessions(Protocol):
    """``revoke_other_sessions`` (gatepass's): revoke the sessions of ``session_handle``'s user but that one
    (``tenant_id=None``: in all tenants); what was revoked, or ``None`` if that session does not exist."""

    def __call__(
        self, *, session_handle: str, tenant_id: str | None, user_context: JsonObject
    ) -> Flow[list[RevokedSession] | None]: ...


class GetSessionInformation(Protocol):
    """``get_session_information``: one session's stored state, or ``None`` if it does not exist."""

    def __call__(self, *, session_handle: str, user_context: JsonObject) -> Flow[SessionInformation | None]: ...


class UpdateSessionData(Protocol):
    """``update_session_data_in_database``: replace the session's stored data; ``False`` if it does not exist."""

    def __call__(self, *, session_handle: str, data: JsonObject, user_context: JsonObject) -> Flow[bool]: ...


class MergeIntoAccessTokenPayload(Protocol):
    """``merge_into_access_token_payload``: merge ``update`` into the payload of the session's next access
    token (a ``None`` value removes a claim); ``False`` if the session does not exist."""

    def __call__(self, *, session_handle: str, update: JsonObject, user_context: JsonObject) -> Flow[bool]: ...


class RegenerateAccessToken(Protocol):
    """Re-sign ``state``'s access token with ``update`` merged in; ``False`` when the session no longer exists."""

    def __call__(self, *, state: SessionState, update: JsonObject, user_context: JsonObject) -> Flow[bool]: ...


class GetFaunadbToken(Protocol):
    """The session's Fauna secret (the FaunaDB integration installs it), or ``Unauthorised`` if the session ended."""

    def __call__(self, *, state: SessionState, user_context: JsonObject) -> Flow[str | Refusal]: ...


class GetGlobalClaimValidators(Protocol):
    """``get_global_claim_validators``: the validators every ``get_session`` of this user runs (by default, those
    other recipes and ``session.init(claim_validators=...)`` added)."""

    def __call__(
        self,
        *,
        tenant_id: str,
        user_id: str,
        recipe_user_id: str,
        claim_validators_added_by_other_recipes: list[AnyValidator],
        user_context: JsonObject,
    ) -> Flow[list[AnyValidator]]: ...


class ValidateClaims(Protocol):
    """``validate_claims``: refetch the claims the validators ask for, then validate the payload (see
    ``claim_flows``); the failures, and the changed payload to store, if any."""

    def __call__(
        self,
        *,
        user_id: str,
        recipe_user_id: str,
        access_token_payload: JsonObject,
        claim_validators: list[AnyValidator],
        user_context: JsonObject,
    ) -> Flow[ClaimsValidationResult]: ...


class ApiCall(Protocol):
    """An API the SDK serves: ``refresh_post``, ``signout_post``, ``jwks_get`` and
    ``open_id_discovery_configuration_get``."""

    def __call__(self, *, request: RequestView, user_context: JsonObject) -> Flow[ApiResult]: ...
