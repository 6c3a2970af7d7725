"""The session recipe: its overridable functions and APIs, and the object that ties them to a core connection.

``RecipeInterface`` and ``APIInterface`` hold one typed callable per operation (``signatures``). Overrides wrap
the original, as in the SuperTokens SDKs, and mypy checks them; because every function returns a flow, one
override serves sync and async code alike::

    def functions(original: RecipeInterface) -> RecipeInterface:
        create = original.create_new_session

        def create_new_session(**kwargs: Any) -> Flow[SessionState]:
            kwargs["access_token_payload"] = {**kwargs["access_token_payload"], "role": "user"}
            return (yield from create(**kwargs))

        original.create_new_session = create_new_session
        return original

Expected refusals (unauthorised, try refresh, theft, invalid claims) are values; ``answers`` turns them into
responses, the public helpers into the upstream-style exceptions."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from gatepass.errors import ConfigurationError
from gatepass.ratelimit import FailureLimiter
from gatepass.recipe.app_info import AppInfo
from gatepass.recipe.session import answers, claim_flows, flows, handle_flows, jwts, transport
from gatepass.recipe.session.claims.base import SessionClaim
from gatepass.recipe.session.config import SessionConfig, SessionOptions, build_session_config
from gatepass.recipe.session.core_client import CoreConnection
from gatepass.recipe.session.devices import DeviceOriginals
from gatepass.recipe.session.errors import ErrorHandlers
from gatepass.recipe.session.http_types import RequestView, ResponseChanges
from gatepass.recipe.session.jwks_cache import JwksCache
from gatepass.recipe.session.lifetime import SessionLifetime
from gatepass.recipe.session.outcomes import ClaimsValidationResult, Refusal, TokenTheft, TryRefreshToken, Unauthorised
from gatepass.recipe.session.signatures import (
    ApiCall,
    ApiResult,
    CreateNewSession,
    GetFaunadbToken,
    GetGlobalClaimValidators,
    GetSession,
    GetSessionInformation,
    GetSessionWithoutRequest,
    GetUserSessions,
    MergeIntoAccessTokenPayload,
    RefreshSession,
    RegenerateAccessToken,
    RevokeMultipleSessions,
    RevokeOtherSessions,
    RevokeSession,
    SessionsOfUser,
    UpdateSessionData,
    ValidateClaims,
)
from gatepass.recipe.session.state import AnyValidator, SessionInformation, SessionState, VerifyOptions
from gatepass.recipe.session.steps import CoreCall, Flow

log = logging.getLogger("gatepass.session")


@dataclass(repr=False)
class RecipeInterface:
    """The recipe's functions; replace one (wrapping the original) to customise. ``recipe`` is the recipe they
    belong to: call ``recipe.functions.<name>`` to reach the outermost (overridden) version of another."""

    recipe: SessionRecipe = field(repr=False)
    create_new_session: CreateNewSession
    get_session: GetSession
    get_session_without_request: GetSessionWithoutRequest
    refresh_session: RefreshSession
    revoke_session: RevokeSession
    revoke_multiple_sessions: RevokeMultipleSessions
    revoke_all_sessions_for_user: SessionsOfUser
    get_all_session_handles_for_user: SessionsOfUser
    get_user_sessions: GetUserSessions  # gatepass's ("your devices", ``devices``)
    revoke_other_sessions: RevokeOtherSessions  # gatepass's
    get_session_information: GetSessionInformation
    update_session_data_in_database: UpdateSessionData
    merge_into_access_token_payload: MergeIntoAccessTokenPayload
    regenerate_access_token: RegenerateAccessToken
    get_faunadb_token: GetFaunadbToken
    get_global_claim_validators: GetGlobalClaimValidators
    validate_claims: ValidateClaims

    def __repr__(self) -> str:  # callables, but named like data ("token", "payload"): name the class only
        return "RecipeInterface(...)"


class _Originals(DeviceOriginals):
    """The original implementation of every function (on ``flows``, ``handle_flows``, ``devices``) for one recipe."""

    recipe: SessionRecipe

    def __init__(self, recipe: SessionRecipe) -> None:
        self.recipe = recipe

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
        recipe = self.recipe
        previous = None if request is None else (yield from flows.previous_session_handle(recipe, request))
        state = yield from flows.create_new_session(
            recipe,
            request=request,
            tenant_id=tenant_id,
            user_id=user_id,
            access_token_payload=access_token_payload,
            session_data_in_database=session_data_in_database,
            disable_anti_csrf=disable_anti_csrf,
            lifetime=lifetime,
        )
        if previous is not None:  # a login replaces the session the request carried (no fixation)
            yield from recipe.functions.revoke_session(session_handle=previous, user_context=user_context)
        return state

    def get_session(
        self, *, request: RequestView, options: VerifyOptions, user_context: dict[str, Any]
    ) -> Flow[SessionState | Refusal | None]:
        recipe = self.recipe
        state = yield from flows.get_session(recipe, request, options)
        if not isinstance(state, SessionState):
            return state
        added = recipe.get_claim_validators_added_by_other_recipes()
        override = options.override_global_claim_validators
        refusal = yield from claim_flows.check_session(recipe.functions, added, state, override, user_context)
        return refusal or state

    def get_global_claim_validators(
        self,
        *,
        tenant_id: str,
        user_id: str,
        recipe_user_id: str,
        claim_validators_added_by_other_recipes: list[AnyValidator],
        user_context: dict[str, Any],
    ) -> Flow[list[AnyValidator]]:
        return claim_validators_added_by_other_recipes
        yield  # a flow, like every other function

    def validate_claims(
        self,
        *,
        user_id: str,
        recipe_user_id: str,
        access_token_payload: dict[str, Any],
        claim_validators: list[AnyValidator],
        user_context: dict[str, Any],
    ) -> Flow[ClaimsValidationResult]:
        return claim_flows.validate_claims(
            user_id, recipe_user_id, access_token_payload, claim_validators, user_context
        )

    def get_session_without_request(
        self,
        *,
        access_token: str,
        anti_csrf_token: str | None,
        anti_csrf_check: bool,
        session_required: bool,
        check_database: bool,
        user_context: dict[str, Any],
    ) -> Flow[SessionState | Refusal | None]:
        parsed = flows.parse_access_token(access_token)
        if parsed is None and access_token and session_required:
            return TryRefreshToken("invalid access token")
        return (
            yield from flows.verify_token(
                self.recipe,
                access_token if parsed is not None else None,
                parsed=parsed,
                anti_csrf_token=anti_csrf_token,
                do_anti_csrf_check=anti_csrf_check,
                session_required=session_required,
                check_database=check_database,
            )
        )

    def refresh_session(
        self, *, request: RequestView, disable_anti_csrf: bool | None = None, user_context: dict[str, Any]
    ) -> Flow[SessionState | Refusal]:
        return flows.refresh_session(self.recipe, request, disable_anti_csrf)

    def revoke_session(self, *, session_handle: str, user_context: dict[str, Any]) -> Flow[bool]:
        return handle_flows.revoke_session(self.recipe, session_handle)

    def revoke_multiple_sessions(self, *, session_handles: list[str], user_context: dict[str, Any]) -> Flow[list[str]]:
        return handle_flows.revoke_multiple_sessions(self.recipe, session_handles)

    def revoke_all_sessions_for_user(
        self, *, user_id: str, tenant_id: str | None, user_context: dict[str, Any]
    ) -> Flow[list[str]]:
        return handle_flows.revoke_all_sessions_for_user(self.recipe, user_id, tenant_id)

    def get_all_session_handles_for_user(
        self, *, user_id: str, tenant_id: str | None, user_context: dict[str, Any]
    ) -> Flow[list[str]]:
        return handle_flows.get_all_session_handles_for_user(self.recipe, user_id, tenant_id)

    def get_session_information(
        self, *, session_handle: str, user_context: dict[str, Any]
    ) -> Flow[SessionInformation | None]:
        return handle_flows.get_session_information(self.recipe, session_handle)

    def update_session_data_in_database(
        self, *, session_handle: str, data: dict[str, Any], user_context: dict[str, Any]
    ) -> Flow[bool]:
        return handle_flows.update_session_data_in_database(self.recipe, session_handle, data)

    def merge_into_access_token_payload(
        self, *, session_handle: str, update: dict[str, Any], user_context: dict[str, Any]
    ) -> Flow[bool]:
        return handle_flows.merge_into_access_token_payload(self.recipe, session_handle, update)

    def regenerate_access_token(
        self, *, state: SessionState, update: dict[str, Any], user_context: dict[str, Any]
    ) -> Flow[bool]:
        return handle_flows.merge_into_session_payload(self.recipe, state, update)

    def get_faunadb_token(self, *, state: SessionState, user_context: dict[str, Any]) -> Flow[str | Refusal]:
        raise ConfigurationError("get_faunadb_token needs the FaunaDB integration (faunadb.init, not session.init)")
        yield  # a flow, like every other function

    def refresh_post(self, *, request: RequestView, user_context: dict[str, Any]) -> Flow[ApiResult]:
        state = yield from self.recipe.functions.refresh_session(request=request, user_context=user_context)
        if not isinstance(state, SessionState):
            return (yield from self.recipe.answer(state, request))
        return ApiResult(200, {}, state.changes)

    def signout_post(self, *, request: RequestView, user_context: dict[str, Any]) -> Flow[ApiResult]:
        recipe = self.recipe
        options = VerifyOptions(session_required=True, override_global_claim_validators=lambda *_: [])
        state = yield from recipe.functions.get_session(request=request, options=options, user_context=user_context)
        if not isinstance(state, SessionState):
            return (yield from recipe.answer(state or Unauthorised(flows.NO_SESSION, clear_tokens=False), request))
        yield from recipe.functions.revoke_session(session_handle=state.session_handle, user_context=user_context)
        changes = state.changes
        transport.clear_tokens(changes, recipe.config, state.transfer_method or "header")
        return ApiResult(200, {"status": "OK"}, changes)

    def jwks_get(self, *, request: RequestView, user_context: dict[str, Any]) -> Flow[ApiResult]:
        return jwts.jwks_get(self.recipe.jwks)

    def open_id_discovery_configuration_get(
        self, *, request: RequestView, user_context: dict[str, Any]
    ) -> Flow[ApiResult]:
        return jwts.open_id_discovery_configuration_get(self.recipe.config.app_info)


def default_functions(recipe: SessionRecipe) -> RecipeInterface:
    """The original implementation of every function."""
    o = _Originals(recipe)
    return RecipeInterface(
        recipe,
        o.create_new_session,
        o.get_session,
        o.get_session_without_request,
        o.refresh_session,
        o.revoke_session,
        o.revoke_multiple_sessions,
        o.revoke_all_sessions_for_user,
        o.get_all_session_handles_for_user,
        o.get_user_sessions,
        o.revoke_other_sessions,
        o.get_session_information,
        o.update_session_data_in_database,
        o.merge_into_access_token_payload,
        o.regenerate_access_token,
        o.get_faunadb_token,
        o.get_global_claim_validators,
        o.validate_claims,
    )


@dataclass
class APIInterface:
    """The endpoints the SDK serves: ``POST {base}/session/refresh``, ``POST {base}/signout``, and the public
    ``GET {base}/jwt/jwks.json`` and ``GET {base}/.well-known/openid-configuration`` (see ``jwts``)."""

    recipe: SessionRecipe = field(repr=False)
    refresh_post: ApiCall
    signout_post: ApiCall
    jwks_get: ApiCall
    open_id_discovery_configuration_get: ApiCall
    disable_refresh_post: bool = False
    disable_signout_post: bool = False
    disable_jwks_get: bool = False
    disable_open_id_discovery_configuration_get: bool = False


def default_apis(recipe: SessionRecipe) -> APIInterface:
    """The original APIs."""
    o = _Originals(recipe)
    return APIInterface(recipe, o.refresh_post, o.signout_post, o.jwks_get, o.open_id_discovery_configuration_get)


@dataclass(frozen=True)
class Overrides:
    """Wrappers of the original functions and APIs (each gets the original and returns the one to use)."""

    functions: Callable[[RecipeInterface], RecipeInterface] | None = None
    apis: Callable[[APIInterface], APIInterface] | None = None


class SessionRecipe:
    """One configured session recipe bound to a core connection."""

    def __init__(
        self,
        app_info: AppInfo,
        options: SessionOptions,
        core: CoreConnection,
        *,
        claim_validators: list[AnyValidator] | None = None,
        overrides: Overrides | None = None,
        error_handlers: ErrorHandlers | None = None,
        clock: Callable[[], int] | None = None,
    ) -> None:
        self._config = build_session_config(app_info, options)
        self.core = core
        self._clock = clock or (lambda: time.time_ns() // 1_000_000)
        self._jwks = JwksCache(
            core.fetch_jwks,
            self._clock,
            refresh_interval_ms=self._config.jwks_refresh_interval_ms,
            cooldown_ms=self._config.jwks_refetch_cooldown_ms,
        )
        self._refresh_limiter = FailureLimiter(self._config.refresh_rate_limit)
        self._claims: list[SessionClaim[Any]] = []
        self._claim_validators: list[AnyValidator] = list(claim_validators or [])
        overrides = overrides or Overrides()
        self.functions = default_functions(self)
        if overrides.functions:
            self.functions = overrides.functions(self.functions)
        self.apis = default_apis(self)
        if overrides.apis:
            self.apis = overrides.apis(self.apis)
        self.error_handlers = error_handlers

    # claims (supertokens-python's names: recipes such as email verification add theirs) ----------------------------
    def add_claim_from_other_recipe(self, claim: SessionClaim[Any]) -> None:
        """Build ``claim`` into the payload of every new session (a key may be added once)."""
        if any(known.key == claim.key for known in self._claims):
            raise ConfigurationError(f"a claim with the key {claim.key!r} was already added")
        self._claims.append(claim)

    def get_claims_added_by_other_recipes(self) -> list[SessionClaim[Any]]:
        """The claims every new session gets."""
        return list(self._claims)

    def add_claim_validator_from_other_recipe(self, validator: AnyValidator) -> None:
        """Run ``validator`` on every ``get_session`` (unless a call's ``override_global_claim_validators`` drops
        it)."""
        self._claim_validators.append(validator)

    def get_claim_validators_added_by_other_recipes(self) -> list[AnyValidator]:
        """The global validators: ``session.init(claim_validators=...)`` and those other recipes added."""
        return list(self._claim_validators)

    def new_session(
        self,
        *,
        request: RequestView | None,
        tenant_id: str,
        user_id: str,
        access_token_payload: dict[str, Any],
        session_data_in_database: dict[str, Any],
        user_context: dict[str, Any],
        disable_anti_csrf: bool = False,
        lifetime: SessionLifetime | None = None,
    ) -> Flow[SessionState]:
        """What the public ``create_new_session`` runs: the recipe's claims built into the payload (as upstream
        does, before the overridable ``create_new_session`` sees it), then that function (given ``lifetime`` only
        when there is one: see ``signatures.CreateNewSession``)."""
        claims = self.get_claims_added_by_other_recipes()
        payload = yield from claim_flows.payload_with_claims(
            claims, user_id, tenant_id, access_token_payload, user_context
        )
        extra = {} if lifetime is None else {"lifetime": lifetime}
        return (
            yield from self.functions.create_new_session(
                request=request,
                tenant_id=tenant_id,
                user_id=user_id,
                access_token_payload=payload,
                session_data_in_database=session_data_in_database,
                disable_anti_csrf=disable_anti_csrf,
                user_context=user_context,
                **extra,
            )
        )

    # RecipeContext and steps.Io -----------------------------------------------------------------------------------
    @property
    def config(self) -> SessionConfig:
        """The validated settings."""
        return self._config

    @property
    def jwks(self) -> JwksCache:
        """The cache of the core's public keys."""
        return self._jwks

    def now_ms(self) -> int:
        """The recipe's clock (epoch milliseconds)."""
        return self._clock()

    def core_sync(self, call: CoreCall) -> dict[str, Any]:
        """One core call, blocking."""
        return self.core.send_sync(call)

    async def core_async(self, call: CoreCall) -> dict[str, Any]:
        """One core call, awaited."""
        return await self.core.send_async(call)

    def refresh_jwks(self, kid: str | None) -> None:
        """Reload the core's public keys (blocking)."""
        self._jwks.refresh(kid)

    # requests the SDK answers itself ---------------------------------------------------------------------------
    def api_for(self, request: RequestView) -> Callable[[], Flow[ApiResult]] | None:
        """The API flow that answers ``request`` (refresh, sign-out, the JWKS, OpenID discovery), if it is one of
        ours."""
        path = request.path.rstrip("/")
        if request.method == "GET":
            return self._public_document(request, path)
        if request.method != "POST":
            return None
        if path == self.config.app_info.refresh_path and not self.apis.disable_refresh_post:
            return lambda: self._limited_refresh(request)
        if path == self.config.app_info.signout_path and not self.apis.disable_signout_post:
            return lambda: self.apis.signout_post(request=request, user_context={})
        return None

    def api_paths(self) -> list[tuple[str, str]]:
        """``(method, path)`` of every API ``api_for`` can answer, for frameworks that route before middleware runs
        (an API switched off by its ``disable_*`` flag is still listed: ``api_for`` answers it with ``None``)."""
        info, base = self.config.app_info, self.config.app_info.api_base_path
        posts = [("POST", info.refresh_path), ("POST", info.signout_path)]
        return [*posts, ("GET", base + jwts.JWKS_PATH), ("GET", base + jwts.DISCOVERY_PATH)]

    def _public_document(self, request: RequestView, path: str) -> Callable[[], Flow[ApiResult]] | None:
        base, apis = self.config.app_info.api_base_path, self.apis
        if path == base + jwts.JWKS_PATH and not apis.disable_jwks_get:
            return lambda: apis.jwks_get(request=request, user_context={})
        if path == base + jwts.DISCOVERY_PATH and not apis.disable_open_id_discovery_configuration_get:
            return lambda: apis.open_id_discovery_configuration_get(request=request, user_context={})
        return None

    def serve(self, request: RequestView) -> Flow[ApiResult] | None:
        """The answer flow if ``request`` is for one of the SDK's APIs (failures answered, never raised)."""
        api = self.api_for(request)
        if api is None:
            return None
        return answers.guarded(self.config, self.error_handlers, self._revoke, api, request)

    def answer(self, refusal: Refusal, request: RequestView | None = None) -> Flow[ApiResult]:
        """The response for a refusal (``answers.refusal_answer`` with this recipe's settings and handlers); the
        app's error handlers see ``request``."""
        return answers.refusal_answer(self.config, self.error_handlers, self._revoke, refusal, request)

    def answer_exception(self, error: BaseException, request: RequestView | None = None) -> Flow[ApiResult] | None:
        """The response flow for an exception that escaped the app, or ``None`` if it is not a session matter; the
        app's error handlers see ``request``."""
        return answers.exception_answer(self.config, self.error_handlers, self._revoke, error, request)

    def _revoke(self, *, session_handle: str, user_context: dict[str, Any]) -> Flow[bool]:
        return self.functions.revoke_session(session_handle=session_handle, user_context=user_context)

    def _limited_refresh(self, request: RequestView) -> Flow[ApiResult]:
        """The refresh API behind a per-address limit on failures (checklist 35): a limited address gets 429 before
        its token is looked at, so it learns nothing while it waits."""
        wait = self._refresh_limiter.retry_after(request.client)
        if wait is not None:
            changes = ResponseChanges()
            changes.set_header("retry-after", str(wait))
            return ApiResult(429, {"message": "too many failed refresh attempts: try again later"}, changes)
        result = yield from self.apis.refresh_post(request=request, user_context={})
        if isinstance(result.refusal, Unauthorised | TokenTheft):
            presented = any(transport.token_in(request, "refresh", way) for way in ("cookie", "header"))
            if presented and self._refresh_limiter.charge(request.client):  # no token at all guesses nothing
                log.warning("rate limit reached: %s sent failing refreshes faster than allowed", request.client)
        return result


__all__ = ["APIInterface", "ApiResult", "Overrides", "RecipeInterface", "SessionRecipe"]
