"""The typed CDI wire contract: every request the SDK sends to a core and every reply a core sends back, as frozen
dataclasses, imported by both sides. It follows the Core Driver Interface 5.4 of SuperTokens
(https://github.com/supertokens/core-driver-interface) as gatepass's core speaks it.

The rule: **the JSON mapping lives here and nowhere else.** No other module builds a CDI body from field names or
indexes one with them.

- SDK side: build a request (``VerifySession(access_token=..., do_anti_csrf_check=...)``) and send its ``method``,
  ``path()``, ``body()`` and ``query()``; read the answer with ``request.parse_reply(body)``, which is typed per
  request (``VerifySession.parse_reply`` returns ``Verified | VerifyRefused``) and raises ``CoreError`` (naming the
  call and the field, never a value) for any reply of the wrong shape or with a status the call cannot have.
- Core side: ``SomeRequest.from_wire(tenant_id, body, query)`` reads the request with the ``JsonBody``/``Query``
  calls (and so the 400 messages) the handlers have always used; the handler returns a reply object whose
  ``to_json()`` is the body, byte for byte what the core has always sent (same keys, order and omissions).
- Outcomes that carry different fields are different classes; ``status`` is a ``Literal`` (a class attribute, or
  a field where one class has two statuses). Facts the core needs but the wire does not carry (why a verify or
  refresh was refused, for the rate limiter) are fields excluded from ``to_json`` and from equality.
- Bearer tokens, anti-CSRF tokens and payloads (which may hold a Fauna secret) never appear in a repr.

The parts: ``cdi_base`` (JSON types, the reply reader, base classes, ``IssuedToken``, ``SessionRef``),
``cdi_replies``, ``cdi_session`` (the session recipe's requests) and ``cdi_platform`` (versions, JWKS, JWT,
multitenancy, user id).
"""

from __future__ import annotations

from collections.abc import Mapping

from gatepass.protocol.cdi_base import (
    CdiReply,
    CdiRequest,
    ClientInfo,
    HttpMethod,
    IssuedToken,
    JsonObject,
    JsonValue,
    ReplyReader,
    SessionRef,
)
from gatepass.protocol.cdi_devices import (
    ListUserSessions,
    OthersRevoked,
    RemoveOtherSessions,
    RemoveOthersReply,
    UserSession,
    UserSessions,
)
from gatepass.protocol.cdi_platform import (
    JWT_ALGORITHM,
    MAX_JWT_VALIDITY_S,
    ApiVersion,
    CreateJwt,
    CreateOrUpdateApp,
    CreateOrUpdateTenant,
    GetUserId,
    Jwks,
    RemoveApp,
)
from gatepass.protocol.cdi_replies import (
    NO_SESSION_MESSAGE,
    ApiVersions,
    AppRemoved,
    CreatedOrUpdated,
    CreateReply,
    InformationReply,
    JwksKeys,
    JwtCreated,
    JwtReply,
    NoSession,
    Refreshed,
    RefreshRefusal,
    RefreshRefused,
    RefreshReply,
    Regenerated,
    RegenerateReply,
    Revoked,
    RevokedSession,
    SessionCreated,
    SessionHandles,
    SessionInfo,
    SessionLimitReached,
    TokenTheftDetected,
    UnknownUserId,
    UnsupportedAlgorithm,
    Updated,
    UpdateReply,
    Verified,
    VerifyRefusal,
    VerifyRefused,
    VerifyReply,
)
from gatepass.protocol.cdi_session import (
    MAX_HANDLES_PER_REVOKE,
    CreateSession,
    GetSessionInformation,
    RefreshSession,
    RegenerateSession,
    RemoveSessions,
    RemoveSessionsByHandle,
    RemoveSessionsForUser,
    SessionHandlesForUser,
    UpdateJwtData,
    UpdateSessionData,
    VerifySession,
)

# Every API by (method, api_path), as the core routes it: the request type whose ``from_wire`` reads it.
REQUESTS: Mapping[tuple[HttpMethod, str], type[CdiRequest[CdiReply]]] = {
    (cls.method, cls.api_path): cls
    for cls in (
        ApiVersion,
        Jwks,
        GetUserId,
        CreateSession,
        GetSessionInformation,
        VerifySession,
        RefreshSession,
        RegenerateSession,
        UpdateSessionData,
        UpdateJwtData,
        RemoveSessions,
        SessionHandlesForUser,
        ListUserSessions,
        RemoveOtherSessions,
        CreateJwt,
        CreateOrUpdateApp,
        RemoveApp,
        CreateOrUpdateTenant,
    )
}

__all__ = [
    "JWT_ALGORITHM",
    "MAX_HANDLES_PER_REVOKE",
    "MAX_JWT_VALIDITY_S",
    "NO_SESSION_MESSAGE",
    "REQUESTS",
    "ApiVersion",
    "ApiVersions",
    "AppRemoved",
    "CdiReply",
    "CdiRequest",
    "ClientInfo",
    "CreateJwt",
    "CreateOrUpdateApp",
    "CreateOrUpdateTenant",
    "CreateReply",
    "CreateSession",
    "CreatedOrUpdated",
    "GetSessionInformation",
    "GetUserId",
    "HttpMethod",
    "InformationReply",
    "IssuedToken",
    "JsonObject",
    "JsonValue",
    "Jwks",
    "JwksKeys",
    "JwtCreated",
    "JwtReply",
    "ListUserSessions",
    "NoSession",
    "OthersRevoked",
    "RefreshRefusal",
    "RefreshRefused",
    "RefreshReply",
    "RefreshSession",
    "Refreshed",
    "RegenerateReply",
    "RegenerateSession",
    "Regenerated",
    "RemoveApp",
    "RemoveOtherSessions",
    "RemoveOthersReply",
    "RemoveSessions",
    "RemoveSessionsByHandle",
    "RemoveSessionsForUser",
    "ReplyReader",
    "Revoked",
    "RevokedSession",
    "SessionCreated",
    "SessionHandles",
    "SessionHandlesForUser",
    "SessionInfo",
    "SessionLimitReached",
    "SessionRef",
    "TokenTheftDetected",
    "UnknownUserId",
    "UnsupportedAlgorithm",
    "UpdateJwtData",
    "UpdateReply",
    "UpdateSessionData",
    "Updated",
    "UserSession",
    "UserSessions",
    "Verified",
    "VerifyRefusal",
    "VerifyRefused",
    "VerifyReply",
    "VerifySession",
]
