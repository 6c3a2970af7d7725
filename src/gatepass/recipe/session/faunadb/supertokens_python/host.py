"""The FaunaDB rules (``lifecycle``) on the official supertokens-python SDK: its sessions as a ``SessionHost``, and
the overrides of its recipe functions that call the rules.

The official SDK's recipe functions are coroutines in both its modes (Flask and ``syncio`` run them on its own
event loop), so the rules' flows are driven by gatepass's async driver: Fauna queries go to a worker thread, and the
SDK's own calls (regenerate, revoke, session information) are ``Awaited`` steps. The SDK's functions are called
through its recipe-implementation object, so overrides a user installs after this one apply to our calls too.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from supertokens_python.recipe.session.exceptions import UnauthorisedError
from supertokens_python.recipe.session.interfaces import RecipeInterface, SessionContainer
from supertokens_python.types import RecipeUserId

from gatepass.errors import ConfigurationError
from gatepass.recipe.session.faunadb.lifecycle import FaunaLifecycle, FaunaSettings
from gatepass.recipe.session.steps import Awaited, CoreCall, Flow, run_async

T = TypeVar("T")
ATTRIBUTE = "gatepass_faunadb"  # where the recipe implementation keeps its override, for get_faunadb_token


@dataclass(frozen=True)
class OfficialSessionFacts:
    """What the rules read of an official ``SessionContainer``."""

    session_handle: str
    user_id: str
    access_token_payload: dict[str, Any] = field(repr=False)
    access_token_expiry_ms: int


def facts_of(session: SessionContainer) -> OfficialSessionFacts:
    """The session's facts; the access token's expiry in milliseconds is the front token's ``ate`` (the core's own
    figure; the JWT's ``exp`` is whole seconds)."""
    payload = session.get_access_token_payload()
    return OfficialSessionFacts(session.get_handle(), session.get_user_id(), payload, _expiry_ms(session, payload))


def _expiry_ms(session: SessionContainer, payload: dict[str, Any]) -> int:
    try:
        front = json.loads(base64.b64decode(session.get_all_session_tokens_dangerously()["frontToken"]))
        expiry = front["ate"]
    except (KeyError, TypeError, ValueError, binascii.Error):
        expiry = None
    if isinstance(expiry, int) and not isinstance(expiry, bool):
        return expiry
    exp = payload.get("exp")
    if isinstance(exp, int) and not isinstance(exp, bool):
        return exp * 1000
    raise ConfigurationError("the session's access token has no expiry the FaunaDB integration can read")


class _NoCore:
    """The plugin's flows make no gatepass core calls: the official SDK makes them (``Awaited`` steps)."""

    def core_sync(self, call: CoreCall) -> dict[str, Any]:
        raise TypeError("the supertokens-python plugin makes no gatepass core calls")

    async def core_async(self, call: CoreCall) -> dict[str, Any]:
        raise TypeError("the supertokens-python plugin makes no gatepass core calls")

    def refresh_jwks(self, kid: str | None) -> None:
        raise TypeError("the supertokens-python plugin makes no gatepass core calls")


NO_CORE = _NoCore()


async def drive(flow: Flow[T]) -> T:
    """Run one of the rules' flows to its result."""
    return await run_async(flow, NO_CORE)


def awaited(call: Callable[[], Awaitable[T]]) -> Flow[T]:
    """One call of the official SDK as a flow step."""
    result: T = yield Awaited(call)
    return result


class OfficialHost:
    """The official SDK as the rules' ``SessionHost``, for one call (it carries that call's ``user_context``)."""

    def __init__(self, override: OfficialFaunaOverride, user_context: dict[str, Any]) -> None:
        self.override = override
        self.user_context = user_context

    def facts(self, session: SessionContainer) -> OfficialSessionFacts:
        """See ``facts_of``."""
        return facts_of(session)

    def store(self, session: SessionContainer, update: dict[str, Any]) -> Flow[bool]:
        """The session's own ``merge_into_access_token_payload``: the core's regenerate, and the new access token
        on the session (and so on the response)."""

        async def merge() -> bool:
            try:
                await session.merge_into_access_token_payload(update, self.user_context)
            except UnauthorisedError:
                return False
            return True

        return awaited(merge)

    def revoke(self, session_handle: str) -> Flow[bool]:
        """The wrapped ``revoke_session``."""
        return awaited(lambda: self.override.original_revoke_session(session_handle, self.user_context))

    def stored_payloads(self, session_handle: str) -> Flow[tuple[dict[str, Any], dict[str, Any]] | None]:
        """The recipe's (outermost) ``get_session_information``."""
        info = yield from awaited(
            lambda: self.override.functions.get_session_information(session_handle, self.user_context)
        )
        return None if info is None else (info.custom_claims_in_access_token_payload, info.session_data_in_database)


class OfficialFaunaOverride:
    """The overrides, installed on the official recipe implementation by ``install``."""

    def __init__(self, settings: FaunaSettings, functions: RecipeInterface) -> None:
        self.settings = settings
        self.lifecycle = FaunaLifecycle(settings)
        self.functions = functions  # the recipe implementation: its attributes are the outermost functions
        self.original_create_new_session = functions.create_new_session
        self.original_refresh_session = functions.refresh_session
        self.original_revoke_session = functions.revoke_session
        self.original_revoke_all_sessions_for_user = functions.revoke_all_sessions_for_user
        self.original_revoke_multiple_sessions = functions.revoke_multiple_sessions

    def __repr__(self) -> str:
        return f"OfficialFaunaOverride({self.settings.credentials!r})"

    def install(self) -> RecipeInterface:
        """Replace create, refresh and the revocations on the recipe implementation, and return it."""
        functions = self.functions
        functions.create_new_session = self.create_new_session  # type: ignore[method-assign]
        functions.refresh_session = self.refresh_session  # type: ignore[method-assign]
        functions.revoke_session = self.revoke_session  # type: ignore[method-assign]
        functions.revoke_all_sessions_for_user = self.revoke_all_sessions_for_user  # type: ignore[method-assign]
        functions.revoke_multiple_sessions = self.revoke_multiple_sessions  # type: ignore[method-assign]
        setattr(functions, ATTRIBUTE, self)
        return functions

    def host(self, user_context: dict[str, Any]) -> OfficialHost:
        """The ``SessionHost`` for one call."""
        return OfficialHost(self, user_context)

    async def create_new_session(
        self,
        user_id: str,
        recipe_user_id: RecipeUserId,
        access_token_payload: dict[str, Any] | None,
        session_data_in_database: dict[str, Any] | None,
        disable_anti_csrf: bool | None,
        tenant_id: str,
        user_context: dict[str, Any],
    ) -> SessionContainer:
        """A session and its Fauna token, or neither (``lifecycle``)."""
        await drive(self.lifecycle.before_create(user_id))
        session = await self.original_create_new_session(
            user_id,
            recipe_user_id,
            access_token_payload,
            session_data_in_database,
            disable_anti_csrf,
            tenant_id,
            user_context,
        )
        await drive(self.lifecycle.after_create(self.host(user_context), session))
        return session

    async def refresh_session(
        self,
        refresh_token: str,
        anti_csrf_token: str | None,
        disable_anti_csrf: bool,
        user_context: dict[str, Any],
    ) -> SessionContainer:
        """Rotate the session first (a client is never stranded), then its Fauna token."""
        session = await self.original_refresh_session(refresh_token, anti_csrf_token, disable_anti_csrf, user_context)
        await drive(self.lifecycle.after_refresh(self.host(user_context), session))
        return session

    async def revoke_session(self, session_handle: str, user_context: dict[str, Any]) -> bool:
        """Revoke the session (sign-out, token theft, ``revoke_session``), then delete its Fauna token."""
        revocation = awaited(lambda: self.original_revoke_session(session_handle, user_context))
        return await drive(self.lifecycle.revoking(self.host(user_context), [session_handle], revocation))

    async def revoke_all_sessions_for_user(
        self,
        user_id: str,
        revoke_sessions_for_linked_accounts: bool,
        tenant_id: str,
        revoke_across_all_tenants: bool,
        user_context: dict[str, Any],
    ) -> list[str]:
        """Revoke the user's sessions, then delete their Fauna tokens."""
        handles = await self.functions.get_all_session_handles_for_user(
            user_id, revoke_sessions_for_linked_accounts, tenant_id, revoke_across_all_tenants, user_context
        )
        revocation = awaited(
            lambda: self.original_revoke_all_sessions_for_user(
                user_id, revoke_sessions_for_linked_accounts, tenant_id, revoke_across_all_tenants, user_context
            )
        )
        return await drive(self.lifecycle.revoking(self.host(user_context), handles, revocation))

    async def revoke_multiple_sessions(self, session_handles: list[str], user_context: dict[str, Any]) -> list[str]:
        """Revoke the sessions, then delete their Fauna tokens."""
        revocation = awaited(lambda: self.original_revoke_multiple_sessions(session_handles, user_context))
        return await drive(self.lifecycle.revoking(self.host(user_context), session_handles, revocation))

    async def get_faunadb_token(self, session: SessionContainer, user_context: dict[str, Any]) -> str | None:
        """The session's Fauna secret (``FaunaLifecycle.secret``); ``None`` if the session no longer exists."""
        return await drive(self.lifecycle.secret(self.host(user_context), session))


def installed_override(session: SessionContainer) -> OfficialFaunaOverride:
    """The FaunaDB override of the recipe ``session`` belongs to."""
    override = getattr(session.recipe_implementation, ATTRIBUTE, None)
    if not isinstance(override, OfficialFaunaOverride):
        raise ConfigurationError(
            "the FaunaDB override is not installed: pass override_functions(...) to supertokens_python's "
            "session.init(override=session.InputOverrideConfig(functions=...))"
        )
    return override
