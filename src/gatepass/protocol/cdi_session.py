"""The session recipe's CDI requests: create, verify, refresh, regenerate, read, update, remove and list. Public
names are re-exported by ``gatepass.protocol.cdi``.

``from_wire`` reads a body with exactly the ``JsonBody``/``Query`` calls, defaults and order the core's handlers
have always used, so a bad request gets the same 400 message (the first bad field, in that order).
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Self, TypeVar

from gatepass.errors import BadRequest
from gatepass.protocol.body import JsonBody, Query
from gatepass.protocol.cdi_base import CdiReply, CdiRequest, ClientInfo, JsonObject, ReplyReader, tenant_path
from gatepass.protocol.cdi_replies import (
    SESSION_LIMIT_REACHED,
    TOKEN_THEFT_DETECTED,
    TRY_REFRESH_TOKEN,
    UNAUTHORISED,
    CreateReply,
    InformationReply,
    NoSession,
    Refreshed,
    RefreshRefused,
    RefreshReply,
    Regenerated,
    RegenerateReply,
    Revoked,
    SessionCreated,
    SessionHandles,
    SessionInfo,
    SessionLimitReached,
    TokenTheftDetected,
    Updated,
    UpdateReply,
    Verified,
    VerifyRefused,
    VerifyReply,
)

MAX_HANDLES_PER_REVOKE = 10_000  # one transaction: bounded so a single call cannot hold the database for minutes
ABSOLUTE_LIFETIME_FIELD = "absoluteLifetimeMs"  # gatepass's extension to session creation (ignored by upstream)
MAX_ABSOLUTE_LIFETIME_MS = 10 * 365 * 24 * 3_600_000  # ten years, as the app's own limit


# gatepass's other extensions (ignored by upstream): a session's own inactivity timeout ("remember me" off),
# browser-session cookies, and where the request came from
REFRESH_VALIDITY_FIELD = "refreshTokenValidityMs"
BROWSER_SESSION_FIELD = "browserSession"
CLIENT_INFO_FIELD = "clientInfo"


def _milliseconds(body: JsonBody, name: str) -> int | None:
    """An optional lifetime: a whole number of milliseconds, 1 to ten years."""
    if not body.has(name):
        return None
    value = body.number(name)
    if not value.is_integer() or not 1 <= value <= MAX_ABSOLUTE_LIFETIME_MS:
        raise BadRequest(f"{name} must be a whole number of milliseconds, at most ten years")
    return int(value)


def _client_info(body: JsonBody) -> ClientInfo | None:
    """The optional ``clientInfo``: an object whose ``ip`` and ``userAgent`` are strings when present, cleaned."""
    info = body.optional_mapping(CLIENT_INFO_FIELD)
    if info is None:
        return None
    parts = JsonBody(info)
    return ClientInfo.clean(parts.optional_text("ip"), parts.optional_text("userAgent"))


def _put_client_info(body: JsonObject, client_info: ClientInfo | None) -> None:
    if client_info is not None:
        body[CLIENT_INFO_FIELD] = client_info.to_json()


T = TypeVar("T", bound=CdiReply)
Outcomes = Mapping[str, Callable[[ReplyReader], T]]  # status -> the reader of that outcome


def read_outcome(body: object, what: str, outcomes: Outcomes[T]) -> T:
    """Read a reply whose ``status`` picks the outcome; a status this call cannot answer with is a ``CoreError``."""
    reply = ReplyReader(body, what)
    return outcomes[reply.status(*outcomes)](reply)


@dataclass(frozen=True, kw_only=True)
class CreateSession(CdiRequest[CreateReply]):
    """POST /{tenant}/recipe/session (the tenant prefix always, ``public`` included, as the SDK sends it)."""

    method = "POST"
    api_path = "/recipe/session"
    what = "session creation"
    tenant_id: str
    user_id: str
    user_data_in_jwt: JsonObject = field(repr=False)
    user_data_in_database: JsonObject = field(repr=False)
    use_dynamic_signing_key: bool = True
    enable_anti_csrf: bool = False
    # gatepass's extensions: this session's absolute lifetime and inactivity timeout (overriding the app's
    # ``session_absolute_lifetime``; at most its ``refresh_token_validity``), browser-session cookies, the client
    absolute_lifetime_ms: int | None = None
    refresh_validity_ms: int | None = None
    browser_session: bool = False
    client_info: ClientInfo | None = None

    def path(self) -> str:
        return tenant_path(self.tenant_id, self.api_path)

    def body(self) -> JsonObject:
        body: JsonObject = {
            "userId": self.user_id,
            "userDataInJWT": self.user_data_in_jwt,
            "userDataInDatabase": self.user_data_in_database,
            "useDynamicSigningKey": self.use_dynamic_signing_key,
            "enableAntiCsrf": self.enable_anti_csrf,
        }
        if self.absolute_lifetime_ms is not None:
            body[ABSOLUTE_LIFETIME_FIELD] = self.absolute_lifetime_ms
        if self.refresh_validity_ms is not None:
            body[REFRESH_VALIDITY_FIELD] = self.refresh_validity_ms
        if self.browser_session:
            body[BROWSER_SESSION_FIELD] = True
        _put_client_info(body, self.client_info)
        return body

    def parse_reply(self, body: object) -> CreateReply:
        outcomes: Outcomes[CreateReply] = {"OK": SessionCreated.read, SESSION_LIMIT_REACHED: SessionLimitReached.read}
        return read_outcome(body, self.what, outcomes)

    @classmethod
    def from_wire(cls, tenant_id: str, body: JsonBody, query: Query) -> Self:
        return cls(
            tenant_id=tenant_id,
            user_id=body.text("userId"),
            user_data_in_jwt=body.mapping("userDataInJWT", default={}),
            user_data_in_database=body.mapping("userDataInDatabase", default={}),
            use_dynamic_signing_key=body.flag("useDynamicSigningKey", default=True),
            enable_anti_csrf=body.flag("enableAntiCsrf", default=False),
            absolute_lifetime_ms=_milliseconds(body, ABSOLUTE_LIFETIME_FIELD),
            refresh_validity_ms=_milliseconds(body, REFRESH_VALIDITY_FIELD),
            browser_session=body.flag(BROWSER_SESSION_FIELD, default=False),
            client_info=_client_info(body),
        )


@dataclass(frozen=True, kw_only=True)
class VerifySession(CdiRequest[VerifyReply]):
    """POST /recipe/session/verify. ``antiCsrfToken`` is sent only when there is one."""

    method = "POST"
    api_path = "/recipe/session/verify"
    what = "session verification"
    access_token: str = field(repr=False)
    anti_csrf_token: str | None = field(default=None, repr=False)
    do_anti_csrf_check: bool
    enable_anti_csrf: bool = False
    check_database: bool = False

    def body(self) -> JsonObject:
        body: JsonObject = {
            "accessToken": self.access_token,
            "doAntiCsrfCheck": self.do_anti_csrf_check,
            "enableAntiCsrf": self.enable_anti_csrf,
            "checkDatabase": self.check_database,
        }
        if self.anti_csrf_token is not None:
            body["antiCsrfToken"] = self.anti_csrf_token
        return body

    def parse_reply(self, body: object) -> VerifyReply:
        outcomes: Outcomes[VerifyReply] = {
            "OK": Verified.read,
            UNAUTHORISED: VerifyRefused.read,
            TRY_REFRESH_TOKEN: VerifyRefused.read,
        }
        return read_outcome(body, self.what, outcomes)

    @classmethod
    def from_wire(cls, tenant_id: str, body: JsonBody, query: Query) -> Self:
        return cls(
            access_token=body.text("accessToken"),
            anti_csrf_token=body.optional_text("antiCsrfToken"),
            do_anti_csrf_check=body.flag("doAntiCsrfCheck"),
            enable_anti_csrf=body.flag("enableAntiCsrf", default=False),
            check_database=body.flag("checkDatabase", default=False),
        )


@dataclass(frozen=True, kw_only=True)
class RefreshSession(CdiRequest[RefreshReply]):
    """POST /recipe/session/refresh. ``antiCsrfToken`` is sent only when there is one."""

    method = "POST"
    api_path = "/recipe/session/refresh"
    what = "session refresh"
    refresh_token: str = field(repr=False)
    anti_csrf_token: str | None = field(default=None, repr=False)
    enable_anti_csrf: bool = False
    use_dynamic_signing_key: bool
    client_info: ClientInfo | None = None  # gatepass's extension, as in ``CreateSession``

    def body(self) -> JsonObject:
        body: JsonObject = {
            "refreshToken": self.refresh_token,
            "enableAntiCsrf": self.enable_anti_csrf,
            "useDynamicSigningKey": self.use_dynamic_signing_key,
        }
        if self.anti_csrf_token is not None:
            body["antiCsrfToken"] = self.anti_csrf_token
        _put_client_info(body, self.client_info)
        return body

    def parse_reply(self, body: object) -> RefreshReply:
        outcomes: Outcomes[RefreshReply] = {
            "OK": Refreshed.read,
            UNAUTHORISED: RefreshRefused.read,
            TOKEN_THEFT_DETECTED: TokenTheftDetected.read,
        }
        return read_outcome(body, self.what, outcomes)

    @classmethod
    def from_wire(cls, tenant_id: str, body: JsonBody, query: Query) -> Self:
        return cls(
            refresh_token=body.text("refreshToken"),
            anti_csrf_token=body.optional_text("antiCsrfToken"),
            enable_anti_csrf=body.flag("enableAntiCsrf", default=False),
            use_dynamic_signing_key=body.flag("useDynamicSigningKey"),
            client_info=_client_info(body),
        )


@dataclass(frozen=True, kw_only=True)
class RegenerateSession(CdiRequest[RegenerateReply]):
    """POST /recipe/session/regenerate: re-sign an access token with a new payload (``None``: keep the stored one,
    and send no ``userDataInJWT``)."""

    method = "POST"
    api_path = "/recipe/session/regenerate"
    what = "access token regeneration"
    access_token: str = field(repr=False)
    user_data_in_jwt: JsonObject | None = field(default=None, repr=False)

    def body(self) -> JsonObject:
        body: JsonObject = {"accessToken": self.access_token}
        if self.user_data_in_jwt is not None:
            body["userDataInJWT"] = self.user_data_in_jwt
        return body

    def parse_reply(self, body: object) -> RegenerateReply:
        outcomes: Outcomes[RegenerateReply] = {"OK": Regenerated.read, UNAUTHORISED: NoSession.read}
        return read_outcome(body, self.what, outcomes)

    @classmethod
    def from_wire(cls, tenant_id: str, body: JsonBody, query: Query) -> Self:
        return cls(access_token=body.text("accessToken"), user_data_in_jwt=body.optional_mapping("userDataInJWT"))


@dataclass(frozen=True, kw_only=True)
class GetSessionInformation(CdiRequest[InformationReply]):
    """GET /recipe/session?sessionHandle=..."""

    method = "GET"
    api_path = "/recipe/session"
    what = "get session"
    session_handle: str

    def query(self) -> dict[str, str]:
        return {"sessionHandle": self.session_handle}

    def parse_reply(self, body: object) -> InformationReply:
        outcomes: Outcomes[InformationReply] = {"OK": SessionInfo.read, UNAUTHORISED: NoSession.read}
        return read_outcome(body, self.what, outcomes)

    @classmethod
    def from_wire(cls, tenant_id: str, body: JsonBody, query: Query) -> Self:
        return cls(session_handle=query.text("sessionHandle"))


@dataclass(frozen=True, kw_only=True)
class UpdateSessionData(CdiRequest[UpdateReply]):
    """PUT /recipe/session/data: replace the data stored with the session (never sent to the client)."""

    method = "PUT"
    api_path = "/recipe/session/data"
    what = "session data update"
    session_handle: str
    user_data_in_database: JsonObject = field(repr=False)

    def body(self) -> JsonObject:
        return {"sessionHandle": self.session_handle, "userDataInDatabase": self.user_data_in_database}

    def parse_reply(self, body: object) -> UpdateReply:
        outcomes: Outcomes[UpdateReply] = {"OK": Updated.read, UNAUTHORISED: NoSession.read}
        return read_outcome(body, self.what, outcomes)

    @classmethod
    def from_wire(cls, tenant_id: str, body: JsonBody, query: Query) -> Self:
        return cls(session_handle=body.text("sessionHandle"), user_data_in_database=body.mapping("userDataInDatabase"))


@dataclass(frozen=True, kw_only=True)
class UpdateJwtData(CdiRequest[UpdateReply]):
    """PUT /recipe/jwt/data: replace the custom claims the session's next access token carries."""

    method = "PUT"
    api_path = "/recipe/jwt/data"
    what = "payload update"
    session_handle: str
    user_data_in_jwt: JsonObject = field(repr=False)

    def body(self) -> JsonObject:
        return {"sessionHandle": self.session_handle, "userDataInJWT": self.user_data_in_jwt}

    def parse_reply(self, body: object) -> UpdateReply:
        outcomes: Outcomes[UpdateReply] = {"OK": Updated.read, UNAUTHORISED: NoSession.read}
        return read_outcome(body, self.what, outcomes)

    @classmethod
    def from_wire(cls, tenant_id: str, body: JsonBody, query: Query) -> Self:
        return cls(session_handle=body.text("sessionHandle"), user_data_in_jwt=body.mapping("userDataInJWT"))


class RemoveSessions(CdiRequest[Revoked]):
    """POST [/{tenant}]/recipe/session/remove, in one of two forms: ``RemoveSessionsByHandle`` or
    ``RemoveSessionsForUser``. ``RemoveSessions.from_wire`` gives whichever the body holds."""

    method = "POST"
    api_path = "/recipe/session/remove"
    what = "session removal"

    @abstractmethod
    def body(self) -> JsonObject: ...

    def parse_reply(self, body: object) -> Revoked:
        return read_outcome(body, self.what, {"OK": Revoked.read})

    @classmethod
    def from_wire(cls, tenant_id: str, body: JsonBody, query: Query) -> RemoveSessionsByHandle | RemoveSessionsForUser:
        if body.has("userId") == body.has("sessionHandles"):
            raise BadRequest("Exactly one of 'userId' or 'sessionHandles' must be given")
        if body.has("sessionHandles"):
            handles = body.text_list("sessionHandles")
            if len(handles) > MAX_HANDLES_PER_REVOKE:
                raise BadRequest(f"Field name 'sessionHandles' is invalid: at most {MAX_HANDLES_PER_REVOKE} handles")
            return RemoveSessionsByHandle(handles=tuple(handles))
        across = body.flag("revokeAcrossAllTenants", default=True)
        linked = body.flag("revokeSessionsForLinkedAccounts", default=True)  # no account linking: validated only
        return RemoveSessionsForUser(
            user_id=body.text("userId"), tenant_id=None if across else tenant_id, for_linked_accounts=linked
        )


@dataclass(frozen=True, kw_only=True)
class RemoveSessionsByHandle(RemoveSessions):
    """Remove these sessions (at most ``MAX_HANDLES_PER_REVOKE``); sent without a tenant prefix."""

    handles: tuple[str, ...]

    def body(self) -> JsonObject:
        return {"sessionHandles": list(self.handles)}


@dataclass(frozen=True, kw_only=True)
class RemoveSessionsForUser(RemoveSessions):
    """Remove a user's sessions in one tenant, or in all of them (``tenant_id=None``: no tenant prefix)."""

    user_id: str
    tenant_id: str | None
    for_linked_accounts: bool = True

    def path(self) -> str:
        return tenant_path(self.tenant_id, self.api_path)

    def body(self) -> JsonObject:
        return {
            "userId": self.user_id,
            "revokeAcrossAllTenants": self.tenant_id is None,
            "revokeSessionsForLinkedAccounts": self.for_linked_accounts,
        }


@dataclass(frozen=True, kw_only=True)
class SessionHandlesForUser(CdiRequest[SessionHandles]):
    """GET [/{tenant}]/recipe/session/user: a user's session handles in one tenant, or in all of them
    (``tenant_id=None``: no tenant prefix). ``fetchSessionsForAllLinkedAccounts`` is sent only when false."""

    method = "GET"
    api_path = "/recipe/session/user"
    what = "session listing"
    user_id: str
    tenant_id: str | None
    for_linked_accounts: bool = True

    def path(self) -> str:
        return tenant_path(self.tenant_id, self.api_path)

    def query(self) -> dict[str, str]:
        query = {"userId": self.user_id, "fetchAcrossAllTenants": "true" if self.tenant_id is None else "false"}
        if not self.for_linked_accounts:
            query["fetchSessionsForAllLinkedAccounts"] = "false"
        return query

    def parse_reply(self, body: object) -> SessionHandles:
        return read_outcome(body, self.what, {"OK": SessionHandles.read})

    @classmethod
    def from_wire(cls, tenant_id: str, body: JsonBody, query: Query) -> Self:
        across = query.flag("fetchAcrossAllTenants", default=True)
        linked = query.flag("fetchSessionsForAllLinkedAccounts", default=True)
        return cls(user_id=query.text("userId"), tenant_id=None if across else tenant_id, for_linked_accounts=linked)
