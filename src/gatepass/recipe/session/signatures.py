"""The signatures of the recipe's overridable functions and APIs, as callable protocols.

``RecipeInterface`` and ``APIInterface`` (in ``recipe``) hold one callable per operation, typed by these, so an
override that wraps the original (upstream's pattern) is checked by mypy: assign a function with the same keyword
arguments and return type. Every callable returns a flow (see ``steps``), so one override serves sync and async
code. Expected refusals are returned as values (``outcomes.Refusal``), never raised.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from gatepass.recipe.session.http_types import RequestView, ResponseChanges
from gatepass.recipe.session.outcomes import Refusal
from gatepass.recipe.session.state import SessionInformation, SessionState, VerifyOptions
from gatepass.recipe.session.steps import Flow

JsonObject = dict[str, Any]


@dataclass
class ApiResult:
    """A framework-neutral answer: status, JSON body and the response changes (cookies, headers); ``refusal`` is
    the outcome it answers, if any (the refresh API's rate limit counts them)."""

    status: int
    body: JsonObject
    changes: ResponseChanges
    refusal: Refusal | None = None


class CreateNewSession(Protocol):
    def __call__(
        self,
        *,
        request: RequestView | None,
        tenant_id: str,
        user_id: str,
        access_token_payload: JsonObject,
        session_data_in_database: JsonObject,
    ) -> Flow[SessionState]: ...


class GetSession(Protocol):
    def __call__(self, *, request: RequestView, options: VerifyOptions) -> Flow[SessionState | Refusal | None]: ...


class GetSessionWithoutRequest(Protocol):
    def __call__(
        self,
        *,
        access_token: str,
        anti_csrf_token: str | None,
        anti_csrf_check: bool,
        session_required: bool,
        check_database: bool,
    ) -> Flow[SessionState | Refusal | None]: ...


class RefreshSession(Protocol):
    def __call__(self, *, request: RequestView) -> Flow[SessionState | Refusal]: ...


class RevokeSession(Protocol):
    def __call__(self, *, session_handle: str) -> Flow[bool]: ...


class RevokeMultipleSessions(Protocol):
    def __call__(self, *, session_handles: list[str]) -> Flow[list[str]]: ...


class SessionsOfUser(Protocol):
    """``revoke_all_sessions_for_user`` and ``get_all_session_handles_for_user`` (``tenant_id=None``: all)."""

    def __call__(self, *, user_id: str, tenant_id: str | None) -> Flow[list[str]]: ...


class GetSessionInformation(Protocol):
    def __call__(self, *, session_handle: str) -> Flow[SessionInformation | None]: ...


class UpdateSessionData(Protocol):
    def __call__(self, *, session_handle: str, data: JsonObject) -> Flow[bool]: ...


class MergeIntoAccessTokenPayload(Protocol):
    def __call__(self, *, session_handle: str, update: JsonObject) -> Flow[bool]: ...


class RegenerateAccessToken(Protocol):
    """Re-sign ``state``'s access token with ``update`` merged in; ``False`` when the session no longer exists."""

    def __call__(self, *, state: SessionState, update: JsonObject) -> Flow[bool]: ...


class GetFaunadbToken(Protocol):
    """The session's Fauna secret (the FaunaDB integration installs it), or ``Unauthorised`` if the session ended."""

    def __call__(self, *, state: SessionState) -> Flow[str | Refusal]: ...


class ApiCall(Protocol):
    """``refresh_post`` and ``signout_post``."""

    def __call__(self, *, request: RequestView) -> Flow[ApiResult]: ...
