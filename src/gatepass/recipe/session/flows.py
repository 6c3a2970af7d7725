"""The session recipe's operations as flows (see ``steps``): pure decisions in between, I/O only as yielded steps.

Verification is local: signature and claims are checked against the cached JWKS, and the core is asked only for
the first use of a token minted by a refresh (promotion) or when ``check_database`` is on.
"""

from __future__ import annotations

from typing import Any, Protocol

from gatepass.errors import CoreError, SessionLimitReachedError
from gatepass.protocol.cdi import (
    CreateSession,
    IssuedToken,
    Refreshed,
    RefreshRefused,
    RefreshSession,
    Regenerated,
    SessionCreated,
    SessionLimitReached,
    TokenTheftDetected,
    Verified,
    VerifyRefused,
    VerifySession,
)
from gatepass.protocol.verify import Accept, NeedsCore, TryRefresh, VerifyDecision, VerifyRules, decide_verify
from gatepass.recipe.session import transport
from gatepass.recipe.session.client_info import client_info_of
from gatepass.recipe.session.config import SessionConfig
from gatepass.recipe.session.http_types import RequestView, TransferMethod
from gatepass.recipe.session.jwks_cache import JwksCache
from gatepass.recipe.session.lifetime import SessionLifetime
from gatepass.recipe.session.outcomes import (
    ClearDuplicateCookies,
    DuplicateCookies,
    Refusal,
    TokenTheft,
    TryRefreshToken,
    Unauthorised,
)
from gatepass.recipe.session.state import SessionState, VerifyOptions
from gatepass.recipe.session.steps import FetchJwks, Flow, ask
from gatepass.tokens import access_token
from gatepass.tokens.access_token import PROTECTED_CLAIMS, ParsedToken, Rejected, VerifiedAccessToken

DEFAULT_TENANT = "public"
NO_SESSION = (
    "Session does not exist. Are you sending the session tokens in the request with the appropriate token transfer "
    "method?"
)


class RecipeContext(Protocol):
    """What flows need from the recipe: its ``config``, the key cache (``jwks``) and the clock (``now_ms``, epoch
    milliseconds)."""

    @property
    def config(self) -> SessionConfig: ...

    @property
    def jwks(self) -> JwksCache: ...

    def now_ms(self) -> int: ...


# tokens -----------------------------------------------------------------------------------------------------------
def parse_access_token(token: str) -> ParsedToken | None:
    """The token parsed, if it is shaped like one of our access tokens (signature not checked yet)."""
    parsed = access_token.parse_checked(token)
    return None if isinstance(parsed, Rejected) else parsed


def _fresh_keys(ctx: RecipeContext, parsed: ParsedToken) -> Flow[None]:
    kid = parsed.header.get("kid")
    kid = kid if isinstance(kid, str) else None
    if ctx.jwks.wants_refresh(kid):
        yield FetchJwks(kid)


def decide(ctx: RecipeContext, token: str | ParsedToken, rules: VerifyRules) -> Flow[Accept | NeedsCore | TryRefresh]:
    """``protocol.verify``'s decision with the JWKS cache as the keys (reloaded first when the kid is unknown)."""
    parsed = access_token.parse(token) if isinstance(token, str) else token
    if isinstance(parsed, Rejected):
        return TryRefresh(parsed.reason, "invalid")
    yield from _fresh_keys(ctx, parsed)
    decision: VerifyDecision = decide_verify(parsed, rules, ctx.jwks.key, ctx.now_ms() // 1000)
    if isinstance(decision, Accept | NeedsCore | TryRefresh):
        return decision
    return TryRefresh("unknown signing key", "invalid")  # the cache was just reloaded (or is cooling down)


def _verified_identity(ctx: RecipeContext, parsed: ParsedToken) -> Flow[VerifiedAccessToken | None]:
    """Signature and claims checked, expiry not: whose session is this (a login replaces it)?"""
    yield from _fresh_keys(ctx, parsed)
    decision = decide_verify(parsed, VerifyRules(), ctx.jwks.key, ctx.now_ms() // 1000, allow_expired=True)
    return decision.verified if isinstance(decision, Accept | NeedsCore) else None


def _state_from_verified(verified: VerifiedAccessToken, token: str) -> SessionState:
    claims = verified.claims
    return SessionState(
        session_handle=claims.session_handle,
        user_id=claims.user_id,
        tenant_id=claims.tenant_id,
        access_token=token,
        access_token_payload=verified.payload,
        access_token_expiry_ms=claims.expires_at * 1000,
        anti_csrf_token=claims.anti_csrf_token,
    )


def state_from_core(
    reply: SessionCreated | Refreshed | Regenerated | Verified, access: IssuedToken, fallback_tenant: str
) -> SessionState:
    """The session a core reply describes; the new access token is the core's own, so only parsed here."""
    parsed = access_token.parse(access.token)
    if isinstance(parsed, Rejected):
        raise CoreError("the core's reply holds an unreadable access token")
    token_tenant = parsed.payload.get("tId")
    session = reply.session
    state = SessionState(
        session_handle=session.handle,
        user_id=session.user_id,
        tenant_id=session.tenant_id or (token_tenant if isinstance(token_tenant, str) else None) or fallback_tenant,
        access_token=access.token,
        access_token_payload=parsed.payload,
        access_token_expiry_ms=access.expiry_ms,
        access_token_updated=True,
        browser_session=session.browser_session,
    )
    if isinstance(reply, SessionCreated | Refreshed):
        state.anti_csrf_token = reply.anti_csrf_token
        state.refresh_token = reply.refresh_token.token
        state.refresh_token_expiry_ms = reply.refresh_token.expiry_ms
    return state


def attach(ctx: RecipeContext, state: SessionState, method: TransferMethod) -> None:
    """Record the response changes that deliver ``state``'s new tokens by ``method``."""
    config = ctx.config
    state.transfer_method = method
    if state.access_token_updated:
        front = transport.front_token(state.user_id, state.access_token_expiry_ms, state.access_token_payload)
        transport.set_access_token(
            state.changes, config, state.access_token, front, method, ctx.now_ms(), state.browser_session
        )
    if state.refresh_token is not None and state.refresh_token_expiry_ms is not None:
        expires = None if state.browser_session else state.refresh_token_expiry_ms
        transport.set_token(state.changes, config, "refresh", state.refresh_token, expires, method)
    if state.anti_csrf_token is not None and state.refresh_token is not None and method == "cookie":
        transport.set_anti_csrf(state.changes, state.anti_csrf_token)


# create -------------------------------------------------------------------------------------------------------------
def create_new_session(
    ctx: RecipeContext,
    *,
    request: RequestView | None,
    tenant_id: str,
    user_id: str,
    access_token_payload: dict[str, Any],
    session_data_in_database: dict[str, Any],
    disable_anti_csrf: bool = False,
    lifetime: SessionLifetime | None = None,
) -> Flow[SessionState]:
    """Create a session at the core and record the response changes that deliver its tokens (by
    ``transfer_method_for_create``), clearing the tokens the request carried the other way. Protected
    claims in ``access_token_payload`` are dropped, and ``iss`` is set to the app's issuer. With ``VIA_TOKEN`` the
    session gets an anti-CSRF token unless its tokens travel in headers or ``disable_anti_csrf`` says not to
    (without a request, as upstream: the caller delivers the tokens and the anti-CSRF token with them).
    ``lifetime``: this session's own lifetimes and browser-session cookies."""
    lifetime = lifetime or SessionLifetime()
    payload = {k: v for k, v in access_token_payload.items() if k not in PROTECTED_CLAIMS}
    payload["iss"] = ctx.config.app_info.issuer
    method = transport.transfer_method_for_create(request, ctx.config)
    by_transport = request is None or method == "cookie"
    enable_anti_csrf = by_transport and not disable_anti_csrf and ctx.config.anti_csrf == "VIA_TOKEN"
    created = yield from ask(
        CreateSession(
            tenant_id=tenant_id,
            user_id=user_id,
            user_data_in_jwt=payload,
            user_data_in_database=session_data_in_database,
            use_dynamic_signing_key=ctx.config.use_dynamic_access_token_signing_key,
            enable_anti_csrf=enable_anti_csrf,
            absolute_lifetime_ms=lifetime.absolute_lifetime_ms,
            refresh_validity_ms=lifetime.refresh_validity_ms,
            browser_session=lifetime.browser_session,
            client_info=client_info_of(ctx.config.client_info, request),
        )
    )
    if isinstance(created, SessionLimitReached):
        raise SessionLimitReachedError(created.limit)
    state = state_from_core(created, created.access_token, tenant_id)
    state.revoked_sessions = created.revoked_sessions
    attach(ctx, state, method)
    if request is not None:
        for other in transport.TRANSFER_METHODS:
            if other != method and transport.token_in(request, "access", other) is not None:
                transport.clear_tokens(state.changes, ctx.config, other)
    return state


def previous_session_handle(ctx: RecipeContext, request: RequestView) -> Flow[str | None]:
    """The handle of a session this request already carries (signature checked, expiry not): a login replaces it."""
    for method in transport.TRANSFER_METHODS:
        token = transport.token_in(request, "access", method)
        parsed = parse_access_token(token) if token is not None else None
        if parsed is None:
            continue
        verified = yield from _verified_identity(ctx, parsed)
        if verified is not None:
            return verified.claims.session_handle
    return None


# verify -------------------------------------------------------------------------------------------------------------
def verify_token(
    ctx: RecipeContext,
    token: str | None,
    *,
    parsed: ParsedToken | None = None,
    anti_csrf_token: str | None,
    do_anti_csrf_check: bool,
    session_required: bool,
    check_database: bool,
) -> Flow[SessionState | Refusal | None]:
    """The session an access token stands for: decided locally, or by the core when the decision says so."""
    if token is None:
        return Unauthorised(NO_SESSION, clear_tokens=False) if session_required else None
    config = ctx.config
    rules = VerifyRules(
        anti_csrf_token,
        do_anti_csrf_check and config.anti_csrf == "VIA_TOKEN",
        check_database,
        config.use_dynamic_access_token_signing_key,
    )
    decision = yield from decide(ctx, parsed if parsed is not None else token, rules)
    if isinstance(decision, TryRefresh):
        return TryRefreshToken(f"invalid access token: {decision.reason}")
    if isinstance(decision, Accept):
        return _state_from_verified(decision.verified, token)
    return (yield from _verify_with_core(ctx, token, decision, rules, do_anti_csrf_check))


def _verify_with_core(
    ctx: RecipeContext, token: str, decision: NeedsCore, rules: VerifyRules, do_anti_csrf_check: bool
) -> Flow[SessionState | Refusal]:
    request = VerifySession(
        access_token=token,
        anti_csrf_token=rules.anti_csrf_token,
        do_anti_csrf_check=do_anti_csrf_check,
        enable_anti_csrf=ctx.config.anti_csrf == "VIA_TOKEN",
        check_database=rules.check_database,
    )
    reply = yield from ask(request)
    if isinstance(reply, VerifyRefused):
        return Unauthorised(reply.message) if reply.status == "UNAUTHORISED" else TryRefreshToken(reply.message)
    if reply.access_token is not None:
        return state_from_core(reply, reply.access_token, decision.verified.claims.tenant_id)
    return _state_from_verified(decision.verified, token)


def _access_token_from_request(
    ctx: RecipeContext, request: RequestView
) -> tuple[str | None, ParsedToken | None, TransferMethod | None] | TryRefreshToken:
    found: dict[TransferMethod, tuple[str, ParsedToken]] = {}
    for method in transport.TRANSFER_METHODS:
        token = transport.token_in(request, "access", method)
        parsed = parse_access_token(token) if token is not None else None
        if token is not None and parsed is not None:
            found[method] = (token, parsed)
    allowed = transport.allowed_transfer(request, ctx.config, False)
    if allowed in ("any", "header") and "header" in found:
        return *found["header"], "header"
    if allowed in ("any", "cookie") and "cookie" in found:
        if len(transport.cookie_tokens(request, "access")) > 1:
            return TryRefreshToken("Multiple access tokens present in the request cookies.")
        return *found["cookie"], "cookie"
    return None, None, None


def _anti_csrf_check_wanted(
    ctx: RecipeContext, request: RequestView, options: VerifyOptions, method: str | None
) -> bool | TryRefreshToken:
    """Whether to compare the anti-CSRF token (VIA_TOKEN), or the refusal when VIA_CUSTOM_HEADER's header is missing."""
    wanted = options.anti_csrf_check if options.anti_csrf_check is not None else request.method != "GET"
    if method != "cookie" or not wanted:
        return False
    if ctx.config.anti_csrf != "VIA_CUSTOM_HEADER":
        return True
    if request.header("rid") is None:
        return TryRefreshToken(
            "anti-csrf check failed. Please pass 'rid: \"session\"' header in the request, or set anti_csrf_check to "
            "false for this API"
        )
    return False


def get_session(
    ctx: RecipeContext, request: RequestView, options: VerifyOptions
) -> Flow[SessionState | Refusal | None]:
    """The request's session, checked as ``options`` say (transfer method, anti-CSRF, database; the claims are
    ``claim_flows``'), and attached to the response the way its token came."""
    if request.cookie_values(transport.LEGACY_ID_REFRESH_COOKIE):
        return TryRefreshToken("using legacy session, please call the refresh API")
    found = _access_token_from_request(ctx, request)
    if isinstance(found, TryRefreshToken):
        return found
    token, parsed, method = found
    check = _anti_csrf_check_wanted(ctx, request, options, method)
    if isinstance(check, TryRefreshToken):
        return check
    state = yield from verify_token(
        ctx,
        token,
        parsed=parsed,
        anti_csrf_token=request.header(transport.ANTI_CSRF_HEADER),
        do_anti_csrf_check=check,
        session_required=options.session_required,
        check_database=options.check_database,
    )
    if not isinstance(state, SessionState):
        return state
    if method is None:  # verify_token answers a request without a token before this: kept total, as before
        allowed = transport.allowed_transfer(request, ctx.config, False)
        method = "header" if allowed == "any" else allowed
    attach(ctx, state, method)
    return state


# refresh ------------------------------------------------------------------------------------------------------------
def _refresh_token_from_request(ctx: RecipeContext, request: RequestView) -> tuple[TransferMethod, str] | Refusal:
    config = ctx.config
    allowed = transport.allowed_transfer(request, config, False)
    header_token = transport.token_in(request, "refresh", "header")
    if allowed in ("any", "header") and header_token is not None:
        return "header", header_token
    cookie_token = transport.token_in(request, "refresh", "cookie")
    if allowed in ("any", "cookie") and cookie_token is not None:
        if len(transport.cookie_tokens(request, "refresh")) > 1:
            if config.older_cookie_domain is None:
                return DuplicateCookies(
                    "The request contains several refresh-token cookies: set older_cookie_domain to the domain "
                    "that older cookies were set on, so that they can be cleared"
                )
            return ClearDuplicateCookies(
                "The request contains multiple session cookies. The cookies of older_cookie_domain are being "
                "cleared; the session will refresh on the next call."
            )
        return "cookie", cookie_token
    if allowed in ("cookie", "any") and transport.token_in(request, "access", "cookie") is not None:
        return Unauthorised("Refresh token not found but access token is present. Clearing all tokens.")
    return Unauthorised("Refresh token not found. Are you sending the refresh token in the request?")


def refresh_session(
    ctx: RecipeContext, request: RequestView, disable_anti_csrf: bool | None = None
) -> Flow[SessionState | Refusal]:
    """Rotate the request's refresh token at the core and deliver the new tokens the way the old one came; the
    core checks the anti-CSRF token (``VIA_TOKEN``) unless the token came in a header or ``disable_anti_csrf``."""
    config = ctx.config
    found = _refresh_token_from_request(ctx, request)
    if not isinstance(found, tuple):
        return found
    method, token = found
    if disable_anti_csrf is None:
        disable_anti_csrf = method == "header"
    if config.anti_csrf == "VIA_CUSTOM_HEADER" and not disable_anti_csrf:
        if request.header("rid") is None:
            return Unauthorised("anti-csrf check failed. Please pass 'rid: \"session\"' header in the request.")
        disable_anti_csrf = True
    reply = yield from ask(
        RefreshSession(
            refresh_token=token,
            anti_csrf_token=request.header(transport.ANTI_CSRF_HEADER),
            enable_anti_csrf=not disable_anti_csrf and config.anti_csrf == "VIA_TOKEN",
            use_dynamic_signing_key=config.use_dynamic_access_token_signing_key,
            client_info=client_info_of(config.client_info, request),
        )
    )
    if isinstance(reply, RefreshRefused):
        return Unauthorised(reply.message)
    if isinstance(reply, TokenTheftDetected):
        return TokenTheft(reply.session_handle, reply.user_id)
    state = state_from_core(reply, reply.access_token, DEFAULT_TENANT)
    attach(ctx, state, method)
    for other in transport.TRANSFER_METHODS:
        if other != method and transport.token_in(request, "refresh", other) is not None:
            transport.clear_tokens(state.changes, config, other)
    if request.cookie_values(transport.LEGACY_ID_REFRESH_COOKIE):
        transport.clear_legacy_cookie(state.changes, config)
    return state
