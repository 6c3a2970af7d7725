"""The session recipe's handle-based operations as flows (see ``steps``): revoke, list, read, update, and
regenerate a session's access token with a merged payload. Each is one or two typed core calls."""

from __future__ import annotations

from typing import Any

from gatepass.protocol.cdi import (
    GetSessionInformation,
    NoSession,
    Regenerated,
    RegenerateSession,
    RemoveSessionsByHandle,
    RemoveSessionsForUser,
    SessionHandlesForUser,
    UpdateJwtData,
    UpdateSessionData,
)
from gatepass.recipe.session.flows import DEFAULT_TENANT, RecipeContext, attach, state_from_core
from gatepass.recipe.session.state import SessionInformation, SessionState
from gatepass.recipe.session.steps import Flow, ask
from gatepass.tokens.access_token import PROTECTED_CLAIMS


def revoke_session(ctx: RecipeContext, session_handle: str) -> Flow[bool]:
    """Revoke one session; ``True`` if it existed."""
    revoked = yield from ask(RemoveSessionsByHandle(handles=(session_handle,)))
    return len(revoked.handles) == 1


def revoke_multiple_sessions(ctx: RecipeContext, session_handles: list[str]) -> Flow[list[str]]:
    """Revoke these sessions; the handles that existed."""
    revoked = yield from ask(RemoveSessionsByHandle(handles=tuple(session_handles)))
    return list(revoked.handles)


def revoke_all_sessions_for_user(ctx: RecipeContext, user_id: str, tenant_id: str | None) -> Flow[list[str]]:
    """Revoke a user's sessions in one tenant (``None``: in all); the handles revoked."""
    revoked = yield from ask(RemoveSessionsForUser(user_id=user_id, tenant_id=tenant_id))
    return list(revoked.handles)


def get_all_session_handles_for_user(ctx: RecipeContext, user_id: str, tenant_id: str | None) -> Flow[list[str]]:
    """A user's live session handles in one tenant (``None``: in all)."""
    listed = yield from ask(SessionHandlesForUser(user_id=user_id, tenant_id=tenant_id))
    return list(listed.handles)


def get_session_information(ctx: RecipeContext, session_handle: str) -> Flow[SessionInformation | None]:
    """One session's stored state, or ``None`` if it does not exist."""
    reply = yield from ask(GetSessionInformation(session_handle=session_handle))
    if isinstance(reply, NoSession):
        return None
    return SessionInformation(
        session_handle=reply.session_handle,
        user_id=reply.user_id,
        recipe_user_id=reply.recipe_user_id,
        tenant_id=reply.tenant_id or DEFAULT_TENANT,
        session_data_in_database=reply.user_data_in_database,
        custom_claims_in_access_token_payload=reply.user_data_in_jwt,
        expiry=reply.expiry_ms,
        time_created=reply.time_created_ms,
    )


def update_session_data_in_database(ctx: RecipeContext, session_handle: str, data: dict[str, Any]) -> Flow[bool]:
    """Replace the session's data in the database; ``False`` if it does not exist."""
    reply = yield from ask(UpdateSessionData(session_handle=session_handle, user_data_in_database=data))
    return not isinstance(reply, NoSession)


def merge_into_access_token_payload(ctx: RecipeContext, session_handle: str, update: dict[str, Any]) -> Flow[bool]:
    """Merge ``update`` into the payload the session's next access token carries (``None`` values remove)."""
    info = yield from get_session_information(ctx, session_handle)
    if info is None:
        return False
    payload = merged_payload(info.custom_claims_in_access_token_payload, update)
    reply = yield from ask(UpdateJwtData(session_handle=session_handle, user_data_in_jwt=payload))
    return not isinstance(reply, NoSession)


def merged_payload(current: dict[str, Any], update: dict[str, Any]) -> dict[str, Any]:
    """``current``'s custom claims with ``update`` applied (a ``None`` value removes the claim)."""
    merged = {k: v for k, v in current.items() if k not in PROTECTED_CLAIMS}
    for key, value in update.items():
        if key in PROTECTED_CLAIMS:
            continue
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged


def merge_into_session_payload(ctx: RecipeContext, state: SessionState, update: dict[str, Any]) -> Flow[bool]:
    """Regenerate the session's access token with a merged payload (same identity and ``exp``); ``False`` when the
    session no longer exists."""
    payload = merged_payload(state.access_token_payload, update)
    reply = yield from ask(RegenerateSession(access_token=state.access_token, user_data_in_jwt=payload))
    if not isinstance(reply, Regenerated):
        return False
    if reply.access_token is not None:
        fresh = state_from_core(reply, reply.access_token, state.tenant_id)
        state.access_token = fresh.access_token
        state.access_token_payload = fresh.access_token_payload
        state.access_token_expiry_ms = fresh.access_token_expiry_ms
        state.browser_session = fresh.browser_session
        state.access_token_updated = True
        if state.transfer_method is not None:
            attach(ctx, state, state.transfer_method)
    else:  # the token had expired: the payload is stored and the next refresh carries it
        protected = {k: v for k, v in state.access_token_payload.items() if k in PROTECTED_CLAIMS}
        state.access_token_payload = {**protected, **reply.session.user_data_in_jwt}
    return True
