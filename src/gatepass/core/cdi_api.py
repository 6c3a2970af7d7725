"""The CDI 5.4 endpoints: one handler per API, reading its typed request (``protocol.cdi``) and answering with
its typed reply. The JSON mapping is the contract's; nothing here indexes a body by name.

Handlers are synchronous. Where one runs is its ``Api``'s to say: ``inline`` ones (CPU only, or ``Deferred`` for
the blocking rest) on the event loop; ``short`` ones (at most one short transaction) on the event loop too when the
database is local (SQLite), else in one worker-thread hop; the rest in a worker thread. A handler that signs
returns its work as ``Signing`` steps (``core.steps``), so that the server may sign on another thread. Domain
outcomes are HTTP 200 with a ``status`` string; bad input raises ``BadRequest`` (400) before anything is written.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from gatepass.core.apps import AppContext
from gatepass.core.runtime import CoreRuntime
from gatepass.core.steps import SigningSteps, resume_inline, run_inline
from gatepass.core.verification import NeedsDatabase
from gatepass.protocol.body import JsonBody, Query
from gatepass.protocol.cdi import (
    ApiVersions,
    AppRemoved,
    CdiReply,
    CreatedOrUpdated,
    CreateJwt,
    CreateOrUpdateApp,
    CreateOrUpdateTenant,
    CreateSession,
    GetSessionInformation,
    GetUserId,
    JsonObject,
    JwksKeys,
    JwtCreated,
    ListUserSessions,
    RefreshSession,
    RegenerateSession,
    RemoveApp,
    RemoveOtherSessions,
    RemoveSessions,
    SessionHandlesForUser,
    UnknownUserId,
    UpdateJwtData,
    UpdateSessionData,
    VerifySession,
)
from gatepass.tokens.jws import sign_compact

SUPPORTED_CDI_VERSIONS = ("5.0", "5.1", "5.2", "5.3", "5.4")


@dataclass
class Call:
    """One call to a handler: the runtime, the app it addresses, the tenant of its path, body and query."""

    runtime: CoreRuntime
    ctx: AppContext
    tenant_id: str
    body: JsonBody
    query: Query


@dataclass
class Reply:
    """A handler's answer: the JSON body, extra headers, and whether it counts against the caller's rate limit
    (a refusal of a forged token; never on the wire)."""

    body: JsonObject = field(repr=False)  # replies carry tokens: never in a repr
    headers: dict[str, str] = field(default_factory=dict)
    counts_as_failure: bool = False

    @classmethod
    def of(cls, reply: CdiReply) -> Reply:
        """The wire form of a typed reply."""
        failure = getattr(reply, "counts_as_failure", False)
        headers = reply.headers() if isinstance(reply, JwksKeys) else {}
        return cls(reply.to_json(), headers, failure is True)


@dataclass(frozen=True)
class Deferred:
    """The rest of a handler's work, which blocks on the database: the server runs it in a worker thread."""

    run: Callable[[], Reply]


@dataclass(frozen=True)
class Signing:
    """A handler's work as steps that yield each access token to sign (``core.steps``); the reply is their result's
    wire form. The server drives them, signing where it likes; ``run`` does it all on this thread."""

    steps: SigningSteps[CdiReply]

    def run(self) -> Reply:
        """The reply, every signature made on this thread."""
        return Reply.of(run_inline(self.steps))

    def resume(self, token: str) -> Reply:
        """The reply of steps waiting for ``token``, the rest done on this thread."""
        return Reply.of(resume_inline(self.steps, token))


Handler = Callable[[Call], "Reply | Deferred | Signing"]


def api_version(call: Call) -> Reply:
    """GET /apiversion."""
    return Reply.of(ApiVersions(SUPPORTED_CDI_VERSIONS))


def user_id(call: Call) -> Reply:
    """GET /user/id: no user recipes here."""
    GetUserId.from_wire(call.tenant_id, call.body, call.query)
    return Reply.of(UnknownUserId())


def jwks(call: Call) -> Reply | Deferred:
    """GET /.well-known/jwks.json (and /recipe/jwt/jwks): the public keys, cacheable until the next rotation;
    answered inline when the keys are in memory and none is due (else a key may be read or made first)."""
    keyring, times = call.ctx.keyring, call.ctx.config.key_times
    published = keyring.jwks_without_io(times)
    if published is None:
        return Deferred(lambda: _jwks_reply(*keyring.jwks(times)))
    return _jwks_reply(*published)


def _jwks_reply(keys: list[dict[str, str]], max_age_s: int) -> Reply:
    return Reply.of(JwksKeys(tuple(keys), max_age_s))


def create_session(call: Call) -> Signing:
    """POST /{tenant}/recipe/session."""
    request = CreateSession.from_wire(call.tenant_id, call.body, call.query)
    return Signing(call.runtime.sessions.create_steps(call.ctx, request))


def verify_session(call: Call) -> Reply | Deferred:
    """POST /recipe/session/verify: answered inline unless the database is needed."""
    request = VerifySession.from_wire(call.tenant_id, call.body, call.query)
    outcome = call.runtime.verifier.verify_without_io(call.ctx, request)
    if isinstance(outcome, NeedsDatabase):
        return Deferred(lambda: Reply.of(outcome.run()))
    return Reply.of(outcome)


def refresh_session(call: Call) -> Signing:
    """POST /recipe/session/refresh."""
    request = RefreshSession.from_wire(call.tenant_id, call.body, call.query)
    return Signing(call.runtime.sessions.refresh_steps(call.ctx, request))


def regenerate_session(call: Call) -> Signing:
    """POST /recipe/session/regenerate."""
    request = RegenerateSession.from_wire(call.tenant_id, call.body, call.query)
    return Signing(call.runtime.sessions.regenerate_steps(call.ctx, request))


def session_information(call: Call) -> Reply:
    """GET /recipe/session."""
    request = GetSessionInformation.from_wire(call.tenant_id, call.body, call.query)
    return Reply.of(call.runtime.records.information(call.ctx, request))


def update_session_data(call: Call) -> Reply:
    """PUT /recipe/session/data."""
    request = UpdateSessionData.from_wire(call.tenant_id, call.body, call.query)
    return Reply.of(call.runtime.records.update_session_data(call.ctx, request))


def update_jwt_data(call: Call) -> Reply:
    """PUT /recipe/jwt/data."""
    request = UpdateJwtData.from_wire(call.tenant_id, call.body, call.query)
    return Reply.of(call.runtime.records.update_jwt_payload(call.ctx, request))


def remove_sessions(call: Call) -> Reply:
    """POST [/{tenant}]/recipe/session/remove: by handles, or all of a user's."""
    request = RemoveSessions.from_wire(call.tenant_id, call.body, call.query)
    return Reply.of(call.runtime.records.revoke(call.ctx, request))


def handles_for_user(call: Call) -> Reply:
    """GET [/{tenant}]/recipe/session/user."""
    request = SessionHandlesForUser.from_wire(call.tenant_id, call.body, call.query)
    return Reply.of(call.runtime.records.handles_for_user(call.ctx, request))


def user_sessions(call: Call) -> Reply:
    """GET [/{tenant}]/recipe/session/user/sessions (gatepass's "your devices")."""
    request = ListUserSessions.from_wire(call.tenant_id, call.body, call.query)
    return Reply.of(call.runtime.records.user_sessions(call.ctx, request))


def remove_other_sessions(call: Call) -> Reply:
    """POST [/{tenant}]/recipe/session/user/sessions/remove-others (gatepass's)."""
    request = RemoveOtherSessions.from_wire(call.tenant_id, call.body, call.query)
    return Reply.of(call.runtime.records.revoke_others(call.ctx, request))


def create_jwt(call: Call) -> Reply:
    """POST /recipe/jwt: sign an arbitrary payload (no session claims) with the static or current dynamic key."""
    request = CreateJwt.from_wire(call.tenant_id, call.body, call.query)
    if not isinstance(request, CreateJwt):
        return Reply.of(request)  # an algorithm other than RS256
    key = call.ctx.keyring.signing_key(call.ctx.config.key_times, static=request.use_static_signing_key)
    now_s = call.runtime.clock() // 1000
    # iss: the payload's own when it has one (the OpenID issuer, api domain + base path), else jwksDomain, as
    # upstream's core; iat and exp are always the core's
    claims = {"iss": request.jwks_domain, **request.payload, "iat": now_s, "exp": now_s + int(request.validity_s)}
    return Reply.of(JwtCreated(sign_compact(claims, key)))


def create_or_update_app(call: Call) -> Reply:
    """PUT /recipe/multitenancy/app/v2."""
    request = CreateOrUpdateApp.from_wire(call.tenant_id, call.body, call.query)
    created = call.runtime.apps.create_or_update_app(request.app_id, dict(request.core_config))
    return Reply.of(CreatedOrUpdated(created))


def remove_app(call: Call) -> Reply:
    """POST /recipe/multitenancy/app/remove."""
    request = RemoveApp.from_wire(call.tenant_id, call.body, call.query)
    return Reply.of(AppRemoved(call.runtime.apps.remove_app(request.app_id)))


def create_or_update_tenant(call: Call) -> Reply:
    """PUT /recipe/multitenancy/tenant/v2."""
    request = CreateOrUpdateTenant.from_wire(call.tenant_id, call.body, call.query)
    return Reply.of(CreatedOrUpdated(call.runtime.apps.create_tenant(call.ctx, request.tenant_id)))


FailureKind = Literal["refresh", "verify"]


@dataclass(frozen=True)
class Api:
    """One route's handler and how the server treats it (API key, version header, inline, rate-limit kind)."""

    handler: Handler
    needs_api_key: bool = True
    needs_version: bool = True
    inline: bool = False  # CPU-only (or returns Deferred for its blocking part): may run on the event loop
    short: bool = False  # at most one short transaction: on a local database it runs on the event loop
    failures: FailureKind | None = None  # whose failures the server counts per client address (rate limits)


ROUTES: dict[str, dict[str, Api]] = {
    "/apiversion": {"GET": Api(api_version, needs_version=False, inline=True)},
    "/.well-known/jwks.json": {"GET": Api(jwks, needs_api_key=False, needs_version=False, inline=True)},
    "/recipe/jwt/jwks": {"GET": Api(jwks, needs_api_key=False, needs_version=False, inline=True)},
    "/user/id": {"GET": Api(user_id, inline=True)},
    "/recipe/session": {"POST": Api(create_session, short=True), "GET": Api(session_information, short=True)},
    "/recipe/session/verify": {"POST": Api(verify_session, inline=True, failures="verify", short=True)},
    "/recipe/session/refresh": {"POST": Api(refresh_session, failures="refresh", short=True)},
    "/recipe/session/regenerate": {"POST": Api(regenerate_session, short=True)},
    "/recipe/session/data": {"PUT": Api(update_session_data, short=True)},
    "/recipe/jwt/data": {"PUT": Api(update_jwt_data, short=True)},
    "/recipe/session/remove": {"POST": Api(remove_sessions, short=True)},
    "/recipe/session/user": {"GET": Api(handles_for_user)},
    "/recipe/session/user/sessions": {"GET": Api(user_sessions)},
    "/recipe/session/user/sessions/remove-others": {"POST": Api(remove_other_sessions)},
    "/recipe/jwt": {"POST": Api(create_jwt)},
    "/recipe/multitenancy/app/v2": {"PUT": Api(create_or_update_app)},
    "/recipe/multitenancy/app/remove": {"POST": Api(remove_app)},
    "/recipe/multitenancy/tenant/v2": {"PUT": Api(create_or_update_tenant)},
}
