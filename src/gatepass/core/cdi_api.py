"""The CDI 5.4 endpoints: request validation and the call into the session service, one function per API.

Handlers are synchronous and run in one worker-thread hop each. They return the JSON body; domain outcomes are
HTTP 200 with a ``status`` string, bad input raises ``BadRequest`` (400) before anything is written.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from gatepass.core.apps import AppContext
from gatepass.core.runtime import CoreRuntime
from gatepass.core.sessions import ACCESS_TOKEN_EXPIRED, REFRESH_TOKEN_NOT_VALID, NeedsDatabase
from gatepass.errors import BadRequest
from gatepass.protocol.body import JsonBody, Query
from gatepass.tokens import access_token
from gatepass.tokens.jws import sign_compact

SUPPORTED_CDI_VERSIONS = ("5.0", "5.1", "5.2", "5.3", "5.4")
JWT_RESERVED_CLAIMS = access_token.PROTECTED_CLAIMS - {"sub", "iat", "exp"}
MAX_HANDLES_PER_REVOKE = 10_000  # one transaction: bounded so a single call cannot hold the database for minutes
MAX_JWT_VALIDITY_S = 100 * 365 * 24 * 3600  # a century: any more is a mistake, and exp must stay a sane integer


@dataclass
class Call:
    runtime: CoreRuntime
    ctx: AppContext
    tenant_id: str
    body: JsonBody
    query: Query


@dataclass
class Reply:
    body: dict[str, Any] = field(repr=False)  # replies carry tokens: never in a repr
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Deferred:
    """The rest of a handler's work, which blocks on the database: the server runs it in a worker thread."""

    run: Callable[[], Reply]


Handler = Callable[[Call], "Reply | Deferred"]


def _ok(body: dict[str, Any]) -> Reply:
    return Reply(body)


def api_version(call: Call) -> Reply:
    return _ok({"versions": list(SUPPORTED_CDI_VERSIONS)})


def user_id(call: Call) -> Reply:
    call.query.text("userId")
    return _ok({"status": "UNKNOWN_USER_ID_ERROR"})


def jwks(call: Call) -> Reply:
    keys, max_age = call.ctx.keyring.jwks(call.ctx.config.key_times)
    return Reply({"keys": keys}, {"Cache-Control": f"max-age={max_age}, must-revalidate"})


def create_session(call: Call) -> Reply:
    b = call.body
    return _ok(
        call.runtime.sessions.create(
            call.ctx,
            call.tenant_id,
            user_id=b.text("userId"),
            payload=b.mapping("userDataInJWT", default={}),
            session_data=b.mapping("userDataInDatabase", default={}),
            use_dynamic_key=b.flag("useDynamicSigningKey", default=True),
            enable_anti_csrf=b.flag("enableAntiCsrf", default=False),
        )
    )


def verify_session(call: Call) -> Reply | Deferred:
    b = call.body
    outcome = call.runtime.sessions.verify_without_io(
        call.ctx,
        token=b.text("accessToken"),
        anti_csrf_token=b.optional_text("antiCsrfToken"),
        do_anti_csrf_check=b.flag("doAntiCsrfCheck"),
        enable_anti_csrf=b.flag("enableAntiCsrf", default=False),
        check_database=b.flag("checkDatabase", default=False),
    )
    if isinstance(outcome, NeedsDatabase):
        return Deferred(lambda: _ok(outcome.run()))
    return _ok(outcome)


def refresh_session(call: Call) -> Reply:
    b = call.body
    return _ok(
        call.runtime.sessions.refresh(
            call.ctx,
            token=b.text("refreshToken"),
            anti_csrf_token=b.optional_text("antiCsrfToken"),
            enable_anti_csrf=b.flag("enableAntiCsrf", default=False),
            use_dynamic_key=b.flag("useDynamicSigningKey"),
        )
    )


def regenerate_session(call: Call) -> Reply:
    b = call.body
    return _ok(
        call.runtime.sessions.regenerate(
            call.ctx, token=b.text("accessToken"), payload=b.optional_mapping("userDataInJWT")
        )
    )


def session_information(call: Call) -> Reply:
    handle = call.query.text("sessionHandle")
    return _ok(call.runtime.sessions.information(call.ctx, handle))


def update_session_data(call: Call) -> Reply:
    b = call.body
    return _ok(
        call.runtime.sessions.update_session_data(call.ctx, b.text("sessionHandle"), b.mapping("userDataInDatabase"))
    )


def update_jwt_data(call: Call) -> Reply:
    b = call.body
    return _ok(call.runtime.sessions.update_jwt_payload(call.ctx, b.text("sessionHandle"), b.mapping("userDataInJWT")))


def remove_sessions(call: Call) -> Reply:
    b = call.body
    if b.has("userId") == b.has("sessionHandles"):
        raise BadRequest("Exactly one of 'userId' or 'sessionHandles' must be given")
    if b.has("sessionHandles"):
        handles = b.text_list("sessionHandles")
        if len(handles) > MAX_HANDLES_PER_REVOKE:
            raise BadRequest(f"Field name 'sessionHandles' is invalid: at most {MAX_HANDLES_PER_REVOKE} handles")
        return _ok(call.runtime.sessions.revoke_handles(call.ctx, handles))
    across = b.flag("revokeAcrossAllTenants", default=True)
    b.flag("revokeSessionsForLinkedAccounts", default=True)  # no account linking here; validated only
    tenant = None if across else call.tenant_id
    return _ok(call.runtime.sessions.revoke_user(call.ctx, b.text("userId"), tenant))


def handles_for_user(call: Call) -> Reply:
    across = call.query.flag("fetchAcrossAllTenants", default=True)
    call.query.flag("fetchSessionsForAllLinkedAccounts", default=True)
    tenant = None if across else call.tenant_id
    return _ok(call.runtime.sessions.handles_for_user(call.ctx, call.query.text("userId"), tenant))


def create_jwt(call: Call) -> Reply:
    """The JWT recipe: sign an arbitrary payload (no session claims) with the static or current dynamic key."""
    b = call.body
    if b.text("algorithm").upper() != "RS256":
        return _ok({"status": "UNSUPPORTED_ALGORITHM_ERROR"})
    payload = b.mapping("payload")
    reserved = sorted(JWT_RESERVED_CLAIMS.intersection(payload))
    if reserved:
        raise BadRequest(f"The JWT payload must not contain session claims: {', '.join(reserved)}")
    validity = b.number("validity")
    if not 1 <= validity <= MAX_JWT_VALIDITY_S:
        raise BadRequest(f"Field name 'validity' must be between 1 and {MAX_JWT_VALIDITY_S} seconds")
    key = call.ctx.keyring.signing_key(call.ctx.config.key_times, static=b.flag("useStaticSigningKey", False))
    now_s = call.runtime.clock() // 1000
    claims = {**payload, "iss": b.text("jwksDomain"), "iat": now_s, "exp": now_s + int(validity)}
    return _ok({"status": "OK", "jwt": sign_compact(claims, key)})


def create_or_update_app(call: Call) -> Reply:
    b = call.body
    created = call.runtime.apps.create_or_update_app(b.text("appId"), b.mapping("coreConfig", default={}))
    return _ok({"status": "OK", "createdNew": created})


def remove_app(call: Call) -> Reply:
    existed = call.runtime.apps.remove_app(call.body.text("appId"))
    return _ok({"status": "OK", "didExist": existed})


def create_or_update_tenant(call: Call) -> Reply:
    tenant = call.body.text("tenantId")
    created = call.runtime.apps.create_tenant(call.ctx, tenant)
    return _ok({"status": "OK", "createdNew": created})


FailureKind = Literal["refresh", "verify"]


def is_failure(kind: FailureKind, body: dict[str, Any]) -> bool:
    """Does this answer count against the caller's rate limit? Only tokens that are forged, garbage or fail the
    anti-CSRF check: an expired access token or an ended session is what real clients meet every day."""
    if kind == "refresh":
        return body.get("status") == "UNAUTHORISED" and body.get("message") == REFRESH_TOKEN_NOT_VALID
    return body.get("status") == "TRY_REFRESH_TOKEN" and body.get("message") != ACCESS_TOKEN_EXPIRED


@dataclass(frozen=True)
class Api:
    handler: Handler
    needs_api_key: bool = True
    needs_version: bool = True
    inline: bool = False  # CPU-only (or returns Deferred for its blocking part): may run on the event loop
    failures: FailureKind | None = None  # whose failures the server counts per client address (rate limits)


ROUTES: dict[str, dict[str, Api]] = {
    "/apiversion": {"GET": Api(api_version, needs_version=False, inline=True)},
    "/.well-known/jwks.json": {"GET": Api(jwks, needs_api_key=False, needs_version=False)},
    "/recipe/jwt/jwks": {"GET": Api(jwks, needs_api_key=False, needs_version=False)},
    "/user/id": {"GET": Api(user_id, inline=True)},
    "/recipe/session": {"POST": Api(create_session), "GET": Api(session_information)},
    "/recipe/session/verify": {"POST": Api(verify_session, inline=True, failures="verify")},
    "/recipe/session/refresh": {"POST": Api(refresh_session, failures="refresh")},
    "/recipe/session/regenerate": {"POST": Api(regenerate_session)},
    "/recipe/session/data": {"PUT": Api(update_session_data)},
    "/recipe/jwt/data": {"PUT": Api(update_jwt_data)},
    "/recipe/session/remove": {"POST": Api(remove_sessions)},
    "/recipe/session/user": {"GET": Api(handles_for_user)},
    "/recipe/jwt": {"POST": Api(create_jwt)},
    "/recipe/multitenancy/app/v2": {"PUT": Api(create_or_update_app)},
    "/recipe/multitenancy/app/remove": {"POST": Api(remove_app)},
    "/recipe/multitenancy/tenant/v2": {"PUT": Api(create_or_update_tenant)},
}
