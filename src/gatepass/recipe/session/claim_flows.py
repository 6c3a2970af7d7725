"""Session claims in the recipe's flows, as supertokens-python 0.31 runs them:

- at ``create_new_session``, every claim the recipe knows (``add_claim_from_other_recipe``) is fetched and put in
  the payload before the recipe's ``create_new_session`` sees it;
- at ``get_session`` / ``verify_session``, the validators (the recipe's ``get_global_claim_validators``, or what the
  call's ``override_global_claim_validators`` makes of them) are run by ``validate_claims``: a validator whose claim
  should be refetched (no value yet, or one past ``max_age``) has it fetched first, the changed payload is merged
  into the session's access token (sent with the response), and then every validator judges the payload; failures
  answer 403 ``{"message": "invalid claim", "claimValidationErrors": [{"id", "reason"}]}``.

User code (``fetch_value``, a validator's ``validate`` or ``should_refetch``) may be ``async``: the async API awaits
it, the sync API refuses it with a clear error. ``fetch_value`` may block (it reads your database): it runs as a
``Blocking`` step, in a worker thread under the async driver. gatepass's bare ``ClaimValidator`` (a function of
the payload giving ``(ok, reason)``) still works wherever a validator does.
"""

from __future__ import annotations

import json
from typing import Any, Protocol

from gatepass.recipe.session.claims.base import ClaimValidationResult, SessionClaim
from gatepass.recipe.session.outcomes import ClaimFailure, ClaimsValidationResult, InvalidClaims, Refusal
from gatepass.recipe.session.signatures import GetGlobalClaimValidators, RegenerateAccessToken, ValidateClaims
from gatepass.recipe.session.state import AnyValidator, ClaimValidator, GlobalValidatorsOverride, SessionState
from gatepass.recipe.session.steps import Blocking, Flow, resolved
from gatepass.tokens.access_token import PROTECTED_CLAIMS

DEFAULT_TENANT = "public"


class ClaimFunctions(Protocol):
    """The recipe functions claims go through (``RecipeInterface`` has them): overrides apply."""

    @property
    def get_global_claim_validators(self) -> GetGlobalClaimValidators:
        """The validators every ``get_session`` runs."""

    @property
    def validate_claims(self) -> ValidateClaims:
        """Refetch, then validate."""

    @property
    def regenerate_access_token(self) -> RegenerateAccessToken:
        """Merge a payload change into the session's access token."""


def fetch_value(
    claim: SessionClaim[Any],
    user_id: str,
    recipe_user_id: str,
    tenant_id: str,
    payload: dict[str, Any],
    user_context: dict[str, Any],
) -> Flow[Any]:
    """The claim's current value (its ``fetch_value``, sync or async)."""
    value = yield Blocking(lambda: claim.fetch_value(user_id, recipe_user_id, tenant_id, payload, user_context))
    return (yield from resolved(value))


def build(
    claim: SessionClaim[Any],
    user_id: str,
    recipe_user_id: str,
    tenant_id: str,
    payload: dict[str, Any],
    user_context: dict[str, Any],
) -> Flow[dict[str, Any]]:
    """``claim.build`` as a flow: the payload update that stores its current value (``{}`` when there is none).
    For overrides of ``create_new_session``: ``payload.update((yield from build(claim, ...)))``."""
    value = yield from fetch_value(claim, user_id, recipe_user_id, tenant_id, payload, user_context)
    return claim.update_for(value, user_context)


def payload_with_claims(
    claims: list[SessionClaim[Any]],
    user_id: str,
    tenant_id: str,
    payload: dict[str, Any],
    user_context: dict[str, Any],
) -> Flow[dict[str, Any]]:
    """``payload`` (protected claims dropped) with each of ``claims`` built into it, in order."""
    final = {k: v for k, v in payload.items() if k not in PROTECTED_CLAIMS}
    for claim in claims:
        final.update((yield from build(claim, user_id, user_id, tenant_id, final, user_context)))
    return final


def verdict(
    validator: AnyValidator, payload: dict[str, Any], user_context: dict[str, Any]
) -> Flow[ClaimFailure | None]:
    """The validator's verdict on ``payload``: ``None`` if it passes."""
    if isinstance(validator, ClaimValidator):
        ok, reason = validator.validate(payload)
        return None if ok else ClaimFailure(validator.id, reason)
    result = yield from resolved(validator.validate(payload, user_context))
    if not isinstance(result, ClaimValidationResult):
        raise TypeError(f"claim validator {validator.id!r} returned {type(result).__name__}, not ClaimValidationResult")
    return None if result.is_valid else ClaimFailure(validator.id, result.reason)


def validate_claims_in_payload(
    validators: list[AnyValidator], payload: dict[str, Any], user_context: dict[str, Any]
) -> Flow[list[ClaimFailure]]:
    """Every validator's failure on ``payload``, in order (no refetching)."""
    failures: list[ClaimFailure] = []
    for validator in validators:
        failure = yield from verdict(validator, payload, user_context)
        if failure is not None:
            failures.append(failure)
    return failures


def validate_claims(
    user_id: str,
    recipe_user_id: str,
    access_token_payload: dict[str, Any],
    claim_validators: list[AnyValidator],
    user_context: dict[str, Any],
) -> Flow[ClaimsValidationResult]:
    """Upstream's ``validate_claims``: refetch what the validators ask for, then validate the resulting payload."""
    original = json.dumps(access_token_payload, sort_keys=True)
    payload = dict(access_token_payload)
    tenant_id = payload.get("tId") if isinstance(payload.get("tId"), str) else DEFAULT_TENANT
    for validator in claim_validators:
        if isinstance(validator, ClaimValidator) or validator.claim is None:
            continue
        if not (yield from resolved(validator.should_refetch(payload, user_context))):
            continue
        claim = validator.claim
        value = yield from fetch_value(claim, user_id, recipe_user_id, str(tenant_id), payload, user_context)
        if value is not None:
            payload = claim.add_to_payload_(payload, value, user_context)
    update = None if json.dumps(payload, sort_keys=True) == original else payload
    failures = yield from validate_claims_in_payload(claim_validators, payload, user_context)
    return ClaimsValidationResult(failures, update)


Override = GlobalValidatorsOverride


def global_validators(
    functions: ClaimFunctions,
    added: list[AnyValidator],
    tenant_id: str,
    user_id: str,
    recipe_user_id: str,
    user_context: dict[str, Any],
) -> Flow[list[AnyValidator]]:
    """The recipe's global validators for this user (by default, ``added``: those other recipes and
    ``session.init(claim_validators=...)`` added)."""
    validators = yield from functions.get_global_claim_validators(
        tenant_id=tenant_id,
        user_id=user_id,
        recipe_user_id=recipe_user_id,
        claim_validators_added_by_other_recipes=list(added),
        user_context=user_context,
    )
    return list(validators)


def required_validators(
    functions: ClaimFunctions,
    added: list[AnyValidator],
    state: SessionState,
    override: Override | None,
    user_context: dict[str, Any],
) -> Flow[list[AnyValidator]]:
    """The validators a ``get_session`` runs: the global ones, or the call's override of them."""
    user = state.user_id
    validators = yield from global_validators(functions, added, state.tenant_id, user, user, user_context)
    if override is not None:
        validators = yield from resolved(override(list(validators), state, user_context))
    return list(validators)


def assert_claims(
    functions: ClaimFunctions, state: SessionState, validators: list[AnyValidator], user_context: dict[str, Any]
) -> Flow[InvalidClaims | None]:
    """Validate the session (refetching as needed), merge a changed payload into its access token, and return the
    refusal if any validator fails."""
    if not validators:
        return None
    result = yield from functions.validate_claims(
        user_id=state.user_id,
        recipe_user_id=state.user_id,
        access_token_payload=state.access_token_payload,
        claim_validators=validators,
        user_context=user_context,
    )
    if result.access_token_payload_update is not None:
        update = {k: v for k, v in result.access_token_payload_update.items() if k not in PROTECTED_CLAIMS}
        yield from functions.regenerate_access_token(state=state, update=update, user_context=user_context)
    return InvalidClaims(result.invalid_claims) if result.invalid_claims else None


def check_session(
    functions: ClaimFunctions,
    added: list[AnyValidator],
    state: SessionState,
    override: Override | None,
    user_context: dict[str, Any],
) -> Flow[InvalidClaims | None]:
    """``get_session``'s claim step: the required validators, asserted."""
    validators = yield from required_validators(functions, added, state, override, user_context)
    return (yield from assert_claims(functions, state, validators, user_context))


def checked(
    functions: ClaimFunctions,
    added: list[AnyValidator],
    verification: Flow[SessionState | Refusal | None],
    override: Override | None,
    user_context: dict[str, Any],
) -> Flow[SessionState | Refusal | None]:
    """``verification``'s session, then its claims (what ``get_session_without_request_response`` runs, as
    upstream does: the recipe function verifies, the public function checks the claims)."""
    state = yield from verification
    if not isinstance(state, SessionState):
        return state
    refusal = yield from check_session(functions, added, state, override, user_context)
    return refusal or state
