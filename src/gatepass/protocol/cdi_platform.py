"""The CDI requests outside the session recipe: API versions, the JWKS, the JWT recipe, multitenancy (apps and
tenants) and the user-id lookup. Public names are re-exported by ``gatepass.protocol.cdi``.

``from_wire`` reads a body with exactly the ``JsonBody``/``Query`` calls, defaults and order the core's handlers
have always used, so a bad request gets the same 400 message.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Self

from gatepass.errors import BadRequest
from gatepass.protocol.body import JsonBody, Query
from gatepass.protocol.cdi_base import CdiRequest, JsonObject, ReplyReader
from gatepass.protocol.cdi_replies import (
    UNSUPPORTED_ALGORITHM_ERROR,
    ApiVersions,
    AppRemoved,
    CreatedOrUpdated,
    JwksKeys,
    JwtCreated,
    JwtReply,
    UnknownUserId,
    UnsupportedAlgorithm,
)
from gatepass.protocol.cdi_session import Outcomes, read_outcome
from gatepass.tokens.access_token import MAX_TIME_CLAIM

JWT_ALGORITHM = "RS256"
# Upstream takes any positive validity (its SDK's tests pass a time in milliseconds); the bound keeps exp exact.
MAX_JWT_VALIDITY_S = MAX_TIME_CLAIM // 2


@dataclass(frozen=True)
class ApiVersion(CdiRequest[ApiVersions]):
    """GET /apiversion (no API key or cdi-version header needed)."""

    method = "GET"
    api_path = "/apiversion"
    what = "API version check"

    def parse_reply(self, body: object) -> ApiVersions:
        return ApiVersions.read(ReplyReader(body, self.what))

    @classmethod
    def from_wire(cls, tenant_id: str, body: JsonBody, query: Query) -> Self:
        return cls()


@dataclass(frozen=True)
class Jwks(CdiRequest[JwksKeys]):
    """GET /.well-known/jwks.json (also served at /recipe/jwt/jwks; public: no API key)."""

    method = "GET"
    api_path = "/.well-known/jwks.json"
    what = "JWKS fetch"

    def parse_reply(self, body: object) -> JwksKeys:
        return JwksKeys.read(ReplyReader(body, self.what))

    @classmethod
    def from_wire(cls, tenant_id: str, body: JsonBody, query: Query) -> Self:
        return cls()


@dataclass(frozen=True, kw_only=True)
class CreateJwt(CdiRequest[JwtReply]):
    """POST /recipe/jwt: sign ``payload`` (no session claims) for ``validity_s`` seconds; ``iss`` is the payload's,
    or ``jwks_domain`` when it has none.

    ``from_wire`` answers an algorithm other than RS256 before reading anything else, as the core always has: it
    returns ``UnsupportedAlgorithm`` (the reply) instead of a request. It also applies the core's two checks that
    come before the remaining fields are read (no reserved claims; 1 s <= validity <= a century).
    """

    method = "POST"
    api_path = "/recipe/jwt"
    what = "JWT creation"
    payload: JsonObject = field(repr=False)
    validity_s: float
    use_static_signing_key: bool = False
    algorithm: str = JWT_ALGORITHM
    jwks_domain: str

    def body(self) -> JsonObject:
        return {
            "payload": self.payload,
            "validity": self.validity_s,
            "useStaticSigningKey": self.use_static_signing_key,
            "algorithm": self.algorithm,
            "jwksDomain": self.jwks_domain,
        }

    def parse_reply(self, body: object) -> JwtReply:
        outcomes: Outcomes[JwtReply] = {"OK": JwtCreated.read, UNSUPPORTED_ALGORITHM_ERROR: UnsupportedAlgorithm.read}
        return read_outcome(body, self.what, outcomes)

    @classmethod
    def from_wire(cls, tenant_id: str, body: JsonBody, query: Query) -> Self | UnsupportedAlgorithm:
        algorithm = body.text("algorithm")
        if algorithm.upper() != JWT_ALGORITHM:
            return UnsupportedAlgorithm()
        # A payload shaped like a session's signs a token the SDKs verify as that session, as upstream's core does
        # (its SDKs' tests rely on it): only the API key's holder, who can create sessions anyway, can ask for one.
        payload = body.mapping("payload")
        validity = body.number("validity")
        if not 1 <= validity <= MAX_JWT_VALIDITY_S:
            raise BadRequest(f"Field name 'validity' must be between 1 and {MAX_JWT_VALIDITY_S} seconds")
        return cls(
            payload=payload,
            validity_s=validity,
            use_static_signing_key=body.flag("useStaticSigningKey", False),
            algorithm=algorithm,
            jwks_domain=body.text("jwksDomain"),
        )


@dataclass(frozen=True, kw_only=True)
class CreateOrUpdateApp(CdiRequest[CreatedOrUpdated]):
    """PUT /recipe/multitenancy/app/v2: ``core_config`` may set the app's token lifetimes."""

    method = "PUT"
    api_path = "/recipe/multitenancy/app/v2"
    what = "app creation"
    app_id: str
    core_config: JsonObject = field(default_factory=dict)

    def body(self) -> JsonObject:
        return {"appId": self.app_id, "coreConfig": self.core_config}

    def parse_reply(self, body: object) -> CreatedOrUpdated:
        return read_outcome(body, self.what, {"OK": CreatedOrUpdated.read})

    @classmethod
    def from_wire(cls, tenant_id: str, body: JsonBody, query: Query) -> Self:
        return cls(app_id=body.text("appId"), core_config=body.mapping("coreConfig", default={}))


@dataclass(frozen=True, kw_only=True)
class RemoveApp(CdiRequest[AppRemoved]):
    """POST /recipe/multitenancy/app/remove."""

    method = "POST"
    api_path = "/recipe/multitenancy/app/remove"
    what = "app removal"
    app_id: str

    def body(self) -> JsonObject:
        return {"appId": self.app_id}

    def parse_reply(self, body: object) -> AppRemoved:
        return read_outcome(body, self.what, {"OK": AppRemoved.read})

    @classmethod
    def from_wire(cls, tenant_id: str, body: JsonBody, query: Query) -> Self:
        return cls(app_id=body.text("appId"))


@dataclass(frozen=True, kw_only=True)
class CreateOrUpdateTenant(CdiRequest[CreatedOrUpdated]):
    """PUT /recipe/multitenancy/tenant/v2: a tenant of the app the connection (``/appid-<app>``) names."""

    method = "PUT"
    api_path = "/recipe/multitenancy/tenant/v2"
    what = "tenant creation"
    tenant_id: str

    def body(self) -> JsonObject:
        return {"tenantId": self.tenant_id}

    def parse_reply(self, body: object) -> CreatedOrUpdated:
        return read_outcome(body, self.what, {"OK": CreatedOrUpdated.read})

    @classmethod
    def from_wire(cls, tenant_id: str, body: JsonBody, query: Query) -> Self:
        return cls(tenant_id=body.text("tenantId"))  # the new tenant, not the one in the path


@dataclass(frozen=True, kw_only=True)
class GetUserId(CdiRequest[UnknownUserId]):
    """GET /user/id?userId=...: the core keeps no users, so the answer is always ``UNKNOWN_USER_ID_ERROR``."""

    method = "GET"
    api_path = "/user/id"
    what = "user id lookup"
    user_id: str

    def query(self) -> dict[str, str]:
        return {"userId": self.user_id}

    def parse_reply(self, body: object) -> UnknownUserId:
        return read_outcome(body, self.what, {"UNKNOWN_USER_ID_ERROR": UnknownUserId.read})

    @classmethod
    def from_wire(cls, tenant_id: str, body: JsonBody, query: Query) -> Self:
        return cls(user_id=query.text("userId"))
