"""What the session core needs from a database, independent of the backend.

Every session operation runs inside exactly one ``Storage.transaction()`` (serialised per session row: a row
lock on PostgreSQL, the single writer on SQLite) or one ``Storage.read()``. A row whose ``expires_at`` has passed
counts as absent for every read. Nothing here decides anything; the core does.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, Protocol

from gatepass.protocol.cdi_base import ClientInfo


@dataclass(frozen=True)
class SessionRow:
    """One session as stored: who it belongs to, the hash of its current refresh token, its data and expiry."""

    app_id: str
    session_handle: str
    tenant_id: str
    user_id: str
    refresh_token_hash2: str
    # Application data: it may hold secrets (the FaunaDB integration keeps the Fauna secret there).
    session_data: dict[str, Any] = field(repr=False)
    jwt_payload: dict[str, Any] = field(repr=False)
    expires_at_ms: int
    created_at_ms: int
    use_static_key: bool
    absolute_expires_at_ms: int | None = None  # the absolute end (``core.lifetimes``); None: only inactivity
    refresh_validity_ms: int | None = None  # this session's inactivity timeout; None: the app's
    browser_session: bool = False  # the SDK sets its cookies without Expires/Max-Age
    # The grace window (``core.rotation``): the hash2 the last promotion superseded, and when. None on rows from
    # before schema 3 until their next promotion, and once the window has been used.
    previous_refresh_token_hash2: str | None = field(default=None, repr=False)
    superseded_at_ms: int | None = None
    last_active_at_ms: int | None = None  # the last refresh or promotion; None: none since creation
    created_client: ClientInfo | None = None  # where it was created from, if the SDK said
    last_client: ClientInfo | None = None  # where it was last refreshed from, if the SDK said


@dataclass(frozen=True)
class Promotion:
    """A rotation's writes: the new current refresh token's H(H), the hash2 it supersedes (``None``: none may be
    used in grace, as after the grace window's one use), the session's new expiry, when, and from where (``None``:
    unknown, the last client stays)."""

    hash2: str
    previous_hash2: str | None
    expires_at_ms: int
    now_ms: int
    client: ClientInfo | None = None


@dataclass(frozen=True)
class StoredKey:
    """A signing key as stored: its kid, creation time and serialised key pair."""

    kid: str
    created_at_ms: int
    value: str = field(repr=False)  # holds the private key


class Transaction(Protocol):
    """The reads and writes of one database transaction; ``now_ms`` decides which rows have expired."""

    # apps and tenants
    def app_config(self, app_id: str) -> str | None:
        """The app's stored coreConfig overrides as JSON, or None if there is no such app."""

    def upsert_app(self, app_id: str, config_json: str, now_ms: int) -> bool:
        """Create the app (with its ``public`` tenant) or replace its overrides; True if it was created."""

    def delete_app(self, app_id: str) -> bool:
        """Delete the app with its tenants, sessions, keys and values; True if it existed."""

    def tenant_exists(self, app_id: str, tenant_id: str) -> bool:
        """Whether the app has this tenant."""

    def upsert_tenant(self, app_id: str, tenant_id: str, now_ms: int) -> bool:
        """Create the tenant unless it exists; True if it was created."""

    # sessions
    def insert_session(self, row: SessionRow) -> None:
        """Store a new session."""

    def get_session(self, app_id: str, handle: str, now_ms: int, *, for_update: bool = False) -> SessionRow | None:
        """The live session with this handle, or None; ``for_update`` locks its row until the transaction ends."""

    def promote(self, app_id: str, handle: str, promotion: Promotion) -> None:
        """Record a rotation: the new current refresh token, what it superseded, the new expiry and the activity."""

    def record_activity(self, app_id: str, handle: str, now_ms: int, client: ClientInfo | None) -> None:
        """Record a refresh that rotated nothing: the session's last activity and (unless ``None``) client."""

    def lock_user(self, app_id: str, user_id: str) -> None:
        """Serialise session creation for one user across processes, until the transaction ends."""

    def sessions_for_user(self, app_id: str, user_id: str, tenant_id: str | None, now_ms: int) -> list[SessionRow]:
        """The user's live sessions, oldest first, in one tenant or (``None``) in all of them."""

    def set_use_static_key(self, app_id: str, handle: str, use_static_key: bool) -> None:
        """Choose whether the session's access tokens are signed with the static key."""

    def update_session_data(self, app_id: str, handle: str, data: dict[str, Any], now_ms: int) -> bool:
        """Replace a live session's data; False if there is no such live session."""

    def update_jwt_payload(self, app_id: str, handle: str, payload: dict[str, Any], now_ms: int) -> bool:
        """Replace a live session's access-token payload; False if there is no such live session."""

    def delete_sessions(self, app_id: str, handles: Sequence[str], now_ms: int) -> list[str]:
        """Delete these sessions, expired or not; returns the handles of those that were still live."""

    def handles_for_user(self, app_id: str, user_id: str, tenant_id: str | None, now_ms: int) -> list[str]:
        """The user's live session handles, oldest first, in one tenant or (``None``) in all of them."""

    def delete_sessions_for_user(self, app_id: str, user_id: str, tenant_id: str | None, now_ms: int) -> list[str]:
        """Delete the user's sessions (in one tenant, or all); returns the handles of those that were live."""

    def delete_expired_sessions(self, now_ms: int) -> int:
        """Delete every app's expired sessions; returns how many."""

    # signing keys and per-app secrets
    def lock_app_keys(self, app_id: str) -> None:
        """Serialise key creation for one app across processes, until the transaction ends."""

    def dynamic_keys(self, app_id: str) -> list[StoredKey]:
        """The app's dynamic signing keys, newest first."""

    def insert_dynamic_key(self, app_id: str, created_at_ms: int, value: str) -> None:
        """Store a new dynamic signing key (its kid is ``d-<created_at_ms>``)."""

    def delete_dynamic_keys_before(self, app_id: str, created_before_ms: int) -> int:
        """Delete the app's dynamic keys created before that time; returns how many."""

    def static_key(self, app_id: str, algorithm: str) -> StoredKey | None:
        """The app's static signing key for the algorithm, or None."""

    def insert_static_key_if_absent(self, app_id: str, key: StoredKey, algorithm: str) -> None:
        """Store the static key unless the app already has one for the algorithm (the first writer wins)."""

    def get_value(self, app_id: str, name: str) -> str | None:
        """A named per-app value (such as the refresh-token secret), or None."""

    def insert_value_if_absent(self, app_id: str, name: str, value: str, now_ms: int) -> None:
        """Store a named per-app value unless it is set (the first writer wins)."""


class Storage(Protocol):
    """A database the core can use: transactions for writes, reads, and a description safe for logs."""

    description: str  # the database URL with any password removed, for logs
    local: bool  # transactions are this machine's disk work, microseconds long (SQLite): may run on an event loop

    def writer_idle(self) -> bool:
        """Whether a write transaction would start now without waiting for another writer (asked of local storage
        before it runs a short operation on an event loop, which must not wait on a lock)."""

    def transaction(self) -> AbstractContextManager[Transaction]:
        """A write transaction: committed when the block ends, rolled back if it raises."""

    def read(self) -> AbstractContextManager[Transaction]:
        """A transaction for reads only; on SQLite it does not take the write lock."""

    def close(self) -> None:
        """Close every connection; the storage cannot be used afterwards."""
