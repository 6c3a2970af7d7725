"""The session recipe for synchronous code (Flask, sync Django views, scripts). Generated from ``asyncio.py`` by
``scripts/unasync.py``; edit that file, then regenerate."""

from __future__ import annotations

from typing import Any

from gatepass.protocol.cdi import UserSession
from gatepass.recipe.instance import Gatepass, get_instance
from gatepass.recipe.session import claim_flows, claim_handles, transport
from gatepass.recipe.session.claims.base import GetClaimValueOkResult, SessionClaim, SessionDoesNotExistError
from gatepass.recipe.session.container import SessionContainer
from gatepass.recipe.session.errors import raising, raising_required
from gatepass.recipe.session.framework.base import adapter_for
from gatepass.recipe.session.lifetime import SessionLifetime
from gatepass.recipe.session.outcomes import ClaimsValidationResult
from gatepass.recipe.session.signatures import user_context_of
from gatepass.recipe.session.state import SessionInformation, VerifyOptions
from gatepass.recipe.session.steps import run_sync

DEFAULT_TENANT = "public"


def create_new_session(
    request: Any,
    tenant_id: str,
    user_id: str,
    access_token_payload: dict[str, Any] | None = None,
    session_data_in_database: dict[str, Any] | None = None,
    user_context: dict[str, Any] | None = None,
    *,
    lifetime: SessionLifetime | None = None,
    gatepass: Gatepass | None = None,
) -> SessionContainer:
    """Create a session for ``user_id``; its tokens go out on the response (cookies or headers per st-auth-mode).
    ``user_context`` (upstream's: ``None`` is a fresh ``{}``) reaches every override and claim this call runs.
    ``lifetime`` (gatepass's): this session's own inactivity timeout, absolute lifetime and browser-session cookies
    ("remember me" off: ``SessionLifetime.not_remembered()``)."""
    gp = gatepass or get_instance()
    adapter = adapter_for(gp.framework)
    flow = gp.session.new_session(
        request=adapter.view(request),
        tenant_id=tenant_id,
        user_id=user_id,
        access_token_payload=access_token_payload or {},
        session_data_in_database=session_data_in_database or {},
        user_context=user_context_of(user_context),
        lifetime=lifetime,
    )
    state = run_sync(flow, gp.session)
    adapter.remember(request, state)
    return SessionContainer(gp.session, state)


def get_session(
    request: Any,
    session_required: bool = True,
    anti_csrf_check: bool | None = None,
    check_database: bool = False,
    override_global_claim_validators: claim_flows.Override | None = None,
    user_context: dict[str, Any] | None = None,
    *,
    gatepass: Gatepass | None = None,
) -> SessionContainer | None:
    """The request's session, verified as the arguments say (its claims by the global validators, or by
    ``override_global_claim_validators(validators, session, user_context)``'s), or ``None`` when
    ``session_required`` is false and the request carries none. A refusal is raised (``UnauthorisedError``,
    ``TryRefreshTokenError``, ``InvalidClaimsError``)."""
    gp = gatepass or get_instance()
    adapter = adapter_for(gp.framework)
    options = VerifyOptions(session_required, anti_csrf_check, check_database, override_global_claim_validators)
    flow = gp.session.functions.get_session(
        request=adapter.view(request), options=options, user_context=user_context_of(user_context)
    )
    state = run_sync(raising(flow), gp.session)
    if state is None:
        return None
    adapter.remember(request, state)
    return SessionContainer(gp.session, state)


def refresh_session(
    request: Any, user_context: dict[str, Any] | None = None, *, gatepass: Gatepass | None = None
) -> SessionContainer:
    """Rotate the request's refresh token; the new tokens go out on the response the way it came. A refusal
    is raised (``UnauthorisedError``, ``TokenTheftError`` or a duplicate-cookies error)."""
    gp = gatepass or get_instance()
    adapter = adapter_for(gp.framework)
    flow = gp.session.functions.refresh_session(
        request=adapter.view(request), user_context=user_context_of(user_context)
    )
    state = run_sync(raising_required(flow), gp.session)
    adapter.remember(request, state)
    return SessionContainer(gp.session, state)


def create_new_session_without_request_response(
    tenant_id: str,
    user_id: str,
    access_token_payload: dict[str, Any] | None = None,
    session_data_in_database: dict[str, Any] | None = None,
    disable_anti_csrf: bool = False,
    user_context: dict[str, Any] | None = None,
    *,
    lifetime: SessionLifetime | None = None,
    gatepass: Gatepass | None = None,
) -> SessionContainer:
    """Create a session for ``user_id`` without a request or response: the caller delivers its tokens
    (``get_all_session_tokens_dangerously``, whose ``antiCsrfToken`` is set with ``VIA_TOKEN`` unless
    ``disable_anti_csrf``). ``lifetime`` as for ``create_new_session`` (its browser-session flag applies to the
    cookies of later refreshes through the SDK's API)."""
    gp = gatepass or get_instance()
    flow = gp.session.new_session(
        request=None,
        tenant_id=tenant_id,
        user_id=user_id,
        access_token_payload=access_token_payload or {},
        session_data_in_database=session_data_in_database or {},
        user_context=user_context_of(user_context),
        disable_anti_csrf=disable_anti_csrf,
        lifetime=lifetime,
    )
    return SessionContainer(gp.session, run_sync(flow, gp.session))


def get_session_without_request_response(
    access_token: str,
    anti_csrf_token: str | None = None,
    anti_csrf_check: bool = False,
    session_required: bool = True,
    check_database: bool = False,
    override_global_claim_validators: claim_flows.Override | None = None,
    user_context: dict[str, Any] | None = None,
    *,
    gatepass: Gatepass | None = None,
) -> SessionContainer | None:
    """The session ``access_token`` stands for, verified without a request, its claims checked as in
    ``get_session`` (a refetched claim re-signs the session's token: ``get_all_session_tokens_dangerously``
    gives it); ``None`` when ``session_required`` is false and the token is empty or not an access token. A
    refusal is raised as in ``get_session``."""
    gp = gatepass or get_instance()
    context = user_context_of(user_context)
    verification = gp.session.functions.get_session_without_request(
        access_token=access_token,
        anti_csrf_token=anti_csrf_token,
        anti_csrf_check=anti_csrf_check,
        session_required=session_required,
        check_database=check_database,
        user_context=context,
    )
    added = gp.session.get_claim_validators_added_by_other_recipes()
    flow = claim_flows.checked(gp.session.functions, added, verification, override_global_claim_validators, context)
    state = run_sync(raising(flow), gp.session)
    return None if state is None else SessionContainer(gp.session, state)


def refresh_session_without_request_response(
    refresh_token: str,
    disable_anti_csrf: bool = False,
    anti_csrf_token: str | None = None,
    user_context: dict[str, Any] | None = None,
    *,
    gatepass: Gatepass | None = None,
) -> SessionContainer:
    """Rotate ``refresh_token`` without a request or response: the caller delivers the new tokens. With
    ``VIA_TOKEN`` the core checks ``anti_csrf_token`` unless ``disable_anti_csrf`` (upstream's options, in its
    order). A refusal is raised as in ``refresh_session``."""
    gp = gatepass or get_instance()
    view = transport.refresh_request_for(refresh_token, anti_csrf_token, gp.session.config)
    flow = gp.session.functions.refresh_session(
        request=view, disable_anti_csrf=disable_anti_csrf, user_context=user_context_of(user_context)
    )
    return SessionContainer(gp.session, run_sync(raising_required(flow), gp.session))


def revoke_session(
    session_handle: str, user_context: dict[str, Any] | None = None, *, gatepass: Gatepass | None = None
) -> bool:
    """Revoke one session; ``True`` if it existed."""
    gp = gatepass or get_instance()
    flow = gp.session.functions.revoke_session(
        session_handle=session_handle, user_context=user_context_of(user_context)
    )
    return run_sync(flow, gp.session)


def revoke_all_sessions_for_user(
    user_id: str,
    revoke_sessions_for_linked_accounts: bool = True,
    tenant_id: str | None = None,
    user_context: dict[str, Any] | None = None,
    *,
    gatepass: Gatepass | None = None,
) -> list[str]:
    """Revoke a user's sessions in one tenant (``None``, the default: in all); the handles revoked.
    ``revoke_sessions_for_linked_accounts`` is upstream's, kept for its argument order: gatepass has no account
    linking, so a user's sessions are all there is."""
    gp = gatepass or get_instance()
    flow = gp.session.functions.revoke_all_sessions_for_user(
        user_id=user_id, tenant_id=tenant_id, user_context=user_context_of(user_context)
    )
    return run_sync(flow, gp.session)


def revoke_multiple_sessions(
    session_handles: list[str], user_context: dict[str, Any] | None = None, *, gatepass: Gatepass | None = None
) -> list[str]:
    """Revoke these sessions; the handles of those that existed."""
    gp = gatepass or get_instance()
    flow = gp.session.functions.revoke_multiple_sessions(
        session_handles=session_handles, user_context=user_context_of(user_context)
    )
    return run_sync(flow, gp.session)


def get_all_session_handles_for_user(
    user_id: str,
    fetch_sessions_for_linked_accounts: bool = True,
    tenant_id: str | None = None,
    user_context: dict[str, Any] | None = None,
    *,
    gatepass: Gatepass | None = None,
) -> list[str]:
    """A user's live session handles in one tenant (``None``, the default: in all).
    ``fetch_sessions_for_linked_accounts`` is upstream's, kept for its argument order (no account linking here)."""
    gp = gatepass or get_instance()
    flow = gp.session.functions.get_all_session_handles_for_user(
        user_id=user_id, tenant_id=tenant_id, user_context=user_context_of(user_context)
    )
    return run_sync(flow, gp.session)


def get_user_sessions(
    user_id: str,
    tenant_id: str | None = None,
    user_context: dict[str, Any] | None = None,
    *,
    gatepass: Gatepass | None = None,
) -> list[UserSession]:
    """gatepass's "your devices": a user's live sessions in one tenant (``None``, the default: in all), oldest
    first, with when each was created and last used, when it ends, and (if ``session.init(client_info=...)`` is on)
    where from. Nothing a session stores is in them."""
    gp = gatepass or get_instance()
    flow = gp.session.functions.get_user_sessions(
        user_id=user_id, tenant_id=tenant_id, user_context=user_context_of(user_context)
    )
    return run_sync(flow, gp.session)


def revoke_other_sessions(
    session_handle: str,
    tenant_id: str | None = None,
    user_context: dict[str, Any] | None = None,
    *,
    gatepass: Gatepass | None = None,
) -> list[str] | None:
    """gatepass's: revoke every session of ``session_handle``'s user but that one ("sign out everywhere else"), in
    one tenant (``None``, the default: in all), in one transaction; the handles revoked, or ``None`` (nothing
    revoked) if that session does not exist."""
    gp = gatepass or get_instance()
    flow = gp.session.functions.revoke_other_sessions(
        session_handle=session_handle, tenant_id=tenant_id, user_context=user_context_of(user_context)
    )
    revoked = run_sync(flow, gp.session)
    return None if revoked is None else [session.session_handle for session in revoked]


def get_session_information(
    session_handle: str, user_context: dict[str, Any] | None = None, *, gatepass: Gatepass | None = None
) -> SessionInformation | None:
    """One session's stored state, or ``None`` if it does not exist."""
    gp = gatepass or get_instance()
    flow = gp.session.functions.get_session_information(
        session_handle=session_handle, user_context=user_context_of(user_context)
    )
    return run_sync(flow, gp.session)


def update_session_data_in_database(
    session_handle: str,
    new_session_data: dict[str, Any],
    user_context: dict[str, Any] | None = None,
    *,
    gatepass: Gatepass | None = None,
) -> bool:
    """Replace the data stored with a session; ``False`` if the session does not exist."""
    gp = gatepass or get_instance()
    flow = gp.session.functions.update_session_data_in_database(
        session_handle=session_handle, data=new_session_data, user_context=user_context_of(user_context)
    )
    return run_sync(flow, gp.session)


def merge_into_access_token_payload(
    session_handle: str,
    new_access_token_payload: dict[str, Any],
    user_context: dict[str, Any] | None = None,
    *,
    gatepass: Gatepass | None = None,
) -> bool:
    """Merge ``new_access_token_payload`` into the payload of the session's next access token (a ``None`` value
    removes a claim; protected claims are ignored); ``False`` if the session does not exist."""
    gp = gatepass or get_instance()
    flow = gp.session.functions.merge_into_access_token_payload(
        session_handle=session_handle, update=new_access_token_payload, user_context=user_context_of(user_context)
    )
    return run_sync(flow, gp.session)


# claims (supertokens-python's functions of a session handle) --------------------------------------------------------
def fetch_and_set_claim(
    session_handle: str,
    claim: SessionClaim[Any],
    user_context: dict[str, Any] | None = None,
    *,
    gatepass: Gatepass | None = None,
) -> bool:
    """Fetch ``claim``'s value for the session's user and merge it into the session's payload (its next access
    token carries it); ``False`` if the session does not exist."""
    gp = gatepass or get_instance()
    flow = claim_handles.fetch_and_set_claim(gp.session.functions, session_handle, claim, user_context_of(user_context))
    return run_sync(flow, gp.session)


def set_claim_value(
    session_handle: str,
    claim: SessionClaim[Any],
    value: Any,
    user_context: dict[str, Any] | None = None,
    *,
    gatepass: Gatepass | None = None,
) -> bool:
    """Merge ``value`` into the session's payload as ``claim``'s; ``False`` if the session does not exist."""
    gp = gatepass or get_instance()
    flow = claim_handles.set_claim_value(
        gp.session.functions, session_handle, claim, value, user_context_of(user_context)
    )
    return run_sync(flow, gp.session)


def get_claim_value(
    session_handle: str,
    claim: SessionClaim[Any],
    user_context: dict[str, Any] | None = None,
    *,
    gatepass: Gatepass | None = None,
) -> SessionDoesNotExistError | GetClaimValueOkResult[Any]:
    """``claim``'s value in the session's stored payload (``GetClaimValueOkResult``), or
    ``SessionDoesNotExistError``."""
    gp = gatepass or get_instance()
    flow = claim_handles.get_claim_value(gp.session.functions, session_handle, claim, user_context_of(user_context))
    return run_sync(flow, gp.session)


def remove_claim(
    session_handle: str,
    claim: SessionClaim[Any],
    user_context: dict[str, Any] | None = None,
    *,
    gatepass: Gatepass | None = None,
) -> bool:
    """Remove ``claim`` from the session's payload; ``False`` if the session does not exist."""
    gp = gatepass or get_instance()
    flow = claim_handles.remove_claim(gp.session.functions, session_handle, claim, user_context_of(user_context))
    return run_sync(flow, gp.session)


def validate_claims_for_session_handle(
    session_handle: str,
    override_global_claim_validators: claim_handles.HandleOverride | None = None,
    user_context: dict[str, Any] | None = None,
    *,
    gatepass: Gatepass | None = None,
) -> SessionDoesNotExistError | ClaimsValidationResult:
    """Run the global claim validators (or ``override_global_claim_validators(validators, session_information,
    user_context)``'s) on a session by its handle, refetching stale claims and storing what changed; the
    failures are in ``invalid_claims``."""
    gp = gatepass or get_instance()
    added = gp.session.get_claim_validators_added_by_other_recipes()
    flow = claim_handles.validate_claims_for_session_handle(
        gp.session.functions, added, session_handle, override_global_claim_validators, user_context_of(user_context)
    )
    return run_sync(flow, gp.session)


def validate_claims_in_jwt_payload(
    tenant_id: str,
    user_id: str,
    jwt_payload: dict[str, Any],
    override_global_claim_validators: claim_handles.PayloadOverride | None = None,
    user_context: dict[str, Any] | None = None,
    *,
    gatepass: Gatepass | None = None,
) -> ClaimsValidationResult:
    """Run the global claim validators (or ``override_global_claim_validators(validators, user_id,
    user_context)``'s) on a payload you verified yourself: no refetching, no core call."""
    gp = gatepass or get_instance()
    added = gp.session.get_claim_validators_added_by_other_recipes()
    flow = claim_handles.validate_claims_in_jwt_payload(
        gp.session.functions,
        added,
        tenant_id,
        user_id,
        jwt_payload,
        override_global_claim_validators,
        user_context_of(user_context),
    )
    return run_sync(flow, gp.session)
