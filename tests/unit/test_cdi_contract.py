"""The typed CDI wire contract (``gatepass.protocol.cdi``).

What must hold: every reply's ``to_json`` is exactly the body the core sends today (keys, key order, omissions:
the literals below are copied from ``core/sessions.py`` and ``core/cdi_api.py``) and parses back to an equal
object; every request's ``path``/``body``/``query`` is exactly what the SDK sends today (``recipe/session/flows.py``,
``core_client.py``) and ``from_wire`` of it gives the request back; a reply of any other shape is a ``CoreError``
and nothing else; a bad request body is a ``BadRequest`` with the messages of ``protocol/body.py``; no repr shows a
token, an anti-CSRF token or a payload.
"""

from __future__ import annotations

import copy
import dataclasses
import inspect
import json
import re
from typing import Any, Union, assert_type, get_args, get_origin, get_type_hints
from urllib.parse import parse_qsl

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gatepass.errors import BadRequest, CoreError
from gatepass.protocol import cdi, cdi_base, cdi_platform, cdi_replies, cdi_session
from gatepass.protocol.body import JsonBody, Query
from gatepass.protocol.cdi import (
    ApiVersion,
    ApiVersions,
    AppRemoved,
    CdiReply,
    CdiRequest,
    ClientInfo,
    CreatedOrUpdated,
    CreateJwt,
    CreateOrUpdateApp,
    CreateOrUpdateTenant,
    CreateSession,
    GetSessionInformation,
    GetUserId,
    IssuedToken,
    JsonObject,
    Jwks,
    JwksKeys,
    JwtCreated,
    ListUserSessions,
    NoSession,
    OthersRevoked,
    Refreshed,
    RefreshRefused,
    RefreshReply,
    RefreshSession,
    Regenerated,
    RegenerateSession,
    RemoveApp,
    RemoveOtherSessions,
    RemoveSessions,
    RemoveSessionsByHandle,
    RemoveSessionsForUser,
    Revoked,
    RevokedSession,
    SessionCreated,
    SessionHandles,
    SessionHandlesForUser,
    SessionInfo,
    SessionLimitReached,
    SessionRef,
    TokenTheftDetected,
    UnknownUserId,
    UnsupportedAlgorithm,
    Updated,
    UpdateJwtData,
    UpdateSessionData,
    UserSession,
    UserSessions,
    Verified,
    VerifyRefused,
    VerifyReply,
    VerifySession,
)
from tests.fuzz_settings import fuzz_settings

# Secrets: none may appear in a repr, a str or an error message.
ACCESS = "eyJhbGciOiJSUzI1NiJ9.ACCESS-TOKEN-PAYLOAD.ACCESS-TOKEN-SIGNATURE"
ACCESS_2 = "eyJhbGciOiJSUzI1NiJ9.SECOND-ACCESS-PAYLOAD.SECOND-ACCESS-SIGNATURE"
REFRESH = "gp1.REFRESH-TOKEN-SEALED-CONTENT-0123456789"
ANTI_CSRF = "3f1d2c4e-ANTI-CSRF-TOKEN-5b6a-7c8d9e0f"
JWT = "eyJhbGciOiJSUzI1NiJ9.JWT-RECIPE-PAYLOAD.JWT-RECIPE-SIGNATURE"
FAUNA = "fnAEXAMPLE-FAUNA-SECRET-0123456789"
SECRETS = [ACCESS, ACCESS_2, REFRESH, ANTI_CSRF, JWT, FAUNA]

HANDLE = "6a3b1c52-5f0e-4f4e-9a57-2b2c36a1e0d4"
HANDLE_T1 = "0d5c3a18-7a3e-4c43-8c1d-8e7e0e9b4a11_t1"
NOW = 1_700_000_000_000


def _ordered(value: Any) -> Any:
    """A JSON value with every object's key order made significant (``==`` on dicts ignores it)."""
    if isinstance(value, dict):
        return [(key, _ordered(member)) for key, member in value.items()]
    if isinstance(value, list):
        return [_ordered(member) for member in value]
    return value


# replies: the core's bodies today ----------------------------------------------------------------------------------
SESSION = SessionRef(HANDLE, "user-1", "user-1", "public", {"role": "admin", "fauna": FAUNA})
SESSION_JSON = {
    "handle": HANDLE,
    "userId": "user-1",
    "recipeUserId": "user-1",
    "userDataInJWT": {"role": "admin", "fauna": FAUNA},
    "tenantId": "public",
}
ACCESS_TOKEN = IssuedToken(ACCESS, NOW + 3_600_000, NOW)
ACCESS_TOKEN_JSON = {"token": ACCESS, "expiry": NOW + 3_600_000, "createdTime": NOW}
REFRESH_TOKEN = IssuedToken(REFRESH, NOW + 8_640_000_000, NOW)
REFRESH_TOKEN_JSON = {"token": REFRESH, "expiry": NOW + 8_640_000_000, "createdTime": NOW}
SESSION_T1 = SessionRef(HANDLE_T1, "user-2", "user-2", "t1", {})
SESSION_T1_JSON = {
    "handle": HANDLE_T1,
    "userId": "user-2",
    "recipeUserId": "user-2",
    "userDataInJWT": {},
    "tenantId": "t1",
}
JWK: JsonObject = {
    "kty": "RSA",
    "kid": "d-1700000000000",
    "n": "sXchDaQebHnPiGvyDOAT4saGEUetSyo9MKLOoWFsueri",
    "e": "AQAB",
}
JWK |= {"alg": "RS256", "use": "sig"}

CREATE = CreateSession(tenant_id="public", user_id="user-1", user_data_in_jwt={}, user_data_in_database={})
VERIFY = VerifySession(access_token=ACCESS, do_anti_csrf_check=False)
REFRESH_REQUEST = RefreshSession(refresh_token=REFRESH, use_dynamic_signing_key=True)
REGENERATE = RegenerateSession(access_token=ACCESS, user_data_in_jwt={"role": "admin"})
INFO = GetSessionInformation(session_handle=HANDLE)
UPDATE_DATA = UpdateSessionData(session_handle=HANDLE, user_data_in_database={"fauna": FAUNA})
UPDATE_JWT = UpdateJwtData(session_handle=HANDLE, user_data_in_jwt={"role": "admin"})
REMOVE = RemoveSessionsByHandle(handles=(HANDLE,))
LIST = SessionHandlesForUser(user_id="user-1", tenant_id=None)
DEVICES = ListUserSessions(user_id="user-1", tenant_id=None)
OTHERS = RemoveOtherSessions(session_handle=HANDLE, tenant_id=None)
PHONE = ClientInfo("192.0.2.7", "Phone/1.0")
DEVICE = UserSession(HANDLE, "public", 1, 5, 9, True, PHONE, ClientInfo("2001:db8::1", None))
DEVICE_JSON = {
    "sessionHandle": HANDLE,
    "tenantId": "public",
    "timeCreated": 1,
    "lastActive": 5,
    "expiry": 9,
    "browserSession": True,
    "createdFrom": {"ip": "192.0.2.7", "userAgent": "Phone/1.0"},
    "lastSeenFrom": {"ip": "2001:db8::1"},
}
JWT_REQUEST = CreateJwt(payload={"scope": "read"}, validity_s=3600, jwks_domain="https://api.example.com")
NEW_APP = CreateOrUpdateApp(app_id="app1")
NEW_TENANT = CreateOrUpdateTenant(tenant_id="t1")

REPLIES: list[tuple[str, CdiRequest[CdiReply], CdiReply, dict[str, Any]]] = [
    (
        "created with anti-CSRF",
        CREATE,
        SessionCreated(SESSION, ACCESS_TOKEN, REFRESH_TOKEN, ANTI_CSRF),
        {
            "status": "OK",
            "session": SESSION_JSON,
            "accessToken": ACCESS_TOKEN_JSON,
            "refreshToken": REFRESH_TOKEN_JSON,
            "antiCsrfToken": ANTI_CSRF,
        },
    ),
    (
        "created without anti-CSRF",
        CREATE,
        SessionCreated(SESSION_T1, ACCESS_TOKEN, REFRESH_TOKEN),
        {
            "status": "OK",
            "session": SESSION_T1_JSON,
            "accessToken": ACCESS_TOKEN_JSON,
            "refreshToken": REFRESH_TOKEN_JSON,
        },
    ),
    (
        "created at the cap, the oldest revoked",
        CREATE,
        SessionCreated(
            SESSION, ACCESS_TOKEN, REFRESH_TOKEN, None, (RevokedSession("old", "user-1", "t1", {"f": FAUNA}, {"d": 1}),)
        ),
        {
            "status": "OK",
            "session": SESSION_JSON,
            "accessToken": ACCESS_TOKEN_JSON,
            "refreshToken": REFRESH_TOKEN_JSON,
            "revokedSessions": [
                {
                    "sessionHandle": "old",
                    "userId": "user-1",
                    "tenantId": "t1",
                    "userDataInJWT": {"f": FAUNA},
                    "userDataInDatabase": {"d": 1},
                }
            ],
        },
    ),
    (
        "refused at the cap",
        CREATE,
        SessionLimitReached(3),
        {"status": "SESSION_LIMIT_REACHED", "maxSessionsPerUser": 3},
    ),
    ("verified", VERIFY, Verified(SESSION), {"status": "OK", "session": SESSION_JSON}),
    (
        "verified with a new access token",
        VERIFY,
        Verified(SESSION, ACCESS_TOKEN),
        {"status": "OK", "session": SESSION_JSON, "accessToken": ACCESS_TOKEN_JSON},
    ),
    (
        "verify: expired",
        VERIFY,
        VerifyRefused("TRY_REFRESH_TOKEN", "Access token is not valid: token expired", reason="expired"),
        {"status": "TRY_REFRESH_TOKEN", "message": "Access token is not valid: token expired"},
    ),
    (
        "verify: anti-CSRF",
        VERIFY,
        VerifyRefused("TRY_REFRESH_TOKEN", "anti-csrf check failed", reason="anti_csrf"),
        {"status": "TRY_REFRESH_TOKEN", "message": "anti-csrf check failed"},
    ),
    (
        "verify: session ended",
        VERIFY,
        VerifyRefused("UNAUTHORISED", "Either the session has ended or has been blacklisted", reason="session_ended"),
        {"status": "UNAUTHORISED", "message": "Either the session has ended or has been blacklisted"},
    ),
    (
        "refreshed with anti-CSRF",
        REFRESH_REQUEST,
        Refreshed(SESSION, ACCESS_TOKEN, REFRESH_TOKEN, ANTI_CSRF),
        {
            "status": "OK",
            "session": SESSION_JSON,
            "accessToken": ACCESS_TOKEN_JSON,
            "refreshToken": REFRESH_TOKEN_JSON,
            "antiCsrfToken": ANTI_CSRF,
        },
    ),
    (
        "refreshed",
        REFRESH_REQUEST,
        Refreshed(SESSION_T1, ACCESS_TOKEN, REFRESH_TOKEN),
        {
            "status": "OK",
            "session": SESSION_T1_JSON,
            "accessToken": ACCESS_TOKEN_JSON,
            "refreshToken": REFRESH_TOKEN_JSON,
        },
    ),
    (
        "refresh: not a token",
        REFRESH_REQUEST,
        RefreshRefused("The refresh token is not valid", reason="invalid_token"),
        {"status": "UNAUTHORISED", "message": "The refresh token is not valid"},
    ),
    (
        "refresh: session ended",
        REFRESH_REQUEST,
        RefreshRefused("Session missing in db or has expired", reason="session_ended"),
        {"status": "UNAUTHORISED", "message": "Session missing in db or has expired"},
    ),
    (
        "refresh: theft",
        REFRESH_REQUEST,
        TokenTheftDetected(HANDLE, "user-1"),
        {"status": "TOKEN_THEFT_DETECTED", "session": {"handle": HANDLE, "userId": "user-1", "recipeUserId": "user-1"}},
    ),
    (
        "regenerated",
        REGENERATE,
        Regenerated(SESSION, IssuedToken(ACCESS_2, NOW + 3_600_000, NOW + 5_000)),
        {
            "status": "OK",
            "session": SESSION_JSON,
            "accessToken": {"token": ACCESS_2, "expiry": NOW + 3_600_000, "createdTime": NOW + 5_000},
        },
    ),
    ("regenerated, token expired", REGENERATE, Regenerated(SESSION), {"status": "OK", "session": SESSION_JSON}),
    (
        "regenerate: not our token",
        REGENERATE,
        NoSession("Access token is not valid: invalid signature"),
        {"status": "UNAUTHORISED", "message": "Access token is not valid: invalid signature"},
    ),
    (
        "session information",
        INFO,
        SessionInfo(
            HANDLE, "user-1", "user-1", {"fauna": FAUNA}, NOW + 8_640_000_000, {"role": "admin"}, NOW, "public"
        ),
        {
            "status": "OK",
            "sessionHandle": HANDLE,
            "userId": "user-1",
            "recipeUserId": "user-1",
            "userDataInDatabase": {"fauna": FAUNA},
            "expiry": NOW + 8_640_000_000,
            "userDataInJWT": {"role": "admin"},
            "timeCreated": NOW,
            "tenantId": "public",
        },
    ),
    ("no session", INFO, NoSession(), {"status": "UNAUTHORISED", "message": "Session does not exist."}),
    ("session data updated", UPDATE_DATA, Updated(), {"status": "OK"}),
    (
        "session data: no session",
        UPDATE_DATA,
        NoSession(),
        {"status": "UNAUTHORISED", "message": "Session does not exist."},
    ),
    ("payload updated", UPDATE_JWT, Updated(), {"status": "OK"}),
    ("payload: no session", UPDATE_JWT, NoSession(), {"status": "UNAUTHORISED", "message": "Session does not exist."}),
    ("revoked", REMOVE, Revoked((HANDLE, HANDLE_T1)), {"status": "OK", "sessionHandlesRevoked": [HANDLE, HANDLE_T1]}),
    ("none revoked", REMOVE, Revoked(()), {"status": "OK", "sessionHandlesRevoked": []}),
    ("handles", LIST, SessionHandles((HANDLE,)), {"status": "OK", "sessionHandles": [HANDLE]}),
    ("devices", DEVICES, UserSessions((DEVICE,)), {"status": "OK", "sessions": [DEVICE_JSON]}),
    (
        "a device seen from nowhere",
        DEVICES,
        UserSessions((UserSession(HANDLE_T1, "t1", 1, 1, 2),)),
        {
            "status": "OK",
            "sessions": [
                {
                    "sessionHandle": HANDLE_T1,
                    "tenantId": "t1",
                    "timeCreated": 1,
                    "lastActive": 1,
                    "expiry": 2,
                    "browserSession": False,
                }
            ],
        },
    ),
    (
        "others revoked",
        OTHERS,
        OthersRevoked((RevokedSession(HANDLE_T1, "user-1", "t1", {"f": FAUNA}, {}),)),
        {
            "status": "OK",
            "revokedSessions": [
                {
                    "sessionHandle": HANDLE_T1,
                    "userId": "user-1",
                    "tenantId": "t1",
                    "userDataInJWT": {"f": FAUNA},
                    "userDataInDatabase": {},
                }
            ],
        },
    ),
    ("others: no such session", OTHERS, NoSession(), {"status": "UNAUTHORISED", "message": "Session does not exist."}),
    ("jwt", JWT_REQUEST, JwtCreated(JWT), {"status": "OK", "jwt": JWT}),
    ("jwt: algorithm", JWT_REQUEST, UnsupportedAlgorithm(), {"status": "UNSUPPORTED_ALGORITHM_ERROR"}),
    (
        "api versions",
        ApiVersion(),
        ApiVersions(("5.0", "5.1", "5.2", "5.3", "5.4")),
        {"versions": ["5.0", "5.1", "5.2", "5.3", "5.4"]},
    ),
    ("jwks", Jwks(), JwksKeys((JWK,), max_age_s=60), {"keys": [JWK]}),
    ("app created", NEW_APP, CreatedOrUpdated(True), {"status": "OK", "createdNew": True}),
    ("app removed", RemoveApp(app_id="app1"), AppRemoved(False), {"status": "OK", "didExist": False}),
    ("tenant existed", NEW_TENANT, CreatedOrUpdated(False), {"status": "OK", "createdNew": False}),
    ("user id", GetUserId(user_id="user-1"), UnknownUserId(), {"status": "UNKNOWN_USER_ID_ERROR"}),
]
REPLY_IDS = [name for name, *_ in REPLIES]


def _wire(name: str) -> dict[str, Any]:
    return copy.deepcopy(next(wire for reply_name, _, _, wire in REPLIES if reply_name == name))


def _public_classes() -> list[type]:
    return [obj for obj in (getattr(cdi, name) for name in cdi.__all__) if inspect.isclass(obj)]


@pytest.mark.parametrize("name,request_,reply,wire", REPLIES, ids=REPLY_IDS)
def test_reply_to_json_is_todays_body(name: str, request_: CdiRequest[CdiReply], reply: CdiReply, wire: Any) -> None:
    assert _ordered(reply.to_json()) == _ordered(wire)
    assert json.dumps(reply.to_json()) == json.dumps(wire)  # byte for byte


@pytest.mark.parametrize("name,request_,reply,wire", REPLIES, ids=REPLY_IDS)
def test_reply_parses_back(name: str, request_: CdiRequest[CdiReply], reply: CdiReply, wire: Any) -> None:
    parsed = request_.parse_reply(json.loads(json.dumps(wire)))
    assert parsed == reply
    assert type(parsed) is type(reply)
    assert isinstance(parsed, _reply_types(request_))


def test_every_reply_type_has_an_example() -> None:
    replies = {cls for cls in _public_classes() if issubclass(cls, CdiReply) and not inspect.isabstract(cls)}
    assert replies == {type(reply) for _, _, reply, _ in REPLIES}


# requests: what the SDK sends today ---------------------------------------------------------------------------------
PAYLOAD: JsonObject = {"role": "admin", "iss": "https://api.example.com"}
LINKED = "revokeSessionsForLinkedAccounts"
# (name, request, "METHOD path?query" as the SDK sends it, body)
REQUESTS: list[tuple[str, CdiRequest[CdiReply], str, dict[str, Any] | None]] = [
    (
        "create",
        CreateSession(
            tenant_id="public",
            user_id="user-1",
            user_data_in_jwt=PAYLOAD,
            user_data_in_database={"fauna": FAUNA},
            enable_anti_csrf=True,
        ),
        "POST /public/recipe/session",
        {
            "userId": "user-1",
            "userDataInJWT": PAYLOAD,
            "userDataInDatabase": {"fauna": FAUNA},
            "useDynamicSigningKey": True,
            "enableAntiCsrf": True,
        },
    ),
    (
        "create in t1",
        CreateSession(
            tenant_id="t1", user_id="u2", user_data_in_jwt={}, user_data_in_database={}, use_dynamic_signing_key=False
        ),
        "POST /t1/recipe/session",
        {
            "userId": "u2",
            "userDataInJWT": {},
            "userDataInDatabase": {},
            "useDynamicSigningKey": False,
            "enableAntiCsrf": False,
        },
    ),
    (
        "verify with anti-CSRF",
        VerifySession(access_token=ACCESS, anti_csrf_token=ANTI_CSRF, do_anti_csrf_check=True, enable_anti_csrf=True),
        "POST /recipe/session/verify",
        {"accessToken": ACCESS, "doAntiCsrfCheck": True, "enableAntiCsrf": True, "checkDatabase": False}
        | {"antiCsrfToken": ANTI_CSRF},
    ),
    (
        "verify",
        VerifySession(access_token=ACCESS, do_anti_csrf_check=False, check_database=True),
        "POST /recipe/session/verify",
        {"accessToken": ACCESS, "doAntiCsrfCheck": False, "enableAntiCsrf": False, "checkDatabase": True},
    ),
    (
        "refresh with anti-CSRF",
        RefreshSession(
            refresh_token=REFRESH, anti_csrf_token=ANTI_CSRF, enable_anti_csrf=True, use_dynamic_signing_key=True
        ),
        "POST /recipe/session/refresh",
        {"refreshToken": REFRESH, "enableAntiCsrf": True, "useDynamicSigningKey": True, "antiCsrfToken": ANTI_CSRF},
    ),
    (
        "refresh",
        RefreshSession(refresh_token=REFRESH, use_dynamic_signing_key=False),
        "POST /recipe/session/refresh",
        {"refreshToken": REFRESH, "enableAntiCsrf": False, "useDynamicSigningKey": False},
    ),
    (
        "regenerate",
        REGENERATE,
        "POST /recipe/session/regenerate",
        {"accessToken": ACCESS, "userDataInJWT": {"role": "admin"}},
    ),
    (
        "regenerate, same payload",
        RegenerateSession(access_token=ACCESS),
        "POST /recipe/session/regenerate",
        {"accessToken": ACCESS},
    ),
    ("information", INFO, f"GET /recipe/session?sessionHandle={HANDLE}", None),
    (
        "session data",
        UPDATE_DATA,
        "PUT /recipe/session/data",
        {"sessionHandle": HANDLE, "userDataInDatabase": {"fauna": FAUNA}},
    ),
    ("payload", UPDATE_JWT, "PUT /recipe/jwt/data", {"sessionHandle": HANDLE, "userDataInJWT": {"role": "admin"}}),
    (
        "revoke handles",
        RemoveSessionsByHandle(handles=(HANDLE, HANDLE_T1)),
        "POST /recipe/session/remove",
        {"sessionHandles": [HANDLE, HANDLE_T1]},
    ),
    (
        "revoke a user everywhere",
        RemoveSessionsForUser(user_id="user-1", tenant_id=None),
        "POST /recipe/session/remove",
        {"userId": "user-1", "revokeAcrossAllTenants": True, LINKED: True},
    ),
    (
        "revoke a user in t1",
        RemoveSessionsForUser(user_id="user-1", tenant_id="t1"),
        "POST /t1/recipe/session/remove",
        {"userId": "user-1", "revokeAcrossAllTenants": False, LINKED: True},
    ),
    (
        "revoke a user in public",
        RemoveSessionsForUser(user_id="user-1", tenant_id="public"),
        "POST /public/recipe/session/remove",
        {"userId": "user-1", "revokeAcrossAllTenants": False, LINKED: True},
    ),
    ("list everywhere", LIST, "GET /recipe/session/user?userId=user-1&fetchAcrossAllTenants=true", None),
    ("devices everywhere", DEVICES, "GET /recipe/session/user/sessions?userId=user-1&fetchAcrossAllTenants=true", None),
    (
        "devices in one tenant",
        ListUserSessions(user_id="user-1", tenant_id="t1"),
        "GET /t1/recipe/session/user/sessions?userId=user-1&fetchAcrossAllTenants=false",
        None,
    ),
    (
        "others everywhere",
        OTHERS,
        "POST /recipe/session/user/sessions/remove-others",
        {"sessionHandle": HANDLE, "revokeAcrossAllTenants": True},
    ),
    (
        "others in one tenant",
        RemoveOtherSessions(session_handle=HANDLE, tenant_id="t1"),
        "POST /t1/recipe/session/user/sessions/remove-others",
        {"sessionHandle": HANDLE, "revokeAcrossAllTenants": False},
    ),
    (
        "list in t1",
        SessionHandlesForUser(user_id="user-1", tenant_id="t1"),
        "GET /t1/recipe/session/user?userId=user-1&fetchAcrossAllTenants=false",
        None,
    ),
    (
        "list without linked accounts",
        SessionHandlesForUser(user_id="u", tenant_id=None, for_linked_accounts=False),
        "GET /recipe/session/user?userId=u&fetchAcrossAllTenants=true&fetchSessionsForAllLinkedAccounts=false",
        None,
    ),
    ("api version", ApiVersion(), "GET /apiversion", None),
    ("jwks", Jwks(), "GET /.well-known/jwks.json", None),
    ("user id", GetUserId(user_id="user-1"), "GET /user/id?userId=user-1", None),
    (
        "jwt",
        CreateJwt(payload={"scope": "read"}, validity_s=3600, use_static_signing_key=True, jwks_domain="https://a.b"),
        "POST /recipe/jwt",
        {"payload": {"scope": "read"}, "validity": 3600, "useStaticSigningKey": True, "algorithm": "RS256"}
        | {"jwksDomain": "https://a.b"},
    ),
    (
        "app",
        CreateOrUpdateApp(app_id="app1", core_config={"access_token_validity": 5}),
        "PUT /recipe/multitenancy/app/v2",
        {"appId": "app1", "coreConfig": {"access_token_validity": 5}},
    ),
    ("app removal", RemoveApp(app_id="app1"), "POST /recipe/multitenancy/app/remove", {"appId": "app1"}),
    ("tenant", NEW_TENANT, "PUT /recipe/multitenancy/tenant/v2", {"tenantId": "t1"}),
]
REQUEST_IDS = [name for name, *_ in REQUESTS]


def _request_line(line: str) -> tuple[str, str, dict[str, str], str]:
    """Method, path, query and the tenant the core routes the path to (``public`` without a prefix)."""
    method, url = line.split(" ")
    path, _, query = url.partition("?")
    unprefixed = path.startswith(("/recipe/", "/apiversion", "/.well-known/", "/user/"))
    return method, path, dict(parse_qsl(query)), "public" if unprefixed else path.split("/")[1]


def _from_wire(request: CdiRequest[CdiReply], tenant: str, body: dict[str, Any] | None, query: dict[str, str]) -> Any:
    """The core side: the request type the core routes this API to, reading what the SDK sent."""
    cls = cdi.REQUESTS[(request.method, request.api_path)]
    return cls.from_wire(tenant, JsonBody(body or {}), Query(query))


@pytest.mark.parametrize("name,request_,line,body", REQUESTS, ids=REQUEST_IDS)
def test_request_is_what_the_sdk_sends(
    name: str, request_: CdiRequest[CdiReply], line: str, body: dict[str, Any] | None
) -> None:
    method, path, query, tenant = _request_line(line)
    assert (request_.method, request_.path()) == (method, path)
    assert _ordered(request_.body()) == _ordered(body)
    assert _ordered(request_.query()) == _ordered(query)
    assert _from_wire(request_, tenant, body, query) == request_


def test_every_request_type_has_an_example() -> None:
    concrete = {cls for cls in _public_classes() if issubclass(cls, CdiRequest) and not inspect.isabstract(cls)}
    assert concrete == {type(request) for _, request, *_ in REQUESTS}
    assert {type(request) for _, request, *_ in REPLIES} <= concrete


def test_the_route_table_has_one_request_type_per_core_api() -> None:
    from gatepass.core.cdi_api import ROUTES

    routes = {(method, path) for path, methods in ROUTES.items() for method in methods}
    assert routes - {("GET", "/recipe/jwt/jwks")} == set(cdi.REQUESTS)  # the JWKS alias is read like the JWKS
    for (method, path), cls in cdi.REQUESTS.items():
        assert (cls.method, cls.api_path) == (method, path)


def test_remove_sessions_from_wire_picks_the_form() -> None:
    by_user = RemoveSessions.from_wire("t1", JsonBody({"userId": "u", "revokeAcrossAllTenants": False}), Query({}))
    assert by_user == RemoveSessionsForUser(user_id="u", tenant_id="t1")
    everywhere = RemoveSessions.from_wire("t1", JsonBody({"userId": "u"}), Query({}))  # across is the default
    assert everywhere == RemoveSessionsForUser(user_id="u", tenant_id=None)
    assert RemoveSessions.from_wire("public", JsonBody({"sessionHandles": []}), Query({})) == RemoveSessionsByHandle(
        handles=()
    )


def test_create_jwt_answers_an_unsupported_algorithm_before_reading_the_rest() -> None:
    assert CreateJwt.from_wire("public", JsonBody({"algorithm": "HS256"}), Query({})) == UnsupportedAlgorithm()
    lower = CreateJwt.from_wire("public", JsonBody({**JWT_REQUEST.body(), "algorithm": "rs256"}), Query({}))
    assert isinstance(lower, CreateJwt) and lower.algorithm == "rs256"  # accepted as upstream, kept as sent


# the typing: parse_reply is typed per request ----------------------------------------------------------------------
def _reply_types(request: CdiRequest[CdiReply]) -> tuple[type, ...]:
    """The reply classes ``parse_reply``'s annotation names (so the annotation is checked too)."""
    module = inspect.getmodule(type(request).parse_reply)
    hint = get_type_hints(type(request).parse_reply, vars(module))["return"]
    return get_args(hint) if get_origin(hint) in (Union, type(int | str)) else (hint,)


def test_parse_reply_is_typed_per_request() -> None:
    verified = VERIFY.parse_reply({"status": "OK", "session": SESSION_JSON})
    assert_type(verified, VerifyReply)
    refreshed = REFRESH_REQUEST.parse_reply(
        {"status": "TOKEN_THEFT_DETECTED", "session": {"handle": "h", "userId": "u"}}
    )
    assert_type(refreshed, RefreshReply)
    assert_type(CREATE.parse_reply(_wire("created with anti-CSRF")), SessionCreated)
    assert isinstance(refreshed, TokenTheftDetected) and refreshed.session_handle == "h"


# refusals: what the rate limiter needs, kept off the wire ----------------------------------------------------------
@pytest.mark.parametrize(
    "reply,counts",
    [
        (VerifyRefused("TRY_REFRESH_TOKEN", "Access token is not valid: token expired", reason="expired"), False),
        (
            VerifyRefused("TRY_REFRESH_TOKEN", "Access token is not valid: invalid signature", reason="invalid_token"),
            True,
        ),
        (VerifyRefused("TRY_REFRESH_TOKEN", "anti-csrf check failed", reason="anti_csrf"), True),
        (VerifyRefused("UNAUTHORISED", "Session missing in db", reason="session_ended"), False),
        (VerifyRefused("TRY_REFRESH_TOKEN", "from the wire", reason=None), False),
        (RefreshRefused("The refresh token is not valid", reason="invalid_token"), True),
        (RefreshRefused("Anti CSRF token missing, or not matching", reason="anti_csrf"), False),
        (RefreshRefused("Session missing in db or has expired", reason="session_ended"), False),
        (RefreshRefused("from the wire", reason=None), False),
    ],
)
def test_refusals_say_whether_they_count_as_failures(reply: VerifyRefused | RefreshRefused, counts: bool) -> None:
    assert reply.counts_as_failure is counts
    assert set(reply.to_json()) == {"status", "message"}  # the reason never goes on the wire


def test_a_parsed_refusal_has_no_reason_and_equals_the_core_s() -> None:
    core_side = VerifyRefused("TRY_REFRESH_TOKEN", "anti-csrf check failed", reason="anti_csrf")
    parsed = VERIFY.parse_reply(core_side.to_json())
    assert isinstance(parsed, VerifyRefused) and parsed.reason is None and parsed == core_side


# lenient where today's SDK is lenient -----------------------------------------------------------------------------
def test_fields_the_sdk_falls_back_for() -> None:
    theft = REFRESH_REQUEST.parse_reply({"status": "TOKEN_THEFT_DETECTED", "session": {"handle": "h", "userId": "u"}})
    assert theft == TokenTheftDetected("h", "u")
    bare = {"handle": "h", "userId": "u", "userDataInJWT": {}}
    assert VERIFY.parse_reply({"status": "OK", "session": bare}) == Verified(SessionRef("h", "u", "u", None, {}))
    info = {k: v for k, v in _wire("session information").items() if k not in ("recipeUserId", "tenantId")}
    parsed = INFO.parse_reply(info)
    assert isinstance(parsed, SessionInfo) and parsed.recipe_user_id == "user-1" and parsed.tenant_id is None
    assert REFRESH_REQUEST.parse_reply({"status": "UNAUTHORISED"}) == RefreshRefused("unauthorised", reason=None)
    refused = VERIFY.parse_reply({"status": "TRY_REFRESH_TOKEN", "message": 7})
    assert refused == VerifyRefused("TRY_REFRESH_TOKEN", "try refresh token", reason=None)
    assert INFO.parse_reply({"status": "UNAUTHORISED"}) == NoSession()
    assert REMOVE.parse_reply({"status": "OK"}) == Revoked(())
    assert LIST.parse_reply({"status": "OK"}) == SessionHandles(())  # absent: none (null is malformed, as today)
    assert Jwks().parse_reply({"keys": [JWK, 7, "x", None]}) == JwksKeys((JWK,))
    assert VERIFY.parse_reply({"status": "OK", "session": SESSION_JSON, "accessToken": None}) == Verified(SESSION)


def test_jwks_cache_control_is_a_header_not_a_field() -> None:
    keys = JwksKeys((JWK,), max_age_s=60)
    assert keys.headers() == {"Cache-Control": "max-age=60, must-revalidate"}
    assert JwksKeys((JWK,)).headers() == {} and keys == JwksKeys((JWK,))


@given(
    handle=st.text(max_size=40),
    user_id=st.text(min_size=1, max_size=20),
    tenant_id=st.none() | st.text(max_size=10),
    times=st.tuples(*[st.integers(min_value=-(2**63), max_value=2**63)] * 4),
    anti_csrf=st.none() | st.text(max_size=36),
)
@fuzz_settings()
def test_new_tokens_round_trip(
    handle: str, user_id: str, tenant_id: str | None, times: tuple[int, int, int, int], anti_csrf: str | None
) -> None:
    session = SessionRef(handle, user_id, user_id, tenant_id, {"k": [1, None, {"x": 1.5}]})
    access, refresh = IssuedToken("a", times[0], times[1]), IssuedToken("r", times[2], times[3])
    for request, reply in [
        (CREATE, SessionCreated(session, access, refresh, anti_csrf)),
        (REFRESH_REQUEST, Refreshed(session, access, refresh, anti_csrf)),
    ]:
        assert request.parse_reply(json.loads(json.dumps(reply.to_json()))) == reply


# malformed replies: a CoreError, never anything else ----------------------------------------------------------------
JSON_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
    st.sampled_from(["OK", "UNAUTHORISED", "TRY_REFRESH_TOKEN", "TOKEN_THEFT_DETECTED", "UNSUPPORTED_ALGORITHM_ERROR"]),
)
JSON_VALUES = st.recursive(
    JSON_SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
)
ERROR_MESSAGE = re.compile(
    r"the core's reply to [\w ()-]+ (is not a JSON object|has a missing or malformed '\w+'|has an unexpected 'status')"
)
DELETE = object()


def _paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path]
    members = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else []
    for key, member in members:
        found += _paths(member, (*path, key))
    return found


def _replaced(wire: Any, path: tuple[Any, ...], new: Any) -> Any:
    """``wire`` with the member at ``path`` replaced by ``new`` (or removed, for ``DELETE``)."""
    if not path:
        return None if new is DELETE else new
    result = copy.deepcopy(wire)
    parent = result
    for key in path[:-1]:
        parent = parent[key]
    if new is DELETE:
        del parent[path[-1]]
    else:
        parent[path[-1]] = new
    return result


def _mutated(wire: Any) -> st.SearchStrategy[Any]:
    """The reply with one member anywhere in it removed, or replaced by any JSON value (a bool for an int, a list
    for an object, another status...)."""
    return st.tuples(st.sampled_from(_paths(wire)), st.just(DELETE) | JSON_VALUES).map(lambda c: _replaced(wire, *c))


def _check_parse(request: CdiRequest[CdiReply], body: Any) -> None:
    """A reply of this request's types (which writes back to JSON that parses to the same reply), or a CoreError
    that names a field and shows no value. Anything else escapes and fails the test."""
    try:
        reply = request.parse_reply(body)
    except CoreError as error:
        assert ERROR_MESSAGE.fullmatch(str(error)), str(error)
        return
    assert isinstance(reply, _reply_types(request))
    assert request.parse_reply(json.loads(json.dumps(reply.to_json()))) == reply


@given(data=st.data())
@fuzz_settings()
def test_any_json_is_a_reply_or_a_core_error(data: st.DataObject) -> None:
    _, request, _, wire = data.draw(st.sampled_from(REPLIES), label="reply")
    _check_parse(request, data.draw(st.one_of(JSON_VALUES, _mutated(wire)), label="body"))


@given(data=st.data())
@fuzz_settings()
def test_any_json_is_a_reply_or_a_core_error_for_every_request(data: st.DataObject) -> None:
    _, request, *_ = data.draw(st.sampled_from(REQUESTS), label="request")
    _, _, _, wire = data.draw(st.sampled_from(REPLIES), label="another call's reply")
    _check_parse(request, data.draw(st.one_of(JSON_VALUES, st.just(wire), _mutated(wire)), label="body"))


def _without(wire: dict[str, Any], *path: str) -> dict[str, Any]:
    return _replaced(wire, path, DELETE)  # type: ignore[no-any-return]


def _with(wire: dict[str, Any], value: Any, *path: str) -> dict[str, Any]:
    return _replaced(wire, path, value)  # type: ignore[no-any-return]


CREATED = _wire("created with anti-CSRF")
INFO_WIRE = _wire("session information")
CREATED_JSON = {
    "status": "OK",
    "session": SESSION_JSON,
    "accessToken": ACCESS_TOKEN_JSON,
    "refreshToken": REFRESH_TOKEN_JSON,
}
MALFORMED: list[tuple[str, CdiRequest[CdiReply], Any, str | None]] = [
    # (case, request, body, the field the error names; None: "is not a JSON object")
    ("a list", CREATE, [CREATED], None),
    ("a string", VERIFY, "OK", None),
    ("null", REFRESH_REQUEST, None, None),
    ("no status", CREATE, _without(CREATED, "status"), "status"),
    ("status not a string", VERIFY, {"status": 1, "session": SESSION_JSON}, "status"),
    ("create cannot be refused", CREATE, {"status": "UNAUTHORISED", "message": "m"}, "status"),
    ("verify cannot see theft", VERIFY, {"status": "TOKEN_THEFT_DETECTED", "session": SESSION_JSON}, "status"),
    ("refresh cannot say try refresh", REFRESH_REQUEST, {"status": "TRY_REFRESH_TOKEN"}, "status"),
    ("unknown status", LIST, {"status": "GENERAL_ERROR", "sessionHandles": []}, "status"),
    ("status in another case", INFO, {**INFO_WIRE, "status": "ok"}, "status"),
    ("no session", CREATE, _without(CREATED, "session"), "session"),
    ("session a list", VERIFY, {"status": "OK", "session": [SESSION_JSON]}, "session"),
    ("handle a number", CREATE, _with(CREATED, 7, "session", "handle"), "handle"),
    ("no userId", VERIFY, {"status": "OK", "session": _without(SESSION_JSON, "userId")}, "userId"),
    ("payload a string", CREATE, _with(CREATED, "{}", "session", "userDataInJWT"), "userDataInJWT"),
    ("tenantId a number", CREATE, _with(CREATED, 1, "session", "tenantId"), "tenantId"),
    ("no refresh token", CREATE, _without(CREATED, "refreshToken"), "refreshToken"),
    ("token a number", CREATE, _with(CREATED, 12, "accessToken", "token"), "token"),
    ("expiry a bool", CREATE, _with(CREATED, True, "accessToken", "expiry"), "expiry"),
    ("expiry a string", CREATE, _with(CREATED, "1700000000000", "refreshToken", "expiry"), "expiry"),
    ("createdTime a float", CREATE, _with(CREATED, 1.5, "accessToken", "createdTime"), "createdTime"),
    ("no createdTime", CREATE, _without(CREATED, "refreshToken", "createdTime"), "createdTime"),
    ("anti-CSRF token a number", CREATE, _with(CREATED, 5, "antiCsrfToken"), "antiCsrfToken"),
    (
        "new access token a string",
        VERIFY,
        {"status": "OK", "session": SESSION_JSON, "accessToken": ACCESS},
        "accessToken",
    ),
    ("theft without a user", REFRESH_REQUEST, {"status": "TOKEN_THEFT_DETECTED", "session": {"handle": "h"}}, "userId"),
    (
        "regenerated without payload",
        REGENERATE,
        {"status": "OK", "session": _without(SESSION_JSON, "userDataInJWT")},
        "userDataInJWT",
    ),
    ("info expiry a bool", INFO, _with(INFO_WIRE, False, "expiry"), "expiry"),
    ("info data a list", INFO, _with(INFO_WIRE, [], "userDataInDatabase"), "userDataInDatabase"),
    ("info without timeCreated", INFO, _without(INFO_WIRE, "timeCreated"), "timeCreated"),
    ("revoked handles not strings", REMOVE, {"status": "OK", "sessionHandlesRevoked": [1]}, "sessionHandlesRevoked"),
    ("revoked handles a string", REMOVE, {"status": "OK", "sessionHandlesRevoked": HANDLE}, "sessionHandlesRevoked"),
    ("revoked sessions an object", CREATE, {**CREATED_JSON, "revokedSessions": {}}, "revokedSessions"),
    ("a revoked session a string", CREATE, {**CREATED_JSON, "revokedSessions": ["old"]}, "revokedSessions"),
    (
        "a revoked session without data",
        CREATE,
        {**CREATED_JSON, "revokedSessions": [{"sessionHandle": "old"}]},
        "userId",
    ),
    ("sessions an object", DEVICES, {"status": "OK", "sessions": {}}, "sessions"),
    (
        "a device without times",
        DEVICES,
        {"status": "OK", "sessions": [{"sessionHandle": "h", "tenantId": "t"}]},
        "timeCreated",
    ),
    ("others revoked a list of strings", OTHERS, {"status": "OK", "revokedSessions": [HANDLE]}, "revokedSessions"),
    ("limit missing", CREATE, {"status": "SESSION_LIMIT_REACHED"}, "maxSessionsPerUser"),
    ("versions missing", ApiVersion(), {}, "versions"),
    ("versions numbers", ApiVersion(), {"versions": [5.4]}, "versions"),
    ("keys an object", Jwks(), {"keys": {"kid": "d-1"}}, "keys"),
    ("createdNew a string", NEW_APP, {"status": "OK", "createdNew": "true"}, "createdNew"),
    ("didExist a number", RemoveApp(app_id="a"), {"status": "OK", "didExist": 1}, "didExist"),
    ("no jwt", JWT_REQUEST, {"status": "OK"}, "jwt"),
    ("a known user", GetUserId(user_id="u"), {"status": "OK", "user": {}}, "status"),
]


@pytest.mark.parametrize("case,request_,body,field", MALFORMED, ids=[case for case, *_ in MALFORMED])
def test_malformed_replies_are_core_errors(
    case: str, request_: CdiRequest[CdiReply], body: Any, field: str | None
) -> None:
    with pytest.raises(CoreError) as caught:
        request_.parse_reply(body)
    message = str(caught.value)
    assert message.startswith(f"the core's reply to {request_.what}")
    assert message.endswith("is not a JSON object" if field is None else f"{field!r}")
    assert not [secret for secret in SECRETS if secret in message]


# bad request bodies: today's 400s -----------------------------------------------------------------------------------
_VALIDITY_RANGE = "Field name 'validity' must be between 1 and 4503599627370 seconds"


def _invalid(name: str) -> str:
    return f"Field name '{name}' is invalid in JSON input"


JWT_BODY = {"payload": {}, "validity": 60, "algorithm": "RS256", "jwksDomain": "d"}
BAD_REQUESTS: list[tuple[type[Any], dict[str, Any], dict[str, str], str]] = [
    (CreateSession, {}, {}, _invalid("userId")),
    (CreateSession, {"userId": "u", "userDataInJWT": [], "userDataInDatabase": 1}, {}, _invalid("userDataInJWT")),
    (CreateSession, {"userId": "u", "useDynamicSigningKey": "yes"}, {}, _invalid("useDynamicSigningKey")),
    (CreateSession, {"userId": "u", "enableAntiCsrf": 1}, {}, _invalid("enableAntiCsrf")),
    (VerifySession, {"accessToken": ACCESS}, {}, _invalid("doAntiCsrfCheck")),
    (VerifySession, {"accessToken": 1, "doAntiCsrfCheck": 3}, {}, _invalid("accessToken")),
    (VerifySession, {"accessToken": "t", "antiCsrfToken": 5, "doAntiCsrfCheck": 3}, {}, _invalid("antiCsrfToken")),
    (
        VerifySession,
        {"accessToken": "t", "doAntiCsrfCheck": True, "checkDatabase": "no"},
        {},
        _invalid("checkDatabase"),
    ),
    (RefreshSession, {"refreshToken": REFRESH}, {}, _invalid("useDynamicSigningKey")),
    (RefreshSession, {"refreshToken": None, "useDynamicSigningKey": True}, {}, _invalid("refreshToken")),
    (RegenerateSession, {"accessToken": "t", "userDataInJWT": "x"}, {}, _invalid("userDataInJWT")),
    (GetSessionInformation, {}, {}, "Field name 'sessionHandle' is missing in GET request"),
    (GetSessionInformation, {}, {"sessionHandle": ""}, "Field name 'sessionHandle' is missing in GET request"),
    (UpdateSessionData, {"sessionHandle": "h"}, {}, _invalid("userDataInDatabase")),
    (UpdateJwtData, {"sessionHandle": 1, "userDataInJWT": {}}, {}, _invalid("sessionHandle")),
    (RemoveSessions, {}, {}, "Exactly one of 'userId' or 'sessionHandles' must be given"),
    (
        RemoveSessions,
        {"userId": "u", "sessionHandles": []},
        {},
        "Exactly one of 'userId' or 'sessionHandles' must be given",
    ),
    (RemoveSessions, {"sessionHandles": [1]}, {}, _invalid("sessionHandles")),
    (
        RemoveSessions,
        {"sessionHandles": ["h"] * 10_001},
        {},
        "Field name 'sessionHandles' is invalid: at most 10000 handles",
    ),
    (RemoveSessions, {"userId": "u", "revokeAcrossAllTenants": "no"}, {}, _invalid("revokeAcrossAllTenants")),
    (RemoveSessions, {"userId": 3}, {}, _invalid("userId")),
    (
        SessionHandlesForUser,
        {},
        {"userId": "u", "fetchAcrossAllTenants": "yes"},
        "Field name 'fetchAcrossAllTenants' must be true or false",
    ),
    (SessionHandlesForUser, {}, {"fetchAcrossAllTenants": "FALSE"}, "Field name 'userId' is missing in GET request"),
    (CreateJwt, {"algorithm": 1}, {}, _invalid("algorithm")),
    (CreateJwt, {**JWT_BODY, "payload": None}, {}, _invalid("payload")),
    (
        CreateJwt,
        {**JWT_BODY, "payload": {"sessionHandle": "h", "rsub": "x", "sub": "ok"}, "jwksDomain": 1},
        {},
        _invalid("jwksDomain"),  # a session-shaped payload is taken, as upstream's core takes it
    ),
    (CreateJwt, {**JWT_BODY, "validity": 0.5}, {}, _VALIDITY_RANGE),
    (CreateJwt, {**JWT_BODY, "validity": 4503599627371}, {}, _VALIDITY_RANGE),
    (CreateJwt, {**JWT_BODY, "validity": True}, {}, _invalid("validity")),
    (CreateJwt, {**JWT_BODY, "useStaticSigningKey": "yes", "jwksDomain": 1}, {}, _invalid("useStaticSigningKey")),
    (CreateJwt, {**JWT_BODY, "jwksDomain": None}, {}, _invalid("jwksDomain")),
    (CreateOrUpdateApp, {"appId": "a", "coreConfig": 3}, {}, _invalid("coreConfig")),
    (RemoveApp, {}, {}, _invalid("appId")),
    (CreateOrUpdateTenant, {"tenantId": ["t1"]}, {}, _invalid("tenantId")),
    (GetUserId, {}, {}, "Field name 'userId' is missing in GET request"),
]


@pytest.mark.parametrize("cls,body,query,message", BAD_REQUESTS, ids=range(len(BAD_REQUESTS)))
def test_bad_requests_get_todays_400(cls: type[Any], body: dict[str, Any], query: dict[str, str], message: str) -> None:
    with pytest.raises(BadRequest) as caught:
        cls.from_wire("public", JsonBody(body), Query(query))
    assert caught.value.message == message


WIRE_FIELDS = sorted({key for _, _, _, body in REQUESTS for key in (body or {})})
QUERY_FIELDS = sorted({key for _, _, line, _ in REQUESTS for key in _request_line(line)[2]})
REQUEST_TYPES = sorted(set(cdi.REQUESTS.values()), key=lambda cls: cls.__name__)
FROM_WIRE_MESSAGE = re.compile(
    r"Field name '\w+' (is invalid in JSON input|is missing in GET request|must be true or false"
    r"|is invalid: at most \d+ handles|must be between 1 and \d+ seconds)"
    r"|Exactly one of 'userId' or 'sessionHandles' must be given"
)


@given(
    cls=st.sampled_from(REQUEST_TYPES),
    body=st.dictionaries(st.sampled_from(WIRE_FIELDS), JSON_VALUES, max_size=6),
    query=st.dictionaries(st.sampled_from(QUERY_FIELDS), st.sampled_from(["", "true", "false", "TRUE", "x", "u"])),
    tenant=st.sampled_from(["public", "t1"]),
)
@fuzz_settings()
def test_from_wire_is_a_request_or_a_bad_request(
    cls: type[Any], body: dict[str, Any], query: dict[str, str], tenant: str
) -> None:
    try:
        request = cls.from_wire(tenant, JsonBody(body), Query(query))
    except BadRequest as error:
        assert FROM_WIRE_MESSAGE.fullmatch(error.message), error.message
        return
    assert isinstance(request, cls) or (cls is CreateJwt and request == UnsupportedAlgorithm())
    if isinstance(request, CdiRequest):  # and what it would send reads back the same
        again = cls.from_wire(tenant, JsonBody(request.body() or {}), Query(request.query()))
        assert again == request


# reprs ----------------------------------------------------------------------------------------------------------------
SECRET_NAMED = re.compile(r"token|secret|key|password|user_data|payload|jwt", re.IGNORECASE)


def test_no_repr_shows_a_token_or_a_payload() -> None:
    objects: list[Any] = [request for _, request, *_ in REQUESTS] + [reply for _, _, reply, _ in REPLIES]
    objects += [
        ACCESS_TOKEN,
        REFRESH_TOKEN,
        SESSION,
        VerifySession(access_token=ACCESS, anti_csrf_token=ANTI_CSRF, do_anti_csrf_check=True),
    ]
    objects += [RefreshSession(refresh_token=REFRESH, anti_csrf_token=ANTI_CSRF, use_dynamic_signing_key=True)]
    leaks = [f"{show(obj)}" for obj in objects for show in (repr, str) if any(s in show(obj) for s in SECRETS)]
    assert not leaks


def test_every_field_that_can_hold_a_secret_is_left_out_of_reprs() -> None:
    modules = (cdi_base, cdi_replies, cdi_session, cdi_platform)
    classes = [c for m in modules for c in vars(m).values() if isinstance(c, type) and dataclasses.is_dataclass(c)]
    shown = [
        f"{cls.__name__}.{f.name}"
        for cls in classes
        for f in dataclasses.fields(cls)
        if SECRET_NAMED.search(f.name) and f.repr and f.type != "bool"
    ]
    assert len(classes) > 30 and not shown


def test_a_null_handle_list_reads_as_none_revoked() -> None:
    """A null member counts as omitted (as ``ReplyReader.has`` and upstream read it), for lists that may be absent."""
    from gatepass.protocol.cdi import RemoveSessionsByHandle, SessionHandlesForUser

    assert (
        RemoveSessionsByHandle(handles=("h",)).parse_reply({"status": "OK", "sessionHandlesRevoked": None}).handles
        == ()
    )
    listing = SessionHandlesForUser(user_id="u", tenant_id=None)
    assert listing.parse_reply({"status": "OK", "sessionHandles": None}).handles == ()
