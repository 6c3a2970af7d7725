"""The CDI replies, one class per outcome: ``to_json`` is the body the core sends, ``read`` the SDK's checked
parse of it (called by each request's ``parse_reply`` once the ``status`` is known). Public names are re-exported
by ``gatepass.protocol.cdi``.

Refusals carry a ``reason`` that never goes on the wire (``compare=False``, not in ``to_json``): the core's rate
limiter needs it, and matching message texts was how it used to be found. A reply parsed from the wire has
``reason=None`` (the core does not say), so it never counts as a failure.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import ClassVar, Final, Literal, Self

from gatepass.protocol.cdi_base import CdiReply, IssuedToken, JsonObject, JsonValue, ReplyReader, SessionRef

OK: Final = "OK"
UNAUTHORISED: Final = "UNAUTHORISED"
TRY_REFRESH_TOKEN: Final = "TRY_REFRESH_TOKEN"
TOKEN_THEFT_DETECTED: Final = "TOKEN_THEFT_DETECTED"
UNSUPPORTED_ALGORITHM_ERROR: Final = "UNSUPPORTED_ALGORITHM_ERROR"
UNKNOWN_USER_ID_ERROR: Final = "UNKNOWN_USER_ID_ERROR"
SESSION_LIMIT_REACHED: Final = "SESSION_LIMIT_REACHED"  # gatepass's: the per-user session cap refuses one more
NO_SESSION_MESSAGE: Final = "Session does not exist."

# Why the core refused a verify: only a token that is not ours or fails the anti-CSRF check counts against the
# caller's rate limit; an expired token, or a session that ended, is what honest clients meet every day.
VerifyRefusal = Literal["expired", "invalid_token", "anti_csrf", "session_ended"]
# Why the core refused a refresh: only a token that did not even open (forged or garbage) counts. A token that
# opened but fails the anti-CSRF check came from a real session, and an ended session is an everyday event.
RefreshRefusal = Literal["invalid_token", "anti_csrf", "session_ended"]


def _with_access_token(session: SessionRef, access_token: IssuedToken | None) -> JsonObject:
    body: JsonObject = {"status": OK, "session": session.to_json()}
    if access_token is not None:
        body["accessToken"] = access_token.to_json()
    return body


def _optional_access_token(reply: ReplyReader) -> IssuedToken | None:
    return IssuedToken.read(reply.part("accessToken")) if reply.has("accessToken") else None


@dataclass(frozen=True)
class _NewSessionTokens(CdiReply):
    """A session with a new access and refresh token (create, refresh); ``antiCsrfToken`` only when set."""

    status: ClassVar[Literal["OK"]] = "OK"
    session: SessionRef
    access_token: IssuedToken = field(repr=False)
    refresh_token: IssuedToken = field(repr=False)
    anti_csrf_token: str | None = field(default=None, repr=False)

    def to_json(self) -> JsonObject:
        body: JsonObject = {
            "status": OK,
            "session": self.session.to_json(),
            "accessToken": self.access_token.to_json(),
            "refreshToken": self.refresh_token.to_json(),
        }
        if self.anti_csrf_token is not None:
            body["antiCsrfToken"] = self.anti_csrf_token
        return body

    @classmethod
    def read(cls, reply: ReplyReader) -> Self:
        return cls(
            SessionRef.read(reply.part("session")),
            IssuedToken.read(reply.part("accessToken")),
            IssuedToken.read(reply.part("refreshToken")),
            reply.optional_text("antiCsrfToken"),
        )


@dataclass(frozen=True)
class RevokedSession:
    """A session the per-user cap ended to make room for a new one (gatepass's extension ``revokedSessions`` of the
    create reply): who it was and what it stored, so that the SDK can release what it held (a Fauna token)."""

    session_handle: str
    user_id: str
    tenant_id: str
    user_data_in_jwt: JsonObject = field(repr=False)  # may carry a Fauna secret
    user_data_in_database: JsonObject = field(repr=False)

    def to_json(self) -> JsonObject:
        """The entry as the core sends it."""
        return {
            "sessionHandle": self.session_handle,
            "userId": self.user_id,
            "tenantId": self.tenant_id,
            "userDataInJWT": self.user_data_in_jwt,
            "userDataInDatabase": self.user_data_in_database,
        }

    @classmethod
    def read(cls, reply: ReplyReader) -> RevokedSession:
        """The entry, checked."""
        return cls(
            reply.text("sessionHandle"),
            reply.text("userId"),
            reply.text("tenantId"),
            reply.mapping("userDataInJWT"),
            reply.mapping("userDataInDatabase"),
        )


@dataclass(frozen=True)
class SessionCreated(_NewSessionTokens):
    """POST /{tenant}/recipe/session: the new session and its tokens, and the sessions the per-user cap revoked to
    make room (``revokedSessions``, sent only when there are some)."""

    revoked_sessions: tuple[RevokedSession, ...] = ()

    def to_json(self) -> JsonObject:
        body = super().to_json()
        if self.revoked_sessions:
            body["revokedSessions"] = [revoked.to_json() for revoked in self.revoked_sessions]
        return body

    @classmethod
    def read(cls, reply: ReplyReader) -> Self:
        """The reply, checked (a malformed ``revokedSessions`` entry is an error, not skipped)."""
        created = super().read(reply)
        revoked = tuple(RevokedSession.read(entry) for entry in reply.parts("revokedSessions"))
        return replace(created, revoked_sessions=revoked)


@dataclass(frozen=True)
class SessionLimitReached(CdiReply):
    """POST /{tenant}/recipe/session: the user has as many live sessions as the app's ``max_sessions_per_user`` and
    its ``session_cap_policy`` is ``refuse`` (gatepass's; nothing was written)."""

    status: ClassVar[Literal["SESSION_LIMIT_REACHED"]] = "SESSION_LIMIT_REACHED"
    limit: int

    def to_json(self) -> JsonObject:
        return {"status": SESSION_LIMIT_REACHED, "maxSessionsPerUser": self.limit}

    @classmethod
    def read(cls, reply: ReplyReader) -> Self:
        """The reply, checked."""
        return cls(reply.integer("maxSessionsPerUser"))


@dataclass(frozen=True)
class Refreshed(_NewSessionTokens):
    """POST /recipe/session/refresh: the session with a rotated refresh token and a new access token."""


CreateReply = SessionCreated | SessionLimitReached


@dataclass(frozen=True)
class Verified(CdiReply):
    """POST /recipe/session/verify: valid. ``access_token`` is set when the core minted a new one (first use after
    a refresh, or a payload changed in the database)."""

    status: ClassVar[Literal["OK"]] = "OK"
    session: SessionRef
    access_token: IssuedToken | None = field(default=None, repr=False)

    def to_json(self) -> JsonObject:
        return _with_access_token(self.session, self.access_token)

    @classmethod
    def read(cls, reply: ReplyReader) -> Self:
        """The reply, checked."""
        return cls(SessionRef.read(reply.part("session")), _optional_access_token(reply))


@dataclass(frozen=True)
class VerifyRefused(CdiReply):
    """POST /recipe/session/verify: ``TRY_REFRESH_TOKEN`` (the client should refresh) or ``UNAUTHORISED`` (the
    session is gone). ``reason`` is the core's own (see ``VerifyRefusal``), never sent."""

    status: Literal["UNAUTHORISED", "TRY_REFRESH_TOKEN"]
    message: str
    reason: VerifyRefusal | None = field(compare=False, kw_only=True)  # required: the core must say why

    @property
    def counts_as_failure(self) -> bool:
        """Should the core charge this refusal to the caller's rate limit?"""
        return self.reason in ("invalid_token", "anti_csrf")

    def to_json(self) -> JsonObject:
        return {"status": self.status, "message": self.message}

    @classmethod
    def read(cls, reply: ReplyReader) -> Self:
        """The reply, checked; ``reason`` is ``None`` (it is not on the wire)."""
        status = reply.status(UNAUTHORISED, TRY_REFRESH_TOKEN)
        if status == UNAUTHORISED:
            return cls(UNAUTHORISED, reply.message("unauthorised"), reason=None)
        return cls(TRY_REFRESH_TOKEN, reply.message("try refresh token"), reason=None)


@dataclass(frozen=True)
class RefreshRefused(CdiReply):
    """POST /recipe/session/refresh: ``UNAUTHORISED``. ``reason`` is the core's own (see ``RefreshRefusal``)."""

    status: ClassVar[Literal["UNAUTHORISED"]] = "UNAUTHORISED"
    message: str
    reason: RefreshRefusal | None = field(compare=False, kw_only=True)  # required: the core must say why

    @property
    def counts_as_failure(self) -> bool:
        """Should the core charge this refusal to the caller's rate limit?"""
        return self.reason == "invalid_token"

    def to_json(self) -> JsonObject:
        return {"status": UNAUTHORISED, "message": self.message}

    @classmethod
    def read(cls, reply: ReplyReader) -> Self:
        """The reply, checked; ``reason`` is ``None`` (it is not on the wire)."""
        return cls(reply.message("unauthorised"), reason=None)


@dataclass(frozen=True)
class TokenTheftDetected(CdiReply):
    """POST /recipe/session/refresh: a rotated-out refresh token was used again. On the wire the session has
    ``handle``, ``userId`` and ``recipeUserId`` only (no payload, no tenant)."""

    status: ClassVar[Literal["TOKEN_THEFT_DETECTED"]] = "TOKEN_THEFT_DETECTED"
    session_handle: str
    user_id: str

    def to_json(self) -> JsonObject:
        session: JsonObject = {"handle": self.session_handle, "userId": self.user_id, "recipeUserId": self.user_id}
        return {"status": TOKEN_THEFT_DETECTED, "session": session}

    @classmethod
    def read(cls, reply: ReplyReader) -> Self:
        """The reply, checked."""
        session = reply.part("session")
        return cls(session.text("handle"), session.text("userId"))


@dataclass(frozen=True)
class Regenerated(CdiReply):
    """POST /recipe/session/regenerate: the payload is stored; ``access_token`` is the re-signed token (same
    identity and ``exp``), ``None`` when the token had already expired."""

    status: ClassVar[Literal["OK"]] = "OK"
    session: SessionRef
    access_token: IssuedToken | None = field(default=None, repr=False)

    def to_json(self) -> JsonObject:
        return _with_access_token(self.session, self.access_token)

    @classmethod
    def read(cls, reply: ReplyReader) -> Self:
        """The reply, checked."""
        return cls(SessionRef.read(reply.part("session")), _optional_access_token(reply))


@dataclass(frozen=True)
class NoSession(CdiReply):
    """``UNAUTHORISED`` from the handle-based APIs and regenerate: no such session (or, for regenerate, a token
    that is not ours)."""

    status: ClassVar[Literal["UNAUTHORISED"]] = "UNAUTHORISED"
    message: str = NO_SESSION_MESSAGE

    def to_json(self) -> JsonObject:
        return {"status": UNAUTHORISED, "message": self.message}

    @classmethod
    def read(cls, reply: ReplyReader) -> Self:
        """The reply, checked."""
        return cls(reply.message(NO_SESSION_MESSAGE))


@dataclass(frozen=True)
class SessionInfo(CdiReply):
    """GET /recipe/session: one session's stored state. ``tenant_id`` is ``None`` when another core leaves it out
    (the SDK then assumes ``public``)."""

    status: ClassVar[Literal["OK"]] = "OK"
    session_handle: str
    user_id: str
    recipe_user_id: str
    user_data_in_database: JsonObject = field(repr=False)  # holds the Fauna secret with FaunaDB
    expiry_ms: int
    user_data_in_jwt: JsonObject = field(repr=False)  # and, in frontend mode, so does this
    time_created_ms: int
    tenant_id: str | None

    def to_json(self) -> JsonObject:
        body: JsonObject = {
            "status": OK,
            "sessionHandle": self.session_handle,
            "userId": self.user_id,
            "recipeUserId": self.recipe_user_id,
            "userDataInDatabase": self.user_data_in_database,
            "expiry": self.expiry_ms,
            "userDataInJWT": self.user_data_in_jwt,
            "timeCreated": self.time_created_ms,
        }
        if self.tenant_id is not None:
            body["tenantId"] = self.tenant_id
        return body

    @classmethod
    def read(cls, reply: ReplyReader) -> Self:
        """The reply, checked."""
        user_id = reply.text("userId")
        return cls(
            session_handle=reply.text("sessionHandle"),
            user_id=user_id,
            recipe_user_id=reply.optional_text("recipeUserId") or user_id,
            user_data_in_database=reply.mapping("userDataInDatabase"),
            expiry_ms=reply.integer("expiry"),
            user_data_in_jwt=reply.mapping("userDataInJWT"),
            time_created_ms=reply.integer("timeCreated"),
            tenant_id=reply.optional_text("tenantId"),
        )


@dataclass(frozen=True)
class Updated(CdiReply):
    """PUT /recipe/session/data and PUT /recipe/jwt/data: stored."""

    status: ClassVar[Literal["OK"]] = "OK"

    def to_json(self) -> JsonObject:
        return {"status": OK}

    @classmethod
    def read(cls, reply: ReplyReader) -> Self:
        """The reply, checked."""
        return cls()


@dataclass(frozen=True)
class Revoked(CdiReply):
    """POST /recipe/session/remove: the handles of the sessions that were removed (absent on the wire: none)."""

    status: ClassVar[Literal["OK"]] = "OK"
    handles: tuple[str, ...]

    def to_json(self) -> JsonObject:
        return {"status": OK, "sessionHandlesRevoked": list(self.handles)}

    @classmethod
    def read(cls, reply: ReplyReader) -> Self:
        """The reply, checked."""
        return cls(reply.text_list("sessionHandlesRevoked", absent_is_empty=True))


@dataclass(frozen=True)
class SessionHandles(CdiReply):
    """GET /recipe/session/user: the handles of a user's live sessions (absent on the wire: none)."""

    status: ClassVar[Literal["OK"]] = "OK"
    handles: tuple[str, ...]

    def to_json(self) -> JsonObject:
        return {"status": OK, "sessionHandles": list(self.handles)}

    @classmethod
    def read(cls, reply: ReplyReader) -> Self:
        """The reply, checked."""
        return cls(reply.text_list("sessionHandles", absent_is_empty=True))


@dataclass(frozen=True)
class JwtCreated(CdiReply):
    """POST /recipe/jwt: the signed JWT."""

    status: ClassVar[Literal["OK"]] = "OK"
    jwt: str = field(repr=False)  # a bearer token

    def to_json(self) -> JsonObject:
        return {"status": OK, "jwt": self.jwt}

    @classmethod
    def read(cls, reply: ReplyReader) -> Self:
        """The reply, checked."""
        return cls(reply.text("jwt"))


@dataclass(frozen=True)
class UnsupportedAlgorithm(CdiReply):
    """POST /recipe/jwt: the algorithm is not RS256."""

    status: ClassVar[Literal["UNSUPPORTED_ALGORITHM_ERROR"]] = "UNSUPPORTED_ALGORITHM_ERROR"

    def to_json(self) -> JsonObject:
        return {"status": UNSUPPORTED_ALGORITHM_ERROR}

    @classmethod
    def read(cls, reply: ReplyReader) -> Self:
        """The reply, checked."""
        return cls()


@dataclass(frozen=True)
class ApiVersions(CdiReply):
    """GET /apiversion: the CDI versions the core speaks (no ``status``)."""

    versions: tuple[str, ...]

    def to_json(self) -> JsonObject:
        return {"versions": list(self.versions)}

    @classmethod
    def read(cls, reply: ReplyReader) -> Self:
        """The reply, checked."""
        return cls(reply.text_list("versions"))


@dataclass(frozen=True)
class JwksKeys(CdiReply):
    """GET /.well-known/jwks.json: the public JWKs (no ``status``). Entries that are not objects are skipped when
    read. ``max_age_s`` is the ``Cache-Control`` max-age the core answers with: a header, not in the body."""

    entries: tuple[Mapping[str, JsonValue], ...]  # a Mapping: the core's keyring builds them as dict[str, str]
    max_age_s: int | None = field(default=None, compare=False)

    def to_json(self) -> JsonObject:
        return {"keys": [dict(entry) for entry in self.entries]}

    def headers(self) -> dict[str, str]:
        """The ``Cache-Control`` header for ``max_age_s``; none when it is unset."""
        if self.max_age_s is None:
            return {}
        return {"Cache-Control": f"max-age={self.max_age_s}, must-revalidate"}

    @classmethod
    def read(cls, reply: ReplyReader) -> Self:
        """The reply, checked."""
        return cls(reply.objects("keys"))


@dataclass(frozen=True)
class CreatedOrUpdated(CdiReply):
    """PUT /recipe/multitenancy/app/v2 and PUT /recipe/multitenancy/tenant/v2: ``created_new`` is false when the
    app or tenant existed already."""

    status: ClassVar[Literal["OK"]] = "OK"
    created_new: bool

    def to_json(self) -> JsonObject:
        return {"status": OK, "createdNew": self.created_new}

    @classmethod
    def read(cls, reply: ReplyReader) -> Self:
        """The reply, checked."""
        return cls(reply.flag("createdNew"))


@dataclass(frozen=True)
class AppRemoved(CdiReply):
    """POST /recipe/multitenancy/app/remove: ``did_exist`` is false when there was no such app."""

    status: ClassVar[Literal["OK"]] = "OK"
    did_exist: bool

    def to_json(self) -> JsonObject:
        return {"status": OK, "didExist": self.did_exist}

    @classmethod
    def read(cls, reply: ReplyReader) -> Self:
        """The reply, checked."""
        return cls(reply.flag("didExist"))


@dataclass(frozen=True)
class UnknownUserId(CdiReply):
    """GET /user/id: this core has no user store, so every user id is unknown to it."""

    status: ClassVar[Literal["UNKNOWN_USER_ID_ERROR"]] = "UNKNOWN_USER_ID_ERROR"

    def to_json(self) -> JsonObject:
        return {"status": UNKNOWN_USER_ID_ERROR}

    @classmethod
    def read(cls, reply: ReplyReader) -> Self:
        """The reply, checked."""
        return cls()


VerifyReply = Verified | VerifyRefused
RefreshReply = Refreshed | RefreshRefused | TokenTheftDetected
RegenerateReply = Regenerated | NoSession
InformationReply = SessionInfo | NoSession
UpdateReply = Updated | NoSession
JwtReply = JwtCreated | UnsupportedAlgorithm
