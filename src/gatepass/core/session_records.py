"""The handle-based session APIs of the core: read, update the stored data or payload, revoke, list, expire; and
gatepass's "your devices" extension (``protocol.cdi_devices``): a user's sessions with their activity, and revoking
all of a user's sessions but one.

Each is one short transaction. An impossible handle or user id (see ``identifiers``) finds nothing without a
query, as a well-formed but unknown one does.
"""

from __future__ import annotations

import logging

from gatepass.core.apps import AppContext
from gatepass.core.clock import Clock
from gatepass.core.identifiers import could_be_handle, could_be_user_id
from gatepass.core.payloads import check_access_token_payload, check_storable
from gatepass.protocol.cdi import (
    GetSessionInformation,
    InformationReply,
    ListUserSessions,
    NoSession,
    OthersRevoked,
    RemoveOtherSessions,
    RemoveOthersReply,
    RemoveSessionsByHandle,
    RemoveSessionsForUser,
    Revoked,
    RevokedSession,
    SessionHandles,
    SessionHandlesForUser,
    SessionInfo,
    Updated,
    UpdateJwtData,
    UpdateReply,
    UpdateSessionData,
    UserSession,
    UserSessions,
)
from gatepass.storage.contract import SessionRow, Storage

log = logging.getLogger("gatepass.core")


class SessionRecords:
    """The session rows of one core's storage, by handle or by user."""

    def __init__(self, storage: Storage, clock: Clock) -> None:
        self._storage = storage
        self._clock = clock

    def information(self, ctx: AppContext, request: GetSessionInformation) -> InformationReply:
        """One session's stored state, or ``NoSession``."""
        if not could_be_handle(request.session_handle):
            return NoSession()
        with self._storage.read() as tx:
            row = tx.get_session(ctx.app_id, request.session_handle, self._clock())
        if row is None:
            return NoSession()
        return SessionInfo(
            session_handle=row.session_handle,
            user_id=row.user_id,
            recipe_user_id=row.user_id,
            user_data_in_database=row.session_data,
            expiry_ms=row.expires_at_ms,
            user_data_in_jwt=row.jwt_payload,
            time_created_ms=row.created_at_ms,
            tenant_id=row.tenant_id,
        )

    def update_session_data(self, ctx: AppContext, request: UpdateSessionData) -> UpdateReply:
        """Replace the session's data in the database."""
        check_storable(request.user_data_in_database, "userDataInDatabase")
        if not could_be_handle(request.session_handle):
            return NoSession()
        with self._storage.transaction() as tx:
            updated = tx.update_session_data(
                ctx.app_id, request.session_handle, request.user_data_in_database, self._clock()
            )
        return Updated() if updated else NoSession()

    def update_jwt_payload(self, ctx: AppContext, request: UpdateJwtData) -> UpdateReply:
        """Replace the payload the session's next access token carries."""
        check_access_token_payload(request.user_data_in_jwt)
        if not could_be_handle(request.session_handle):
            return NoSession()
        with self._storage.transaction() as tx:
            updated = tx.update_jwt_payload(ctx.app_id, request.session_handle, request.user_data_in_jwt, self._clock())
        return Updated() if updated else NoSession()

    def revoke(self, ctx: AppContext, request: RemoveSessionsByHandle | RemoveSessionsForUser) -> Revoked:
        """Delete sessions by handle, or all of a user's (in one tenant or all)."""
        if isinstance(request, RemoveSessionsForUser):
            return self._revoke_user(ctx, request)
        handles = [handle for handle in request.handles if could_be_handle(handle)]
        if not handles:
            return Revoked(())
        with self._storage.transaction() as tx:
            revoked = tx.delete_sessions(ctx.app_id, handles, self._clock())
        for handle in revoked:
            log.info("session revoked: app=%s handle=%s", ctx.app_id, handle)
        return Revoked(tuple(revoked))

    def _revoke_user(self, ctx: AppContext, request: RemoveSessionsForUser) -> Revoked:
        if not could_be_user_id(request.user_id):
            return Revoked(())
        with self._storage.transaction() as tx:
            tx.lock_user(ctx.app_id, request.user_id)  # after a create at the cap or a sign-out elsewhere, not amid it
            revoked = tx.delete_sessions_for_user(ctx.app_id, request.user_id, request.tenant_id, self._clock())
        log.info("sessions revoked for user: app=%s user=%s count=%d", ctx.app_id, request.user_id, len(revoked))
        return Revoked(tuple(revoked))

    def handles_for_user(self, ctx: AppContext, request: SessionHandlesForUser) -> SessionHandles:
        """The handles of a user's live sessions."""
        if not could_be_user_id(request.user_id):
            return SessionHandles(())
        with self._storage.read() as tx:
            handles = tx.handles_for_user(ctx.app_id, request.user_id, request.tenant_id, self._clock())
        return SessionHandles(tuple(handles))

    def user_sessions(self, ctx: AppContext, request: ListUserSessions) -> UserSessions:
        """A user's live sessions with when and where they were created and last used, oldest first."""
        if not could_be_user_id(request.user_id):
            return UserSessions(())
        with self._storage.read() as tx:
            rows = tx.sessions_for_user(ctx.app_id, request.user_id, request.tenant_id, self._clock())
        return UserSessions(tuple(_device(row) for row in rows))

    def revoke_others(self, ctx: AppContext, request: RemoveOtherSessions) -> RemoveOthersReply:
        """Revoke every live session of the kept session's user but that one, in one transaction; ``NoSession``
        (and nothing revoked) when the kept session is not live."""
        if not could_be_handle(request.session_handle):
            return NoSession()
        now = self._clock()
        with self._storage.transaction() as tx:
            kept = tx.get_session(ctx.app_id, request.session_handle, now)
            if kept is None:
                return NoSession()
            tx.lock_user(ctx.app_id, kept.user_id)  # two devices signing out the others at once: one after the other
            live = tx.sessions_for_user(ctx.app_id, kept.user_id, request.tenant_id, now)
            if all(row.session_handle != kept.session_handle for row in live):
                return NoSession()  # revoked meanwhile, or not in the tenant asked for
            others = [row for row in live if row.session_handle != kept.session_handle]
            # no row lock on the kept session: the deletes lock rows in handle order, as every other revocation does
            gone = set(tx.delete_sessions(ctx.app_id, [row.session_handle for row in others], now))
        log.info("other sessions revoked: app=%s kept=%s count=%d", ctx.app_id, kept.session_handle, len(gone))
        return OthersRevoked(tuple(revoked_session(row) for row in others if row.session_handle in gone))

    def delete_expired(self) -> int:
        """Delete every expired session of every app; how many went."""
        with self._storage.transaction() as tx:
            return tx.delete_expired_sessions(self._clock())


def revoked_session(row: SessionRow) -> RevokedSession:
    """What a revocation reply tells of a session it ended: who, and what it stored (to release what it held)."""
    return RevokedSession(row.session_handle, row.user_id, row.tenant_id, row.jwt_payload, row.session_data)


def _device(row: SessionRow) -> UserSession:
    return UserSession(
        session_handle=row.session_handle,
        tenant_id=row.tenant_id,
        created_ms=row.created_at_ms,
        last_active_ms=row.last_active_at_ms if row.last_active_at_ms is not None else row.created_at_ms,
        expiry_ms=row.expires_at_ms,
        browser_session=row.browser_session,
        created_from=row.created_client,
        last_seen_from=row.last_client,
    )
