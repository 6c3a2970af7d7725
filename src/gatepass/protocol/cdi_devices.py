"""gatepass's "your devices" extension to the CDI (upstream's cores do not have it; its SDKs never call it): list a
user's live sessions with when and where they were created and last used, and revoke every session of a user but
one. Public names are re-exported by ``gatepass.protocol.cdi``.

- ``GET [/{tenant}]/recipe/session/user/sessions?userId=...&fetchAcrossAllTenants=true|false`` answers
  ``{"status": "OK", "sessions": [...]}``, oldest first; each entry has ``sessionHandle``, ``tenantId``,
  ``timeCreated``, ``lastActive`` (the last refresh or promotion; the creation if none), ``expiry``,
  ``browserSession`` and, when the SDK sent them, ``createdFrom`` and ``lastSeenFrom`` (``{"ip", "userAgent"}``).
  No payload and no data: a device list shows nothing a session stores.
- ``POST [/{tenant}]/recipe/session/user/sessions/remove-others`` with ``{"sessionHandle": keep,
  "revokeAcrossAllTenants": true}`` revokes, in one transaction, every live session of ``keep``'s user but ``keep``
  (in the path's tenant only when ``revokeAcrossAllTenants`` is false) and answers ``{"status": "OK",
  "revokedSessions": [...]}`` (as the create reply's entries, so that the SDK can release what they held), or
  ``UNAUTHORISED`` when ``keep`` is not a live session (nothing is revoked).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal, Self

from gatepass.protocol.body import JsonBody, Query
from gatepass.protocol.cdi_base import CdiReply, CdiRequest, ClientInfo, JsonObject, ReplyReader, tenant_path
from gatepass.protocol.cdi_replies import OK, UNAUTHORISED, NoSession, RevokedSession
from gatepass.protocol.cdi_session import Outcomes, read_outcome


def _put_client(body: JsonObject, name: str, client: ClientInfo | None) -> None:
    if client is not None:
        body[name] = client.to_json()


def _read_client(reply: ReplyReader, name: str) -> ClientInfo | None:
    """Where a session was seen from: an object when present (its parts cleaned as the core stores them)."""
    return ClientInfo.from_json(reply.mapping(name)) if reply.has(name) else None


@dataclass(frozen=True)
class UserSession:
    """One live session of a user, as a "your devices" page shows it (times in epoch milliseconds)."""

    session_handle: str
    tenant_id: str
    created_ms: int
    last_active_ms: int  # the last refresh or promotion; the creation if there was none
    expiry_ms: int  # when it ends unless it is used (or its absolute end)
    browser_session: bool = False
    created_from: ClientInfo | None = None
    last_seen_from: ClientInfo | None = None

    def to_json(self) -> JsonObject:
        """The entry as the core sends it."""
        body: JsonObject = {
            "sessionHandle": self.session_handle,
            "tenantId": self.tenant_id,
            "timeCreated": self.created_ms,
            "lastActive": self.last_active_ms,
            "expiry": self.expiry_ms,
            "browserSession": self.browser_session,
        }
        _put_client(body, "createdFrom", self.created_from)
        _put_client(body, "lastSeenFrom", self.last_seen_from)
        return body

    @classmethod
    def read(cls, reply: ReplyReader) -> UserSession:
        """The entry, checked."""
        return cls(
            session_handle=reply.text("sessionHandle"),
            tenant_id=reply.text("tenantId"),
            created_ms=reply.integer("timeCreated"),
            last_active_ms=reply.integer("lastActive"),
            expiry_ms=reply.integer("expiry"),
            browser_session=reply.flag("browserSession"),
            created_from=_read_client(reply, "createdFrom"),
            last_seen_from=_read_client(reply, "lastSeenFrom"),
        )


@dataclass(frozen=True)
class UserSessions(CdiReply):
    """GET /recipe/session/user/sessions: the user's live sessions, oldest first."""

    status: ClassVar[Literal["OK"]] = "OK"
    sessions: tuple[UserSession, ...]

    def to_json(self) -> JsonObject:
        return {"status": OK, "sessions": [session.to_json() for session in self.sessions]}

    @classmethod
    def read(cls, reply: ReplyReader) -> Self:
        """The reply, checked."""
        return cls(tuple(UserSession.read(entry) for entry in reply.parts("sessions")))


@dataclass(frozen=True)
class OthersRevoked(CdiReply):
    """POST /recipe/session/user/sessions/remove-others: the sessions that were revoked, oldest first."""

    status: ClassVar[Literal["OK"]] = "OK"
    revoked: tuple[RevokedSession, ...]

    def to_json(self) -> JsonObject:
        return {"status": OK, "revokedSessions": [session.to_json() for session in self.revoked]}

    @classmethod
    def read(cls, reply: ReplyReader) -> Self:
        """The reply, checked."""
        return cls(tuple(RevokedSession.read(entry) for entry in reply.parts("revokedSessions")))


RemoveOthersReply = OthersRevoked | NoSession


@dataclass(frozen=True, kw_only=True)
class ListUserSessions(CdiRequest[UserSessions]):
    """GET [/{tenant}]/recipe/session/user/sessions: a user's sessions in one tenant, or in all of them
    (``tenant_id=None``: no tenant prefix)."""

    method = "GET"
    api_path = "/recipe/session/user/sessions"
    what = "session list"
    user_id: str
    tenant_id: str | None

    def path(self) -> str:
        return tenant_path(self.tenant_id, self.api_path)

    def query(self) -> dict[str, str]:
        return {"userId": self.user_id, "fetchAcrossAllTenants": "true" if self.tenant_id is None else "false"}

    def parse_reply(self, body: object) -> UserSessions:
        return read_outcome(body, self.what, {OK: UserSessions.read})

    @classmethod
    def from_wire(cls, tenant_id: str, body: JsonBody, query: Query) -> Self:
        across = query.flag("fetchAcrossAllTenants", default=True)
        return cls(user_id=query.text("userId"), tenant_id=None if across else tenant_id)


@dataclass(frozen=True, kw_only=True)
class RemoveOtherSessions(CdiRequest[RemoveOthersReply]):
    """POST [/{tenant}]/recipe/session/user/sessions/remove-others: revoke the sessions of ``session_handle``'s user
    but that one, in all tenants or (``tenant_id`` set) in that tenant."""

    method = "POST"
    api_path = "/recipe/session/user/sessions/remove-others"
    what = "revoking the other sessions"
    session_handle: str
    tenant_id: str | None

    def path(self) -> str:
        return tenant_path(self.tenant_id, self.api_path)

    def body(self) -> JsonObject:
        return {"sessionHandle": self.session_handle, "revokeAcrossAllTenants": self.tenant_id is None}

    def parse_reply(self, body: object) -> RemoveOthersReply:
        outcomes: Outcomes[RemoveOthersReply] = {OK: OthersRevoked.read, UNAUTHORISED: NoSession.read}
        return read_outcome(body, self.what, outcomes)

    @classmethod
    def from_wire(cls, tenant_id: str, body: JsonBody, query: Query) -> Self:
        across = body.flag("revokeAcrossAllTenants", default=True)
        return cls(session_handle=body.text("sessionHandle"), tenant_id=None if across else tenant_id)
