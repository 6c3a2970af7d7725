"""The claim functions that take a session handle (supertokens-python 0.31's ``fetch_and_set_claim``,
``set_claim_value``, ``get_claim_value``, ``remove_claim``, ``validate_claims_for_session_handle``) and
``validate_claims_in_jwt_payload``, as flows over the recipe's (overridable) functions. A change reaches the
session's next access token (a refresh, or a verify that re-mints it), as ``merge_into_access_token_payload`` does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gatepass.recipe.session.claim_flows import build, global_validators, validate_claims_in_payload
from gatepass.recipe.session.claims.base import GetClaimValueOkResult, SessionClaim, SessionDoesNotExistError
from gatepass.recipe.session.outcomes import ClaimsValidationResult
from gatepass.recipe.session.recipe import RecipeInterface
from gatepass.recipe.session.state import AnyValidator, SessionInformation
from gatepass.recipe.session.steps import Flow, resolved
from gatepass.tokens.access_token import PROTECTED_CLAIMS

HandleOverride = Callable[[list[AnyValidator], SessionInformation, dict[str, Any]], Any]
PayloadOverride = Callable[[list[AnyValidator], str, dict[str, Any]], Any]


def fetch_and_set_claim(
    functions: RecipeInterface, session_handle: str, claim: SessionClaim[Any], user_context: dict[str, Any]
) -> Flow[bool]:
    """Fetch the claim's value for the session's user and merge it in; ``False`` if the session does not exist."""
    info = yield from functions.get_session_information(session_handle=session_handle, user_context=user_context)
    if info is None:
        return False
    payload = info.custom_claims_in_access_token_payload
    update = yield from build(claim, info.user_id, info.recipe_user_id, info.tenant_id, payload, user_context)
    return (
        yield from functions.merge_into_access_token_payload(
            session_handle=session_handle, update=update, user_context=user_context
        )
    )


def set_claim_value(
    functions: RecipeInterface, session_handle: str, claim: SessionClaim[Any], value: Any, user_context: dict[str, Any]
) -> Flow[bool]:
    """Merge ``value`` in as the claim's (fetched now); ``False`` if the session does not exist."""
    update = claim.add_to_payload_({}, value, user_context)
    return (
        yield from functions.merge_into_access_token_payload(
            session_handle=session_handle, update=update, user_context=user_context
        )
    )


def remove_claim(
    functions: RecipeInterface, session_handle: str, claim: SessionClaim[Any], user_context: dict[str, Any]
) -> Flow[bool]:
    """Remove the claim from the session's payload; ``False`` if the session does not exist."""
    update = claim.remove_from_payload_by_merge_({}, user_context)
    return (
        yield from functions.merge_into_access_token_payload(
            session_handle=session_handle, update=update, user_context=user_context
        )
    )


def get_claim_value(
    functions: RecipeInterface, session_handle: str, claim: SessionClaim[Any], user_context: dict[str, Any]
) -> Flow[SessionDoesNotExistError | GetClaimValueOkResult[Any]]:
    """The claim's value in the session's stored payload."""
    info = yield from functions.get_session_information(session_handle=session_handle, user_context=user_context)
    if info is None:
        return SessionDoesNotExistError()
    return GetClaimValueOkResult(claim.get_value_from_payload(info.custom_claims_in_access_token_payload, user_context))


def validate_claims_for_session_handle(
    functions: RecipeInterface,
    added: list[AnyValidator],
    session_handle: str,
    override: HandleOverride | None,
    user_context: dict[str, Any],
) -> Flow[SessionDoesNotExistError | ClaimsValidationResult]:
    """Validate a session by its handle (refetching as the validators ask, and storing what changed)."""
    info = yield from functions.get_session_information(session_handle=session_handle, user_context=user_context)
    if info is None:
        return SessionDoesNotExistError()
    ids = info.tenant_id, info.user_id, info.recipe_user_id
    validators = yield from global_validators(functions, added, *ids, user_context)
    if override is not None:
        validators = yield from resolved(override(list(validators), info, user_context))
    payload = {**info.custom_claims_in_access_token_payload, "tId": info.tenant_id}  # fetch for the session's tenant
    result = yield from functions.validate_claims(
        user_id=info.user_id,
        recipe_user_id=info.recipe_user_id,
        access_token_payload=payload,
        claim_validators=list(validators),
        user_context=user_context,
    )
    if result.access_token_payload_update is not None:
        update = {k: v for k, v in result.access_token_payload_update.items() if k not in PROTECTED_CLAIMS}
        if not (
            yield from functions.merge_into_access_token_payload(
                session_handle=session_handle, update=update, user_context=user_context
            )
        ):
            return SessionDoesNotExistError()
    return ClaimsValidationResult(result.invalid_claims)


def validate_claims_in_jwt_payload(
    functions: RecipeInterface,
    added: list[AnyValidator],
    tenant_id: str,
    user_id: str,
    jwt_payload: dict[str, Any],
    override: PayloadOverride | None,
    user_context: dict[str, Any],
) -> Flow[ClaimsValidationResult]:
    """Validate a payload you verified yourself (no refetching, no core call): the global validators for this
    user, or the ``override`` of them (called with the validators, the user id and ``user_context``)."""
    validators = yield from global_validators(functions, added, tenant_id, user_id, user_id, user_context)
    if override is not None:
        validators = yield from resolved(override(list(validators), user_id, user_context))
    failures = yield from validate_claims_in_payload(list(validators), jwt_payload, user_context)
    return ClaimsValidationResult(failures)
