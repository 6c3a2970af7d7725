"""The handle-based session APIs of the core: read, update the stored data or payload, revoke, list, expire.

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
    NoSession,
    RemoveSessionsByHandle,
    RemoveSessionsForUser,
    Revoked,
    SessionHandles,
    SessionHandlesForUser,
    SessionInfo,
    Updated,
    UpdateJwtData,
    UpdateReply,
    UpdateSessionData,
)
from gatepass.storage.contract import Storage

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

    def delete_expired(self) -> int:
        """Delete every expired session of every app; how many went."""
        with self._storage.transaction() as tx:
            return tx.delete_expired_sessions(self._clock())
