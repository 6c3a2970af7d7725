"""The session recipe: its overridable functions and APIs, the error answers, and the object that ties them to a
core connection. Overrides wrap the original implementation, as in the SuperTokens SDKs; because every function
returns a flow, one override serves sync and async code alike::

    def functions(original):
        create = original.create_new_session
        def create_new_session(**kwargs):
            kwargs["access_token_payload"] = {**kwargs["access_token_payload"], "role": "user"}
            return (yield from create(**kwargs))
        original.create_new_session = create_new_session
        return original
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from gatepass.ratelimit import FailureLimiter
from gatepass.recipe.app_info import AppInfo
from gatepass.recipe.session import flows, transport
from gatepass.recipe.session.config import SessionConfig, SessionOptions, build_session_config
from gatepass.recipe.session.core_client import CoreConnection
from gatepass.recipe.session.errors import (
    ClearDuplicateSessionCookiesError,
    CoreError,
    CoreUnavailableError,
    DuplicateSessionCookiesError,
    ErrorHandlers,
    InvalidClaimsError,
    SessionError,
    TokenTheftError,
    TryRefreshTokenError,
    UnauthorisedError,
)
from gatepass.recipe.session.http_types import RequestView, ResponseChanges
from gatepass.recipe.session.jwks_cache import JwksCache
from gatepass.recipe.session.state import ClaimValidator, SessionInformation, SessionState, VerifyOptions
from gatepass.recipe.session.steps import CoreCall, Flow

log = logging.getLogger("gatepass.session")


@dataclass
class ApiResult:
    """A framework-neutral answer: status, JSON body and the response changes (cookies, headers)."""

    status: int
    body: dict[str, Any]
    changes: ResponseChanges


class RecipeInterface:
    """The recipe's functions. Every method returns a flow; replace methods on an instance to customise."""

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
    ) -> Flow[SessionState]:
        previous = None
        if request is not None:
            previous = yield from flows.previous_session_handle(self.recipe, request)
        state = yield from flows.create_new_session(
            self.recipe,
            request=request,
            tenant_id=tenant_id,
            user_id=user_id,
            access_token_payload=access_token_payload,
            session_data_in_database=session_data_in_database,
        )
        if previous is not None:  # a login replaces the session the request carried (no fixation)
            yield from self.revoke_session(session_handle=previous)
        return state

    def get_session(self, *, request: RequestView, options: VerifyOptions) -> Flow[SessionState | None]:
        return flows.get_session(self.recipe, request, options, self.recipe.global_claim_validators)

    def get_session_without_request(
        self,
        *,
        access_token: str,
        anti_csrf_token: str | None,
        anti_csrf_check: bool,
        session_required: bool,
        check_database: bool,
    ) -> Flow[SessionState | None]:
        parsed = flows.parse_access_token(access_token)
        if parsed is None and access_token and session_required:
            raise TryRefreshTokenError("invalid access token")
        return flows.verify_token(
            self.recipe,
            access_token if parsed is not None else None,
            parsed=parsed,
            anti_csrf_token=anti_csrf_token,
            do_anti_csrf_check=anti_csrf_check,
            session_required=session_required,
            check_database=check_database,
        )

    def refresh_session(self, *, request: RequestView) -> Flow[SessionState]:
        return flows.refresh_session(self.recipe, request)

    def revoke_session(self, *, session_handle: str) -> Flow[bool]:
        return flows.revoke_session(self.recipe, session_handle)

    def revoke_multiple_sessions(self, *, session_handles: list[str]) -> Flow[list[str]]:
        return flows.revoke_multiple_sessions(self.recipe, session_handles)

    def revoke_all_sessions_for_user(self, *, user_id: str, tenant_id: str | None) -> Flow[list[str]]:
        return flows.revoke_all_sessions_for_user(self.recipe, user_id, tenant_id)

    def get_all_session_handles_for_user(self, *, user_id: str, tenant_id: str | None) -> Flow[list[str]]:
        return flows.get_all_session_handles_for_user(self.recipe, user_id, tenant_id)

    def get_session_information(self, *, session_handle: str) -> Flow[SessionInformation | None]:
        return flows.get_session_information(self.recipe, session_handle)

    def update_session_data_in_database(self, *, session_handle: str, data: dict[str, Any]) -> Flow[bool]:
        return flows.update_session_data_in_database(self.recipe, session_handle, data)

    def merge_into_access_token_payload(self, *, session_handle: str, update: dict[str, Any]) -> Flow[bool]:
        return flows.merge_into_access_token_payload(self.recipe, session_handle, update)

    def regenerate_access_token(self, *, state: SessionState, update: dict[str, Any]) -> Flow[None]:
        return flows.merge_into_session_payload(self.recipe, state, update)


class APIInterface:
    """The endpoints the SDK serves: ``POST {base}/session/refresh`` and ``POST {base}/signout``."""

    disable_refresh_post = False
    disable_signout_post = False

    def __init__(self, recipe: SessionRecipe) -> None:
        self.recipe = recipe

    def refresh_post(self, *, request: RequestView) -> Flow[ApiResult]:
        state = yield from self.recipe.functions.refresh_session(request=request)
        return ApiResult(200, {}, state.changes)

    def signout_post(self, *, request: RequestView) -> Flow[ApiResult]:
        options = VerifyOptions(session_required=True, override_global_claim_validators=lambda *_: [])
        state = yield from self.recipe.functions.get_session(request=request, options=options)
        assert state is not None
        yield from self.recipe.functions.revoke_session(session_handle=state.session_handle)
        changes = state.changes
        transport.clear_tokens(changes, self.recipe.config, state.transfer_method or "header")
        return ApiResult(200, {"status": "OK"}, changes)


@dataclass(frozen=True)
class Overrides:
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
        claim_validators: list[ClaimValidator] | None = None,
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
        self.global_claim_validators = list(claim_validators or [])
        self.extensions: dict[str, Any] = {}  # integrations installed by overrides (e.g. "faunadb")
        overrides = options.override if isinstance(options.override, Overrides) else Overrides()
        functions = RecipeInterface(self)
        self.functions = overrides.functions(functions) if overrides.functions else functions
        apis = APIInterface(self)
        self.apis = overrides.apis(apis) if overrides.apis else apis
        self.error_handlers = options.error_handlers if isinstance(options.error_handlers, ErrorHandlers) else None

    # RecipeContext and steps.Io -----------------------------------------------------------------------------------
    @property
    def config(self) -> SessionConfig:
        return self._config

    @property
    def jwks(self) -> JwksCache:
        return self._jwks

    def now_ms(self) -> int:
        return self._clock()

    def core_sync(self, call: CoreCall) -> dict[str, Any]:
        return self.core.send_sync(call)

    async def core_async(self, call: CoreCall) -> dict[str, Any]:
        return await self.core.send_async(call)

    def refresh_jwks(self, kid: str | None) -> None:
        self._jwks.refresh(kid)

    # requests the SDK answers itself ---------------------------------------------------------------------------
    def api_for(self, request: RequestView) -> Callable[[], Flow[ApiResult]] | None:
        if request.method != "POST":
            return None
        path = request.path.rstrip("/")
        if path == self.config.app_info.refresh_path and not self.apis.disable_refresh_post:
            return lambda: self._limited_refresh(request)
        if path == self.config.app_info.signout_path and not self.apis.disable_signout_post:
            return lambda: self.apis.signout_post(request=request)
        return None

    def _limited_refresh(self, request: RequestView) -> Flow[ApiResult]:
        """The refresh API behind a per-address limit on failures (checklist 35): a limited address gets 429 before
        its token is looked at, so it learns nothing while it waits."""
        wait = self._refresh_limiter.retry_after(request.client)
        if wait is not None:
            changes = ResponseChanges()
            changes.set_header("retry-after", str(wait))
            return ApiResult(429, {"message": "too many failed refresh attempts: try again later"}, changes)
        try:
            return (yield from self.apis.refresh_post(request=request))
        except (UnauthorisedError, TokenTheftError):
            presented = any(transport.token_in(request, "refresh", way) for way in ("cookie", "header"))
            if presented and self._refresh_limiter.charge(request.client):  # no token at all guesses nothing
                log.warning("rate limit reached: %s sent failing refreshes faster than allowed", request.client)
            raise

    @staticmethod
    def core_failure(error: CoreError) -> ApiResult:
        """The answer when the core is unreachable or refuses a call: 503 (or 500), no tokens touched."""
        log.error("session core call failed: %s", error.message)
        status = 503 if isinstance(error, CoreUnavailableError) else 500
        return ApiResult(status, {"message": "the session service is unavailable"}, ResponseChanges())

    def error_answer(self, error: SessionError) -> Flow[ApiResult]:
        """``handle_error``, or the core-failure answer when answering needs the core and it fails (the theft
        answer revokes first: a core outage then must not turn into an exception escaping into the framework)."""
        try:
            return (yield from self.handle_error(error))
        except CoreError as failure:
            return self.core_failure(failure)

    def handle_error(self, error: SessionError) -> Flow[ApiResult]:
        """The response for a session error (the theft answer first revokes the session)."""
        config = self.config
        handlers = self.error_handlers
        changes = ResponseChanges()
        custom: Any = None
        body: dict[str, Any]
        if isinstance(error, TokenTheftError):
            log.warning("token theft detected: handle=%s user=%s", error.session_handle, error.user_id)
            yield from self.functions.revoke_session(session_handle=error.session_handle)
            transport.clear_everywhere(changes, config)
            status, body = config.session_expired_status_code, {"message": "token theft detected"}
            custom = handlers.on_token_theft_detected if handlers else None
        elif isinstance(error, UnauthorisedError):
            if error.clear_tokens:
                transport.clear_everywhere(changes, config)
            status, body = config.session_expired_status_code, {"message": "unauthorised"}
            custom = handlers.on_unauthorised if handlers else None
        elif isinstance(error, TryRefreshTokenError):
            status, body = config.session_expired_status_code, {"message": "try refresh token"}
            custom = handlers.on_try_refresh_token if handlers else None
        elif isinstance(error, InvalidClaimsError):
            status = config.invalid_claim_status_code
            body = {"message": "invalid claim", "claimValidationErrors": [e.as_json() for e in error.errors]}
            custom = handlers.on_invalid_claim if handlers else None
        elif isinstance(error, ClearDuplicateSessionCookiesError):
            transport.clear_tokens(changes, config, "cookie", domain=config.older_cookie_domain)
            status, body = 200, {"message": error.message}
        elif isinstance(error, DuplicateSessionCookiesError):
            # Upstream answers 500; anyone can send two cookies, so this is a 400 (the request cannot be served as
            # it stands) and a warning naming the setting that fixes it, not an internal error.
            log.warning("%s", error.message)
            status, body = 400, {"message": error.message}
        else:
            status, body = 500, {"message": "internal error"}
        if custom is not None:
            status, body = custom(error)
        return ApiResult(status, body, changes)


__all__ = ["APIInterface", "ApiResult", "Overrides", "RecipeInterface", "SessionRecipe"]
