"""The SQL behind the storage contract, written once for both backends.

Queries use ``?`` placeholders; the PostgreSQL backend rewrites them to ``%s``. Backends differ only in how a
transaction starts, how a session row is locked (``FOR UPDATE`` vs SQLite's single writer) and how key creation is
serialised (an advisory lock vs ``BEGIN IMMEDIATE``).
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from typing import Any

from gatepass.protocol.cdi_base import ClientInfo
from gatepass.storage.contract import Promotion, SessionRow, StoredKey, Transaction
from gatepass.storage.schema import MIGRATIONS, VERSION_TABLE
from gatepass.tokens.encoding import compact_json_text

_SESSION_COLUMNS = (
    "app_id, session_handle, tenant_id, user_id, refresh_token_hash_2, session_data, jwt_user_payload, "
    "expires_at, created_at_time, use_static_key, absolute_expires_at, refresh_validity_ms, browser_session, "
    "previous_refresh_token_hash_2, superseded_at, last_active_at, created_client, last_client"
)
_SESSION_COLUMN_COUNT = _SESSION_COLUMNS.count(",") + 1


def _optional_int(value: Any) -> int | None:
    return None if value is None else int(value)


def _client(text: Any) -> ClientInfo | None:
    return None if text is None else ClientInfo.from_json(json.loads(text))


def _client_json(client: ClientInfo | None) -> str | None:
    return None if client is None else _dumps(client.to_json())


def _row_to_session(row: Sequence[Any]) -> SessionRow:
    return SessionRow(
        app_id=row[0],
        session_handle=row[1],
        tenant_id=row[2],
        user_id=row[3],
        refresh_token_hash2=row[4],
        session_data=json.loads(row[5]),
        jwt_payload=json.loads(row[6]),
        expires_at_ms=int(row[7]),
        created_at_ms=int(row[8]),
        use_static_key=bool(row[9]),
        absolute_expires_at_ms=_optional_int(row[10]),
        refresh_validity_ms=_optional_int(row[11]),
        browser_session=bool(row[12]),
        previous_refresh_token_hash2=row[13],
        superseded_at_ms=_optional_int(row[14]),
        last_active_at_ms=_optional_int(row[15]),
        created_client=_client(row[16]),
        last_client=_client(row[17]),
    )


def _dumps(value: Any) -> str:
    # No NaN: a non-finite number must never be stored (it would make every later read of the row fail).
    return compact_json_text(value)


class SqlTransaction(Transaction):
    """Implements ``contract.Transaction`` over a DB-API cursor-like ``execute`` (the methods' docs are there)."""

    row_lock_suffix = ""

    def __init__(self, connection: Any) -> None:
        self._conn = connection

    # backend hooks -------------------------------------------------------------------------------------------
    def _sql(self, query: str) -> str:
        return query

    def _execute(self, query: str, params: Sequence[Any] = ()) -> Any:
        return self._conn.execute(self._sql(query), tuple(params))

    def _fetchone(self, query: str, params: Sequence[Any] = ()) -> Any:
        return self._execute(query, params).fetchone()

    def _fetchall(self, query: str, params: Sequence[Any] = ()) -> list[Any]:
        return list(self._execute(query, params).fetchall())

    def lock_app_keys(self, app_id: str) -> None:
        """Serialise key creation for one app across processes (a no-op where the transaction already is)."""

    # schema ----------------------------------------------------------------------------------------------------
    def migrate(self) -> None:
        """Apply the schema migrations this database lacks (the caller holds the backend's migration lock)."""
        self._execute(VERSION_TABLE)
        row = self._fetchone("SELECT MAX(version) FROM gatepass_schema")
        current = int(row[0]) if row and row[0] is not None else 0
        for version, statements in MIGRATIONS:
            if version > current:
                for statement in statements:
                    self._execute(statement)
                self._execute(
                    "INSERT INTO gatepass_schema (version, applied_at) VALUES (?, ?)",
                    (version, int(time.time() * 1000)),
                )

    # apps and tenants ------------------------------------------------------------------------------------------
    def app_config(self, app_id: str) -> str | None:
        row = self._fetchone("SELECT core_config FROM apps WHERE app_id = ?", (app_id,))
        return None if row is None else str(row[0])

    def upsert_app(self, app_id: str, config_json: str, now_ms: int) -> bool:
        # INSERT ... ON CONFLICT DO NOTHING, not "SELECT then INSERT": two transactions creating the same app at once
        # (several core processes, or threads on PostgreSQL) must both succeed, one of them creating it.
        cursor = self._execute(
            "INSERT INTO apps (app_id, core_config, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
            (app_id, config_json, now_ms),
        )
        if cursor.rowcount == 0:
            self._execute("UPDATE apps SET core_config = ? WHERE app_id = ?", (config_json, app_id))
            return False
        self.upsert_tenant(app_id, "public", now_ms)
        return True

    def delete_app(self, app_id: str) -> bool:
        existed = self.app_config(app_id) is not None
        for table in (
            "session_info",
            "session_signing_keys",
            "jwt_signing_keys",
            "key_value",
            "tenants",
            "apps",
        ):
            self._execute(f"DELETE FROM {table} WHERE app_id = ?", (app_id,))
        return existed

    def tenant_exists(self, app_id: str, tenant_id: str) -> bool:
        row = self._fetchone("SELECT 1 FROM tenants WHERE app_id = ? AND tenant_id = ?", (app_id, tenant_id))
        return row is not None

    def upsert_tenant(self, app_id: str, tenant_id: str, now_ms: int) -> bool:
        cursor = self._execute(
            "INSERT INTO tenants (app_id, tenant_id, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
            (app_id, tenant_id, now_ms),
        )
        return bool(cursor.rowcount > 0)

    # sessions --------------------------------------------------------------------------------------------------
    def insert_session(self, row: SessionRow) -> None:
        self._execute(
            f"INSERT INTO session_info ({_SESSION_COLUMNS}, last_updated_at) "
            f"VALUES ({', '.join('?' * (_SESSION_COLUMN_COUNT + 1))})",
            (
                row.app_id,
                row.session_handle,
                row.tenant_id,
                row.user_id,
                row.refresh_token_hash2,
                _dumps(row.session_data),
                _dumps(row.jwt_payload),
                row.expires_at_ms,
                row.created_at_ms,
                int(row.use_static_key),
                row.absolute_expires_at_ms,
                row.refresh_validity_ms,
                int(row.browser_session),
                row.previous_refresh_token_hash2,
                row.superseded_at_ms,
                row.last_active_at_ms,
                _client_json(row.created_client),
                _client_json(row.last_client),
                row.created_at_ms,
            ),
        )

    def get_session(self, app_id: str, handle: str, now_ms: int, *, for_update: bool = False) -> SessionRow | None:
        suffix = self.row_lock_suffix if for_update else ""
        row = self._fetchone(
            f"SELECT {_SESSION_COLUMNS} FROM session_info WHERE app_id = ? AND session_handle = ? "
            f"AND expires_at > ?{suffix}",
            (app_id, handle, now_ms),
        )
        return None if row is None else _row_to_session(row)

    def promote(self, app_id: str, handle: str, promotion: Promotion) -> None:
        p = promotion
        self._execute(
            "UPDATE session_info SET refresh_token_hash_2 = ?, "
            "previous_refresh_token_hash_2 = ?, superseded_at = ?, expires_at = ?, last_updated_at = ?, "
            "last_active_at = ?, last_client = COALESCE(?, last_client) WHERE app_id = ? AND session_handle = ?",
            (p.hash2, p.previous_hash2, p.now_ms, p.expires_at_ms, p.now_ms, p.now_ms)
            + (_client_json(p.client), app_id, handle),
        )

    def record_activity(self, app_id: str, handle: str, now_ms: int, client: ClientInfo | None) -> None:
        self._execute(
            "UPDATE session_info SET last_active_at = ?, last_client = COALESCE(?, last_client) "
            "WHERE app_id = ? AND session_handle = ?",
            (now_ms, _client_json(client), app_id, handle),
        )

    def lock_user(self, app_id: str, user_id: str) -> None:
        """Serialise session creation for one user (a no-op where the transaction already is: SQLite's writer)."""

    def set_use_static_key(self, app_id: str, handle: str, use_static_key: bool) -> None:
        self._execute(
            "UPDATE session_info SET use_static_key = ? WHERE app_id = ? AND session_handle = ?",
            (int(use_static_key), app_id, handle),
        )

    def _update_json_column(self, column: str, app_id: str, handle: str, value: Any, now_ms: int) -> bool:
        cursor = self._execute(
            f"UPDATE session_info SET {column} = ?, last_updated_at = ? "
            "WHERE app_id = ? AND session_handle = ? AND expires_at > ?",
            (_dumps(value), now_ms, app_id, handle, now_ms),
        )
        return bool(cursor.rowcount > 0)

    def update_session_data(self, app_id: str, handle: str, data: dict[str, Any], now_ms: int) -> bool:
        return self._update_json_column("session_data", app_id, handle, data, now_ms)

    def update_jwt_payload(self, app_id: str, handle: str, payload: dict[str, Any], now_ms: int) -> bool:
        return self._update_json_column("jwt_user_payload", app_id, handle, payload, now_ms)

    # Every statement that locks several session rows locks them in handle order (one app's rows; the cleanup's in
    # (app, handle) order), so two such transactions wait for each other instead of deadlocking on PostgreSQL.
    def delete_sessions(self, app_id: str, handles: Sequence[str], now_ms: int) -> list[str]:
        live: set[str] = set()
        for handle in sorted(set(handles)):
            row = self._fetchone(
                "SELECT expires_at FROM session_info WHERE app_id = ? AND session_handle = ?" + self.row_lock_suffix,
                (app_id, handle),
            )
            if row is None:
                continue
            self._execute("DELETE FROM session_info WHERE app_id = ? AND session_handle = ?", (app_id, handle))
            if int(row[0]) > now_ms:
                live.add(handle)
        return [handle for handle in dict.fromkeys(handles) if handle in live]

    def _user_filter(self, tenant_id: str | None) -> tuple[str, tuple[Any, ...]]:
        return ("", ()) if tenant_id is None else (" AND tenant_id = ?", (tenant_id,))

    def handles_for_user(self, app_id: str, user_id: str, tenant_id: str | None, now_ms: int) -> list[str]:
        extra, params = self._user_filter(tenant_id)
        rows = self._fetchall(
            "SELECT session_handle FROM session_info WHERE app_id = ? AND user_id = ? AND expires_at > ?"
            + extra
            + " ORDER BY created_at_time, session_handle",
            (app_id, user_id, now_ms, *params),
        )
        return [str(r[0]) for r in rows]

    def sessions_for_user(self, app_id: str, user_id: str, tenant_id: str | None, now_ms: int) -> list[SessionRow]:
        extra, params = self._user_filter(tenant_id)
        rows = self._fetchall(
            f"SELECT {_SESSION_COLUMNS} FROM session_info WHERE app_id = ? AND user_id = ? AND expires_at > ?"
            + extra
            + " ORDER BY created_at_time, session_handle",
            (app_id, user_id, now_ms, *params),
        )
        return [_row_to_session(r) for r in rows]

    def delete_sessions_for_user(self, app_id: str, user_id: str, tenant_id: str | None, now_ms: int) -> list[str]:
        handles = self.handles_for_user(app_id, user_id, tenant_id, now_ms)
        extra, params = self._user_filter(tenant_id)
        if self.row_lock_suffix:  # SQLite's writer has the whole database already
            self._fetchall(
                "SELECT session_handle FROM session_info WHERE app_id = ? AND user_id = ?"
                + extra
                + " ORDER BY session_handle"
                + self.row_lock_suffix,
                (app_id, user_id, *params),
            )
        self._execute("DELETE FROM session_info WHERE app_id = ? AND user_id = ?" + extra, (app_id, user_id, *params))
        return handles

    def delete_expired_sessions(self, now_ms: int) -> int:
        if self.row_lock_suffix:
            self._fetchall(
                "SELECT 1 FROM session_info WHERE expires_at <= ? ORDER BY app_id, session_handle"
                + self.row_lock_suffix,
                (now_ms,),
            )
        cursor = self._execute("DELETE FROM session_info WHERE expires_at <= ?", (now_ms,))
        return int(cursor.rowcount)

    # keys --------------------------------------------------------------------------------------------------------
    def dynamic_keys(self, app_id: str) -> list[StoredKey]:
        rows = self._fetchall(
            "SELECT created_at_time, value FROM session_signing_keys WHERE app_id = ? ORDER BY created_at_time DESC",
            (app_id,),
        )
        return [StoredKey(f"d-{int(r[0])}", int(r[0]), str(r[1])) for r in rows]

    def insert_dynamic_key(self, app_id: str, created_at_ms: int, value: str) -> None:
        self._execute(
            "INSERT INTO session_signing_keys (app_id, created_at_time, value) VALUES (?, ?, ?)",
            (app_id, created_at_ms, value),
        )

    def delete_dynamic_keys_before(self, app_id: str, created_before_ms: int) -> int:
        cursor = self._execute(
            "DELETE FROM session_signing_keys WHERE app_id = ? AND created_at_time < ?",
            (app_id, created_before_ms),
        )
        return int(cursor.rowcount)

    def static_key(self, app_id: str, algorithm: str) -> StoredKey | None:
        row = self._fetchone(
            "SELECT key_id, created_at, key_string FROM jwt_signing_keys WHERE app_id = ? AND algorithm = ?",
            (app_id, algorithm),
        )
        return None if row is None else StoredKey(str(row[0]), int(row[1]), str(row[2]))

    def insert_static_key_if_absent(self, app_id: str, key: StoredKey, algorithm: str) -> None:
        self._execute(
            "INSERT INTO jwt_signing_keys (app_id, key_id, algorithm, key_string, created_at) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT DO NOTHING",
            (app_id, key.kid, algorithm, key.value, key.created_at_ms),
        )

    def get_value(self, app_id: str, name: str) -> str | None:
        row = self._fetchone("SELECT value FROM key_value WHERE app_id = ? AND name = ?", (app_id, name))
        return None if row is None else str(row[0])

    def insert_value_if_absent(self, app_id: str, name: str, value: str, now_ms: int) -> None:
        self._execute(
            "INSERT INTO key_value (app_id, name, value, created_at_time) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (app_id, name, value, now_ms),
        )
