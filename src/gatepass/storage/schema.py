"""The versioned schema, the same for SQLite and PostgreSQL (portable types only: TEXT, BIGINT, INTEGER).

Migrations are append-only: a released version is never edited; a change is a new entry. Each backend applies
the missing ones in one transaction under its own lock, so several processes can start at once.
"""

from __future__ import annotations

MIGRATIONS: list[tuple[int, list[str]]] = [
    (
        1,
        [
            """CREATE TABLE apps (
                app_id TEXT PRIMARY KEY,
                core_config TEXT NOT NULL,
                created_at BIGINT NOT NULL)""",
            """CREATE TABLE tenants (
                app_id TEXT NOT NULL,
                tenant_id TEXT NOT NULL,
                created_at BIGINT NOT NULL,
                PRIMARY KEY (app_id, tenant_id))""",
            """CREATE TABLE session_info (
                app_id TEXT NOT NULL,
                session_handle TEXT NOT NULL,
                tenant_id TEXT NOT NULL,
                user_id TEXT NOT NULL,
                refresh_token_hash_2 TEXT NOT NULL,
                session_data TEXT NOT NULL,
                jwt_user_payload TEXT NOT NULL,
                expires_at BIGINT NOT NULL,
                created_at_time BIGINT NOT NULL,
                last_updated_at BIGINT NOT NULL,
                use_static_key INTEGER NOT NULL,
                PRIMARY KEY (app_id, session_handle))""",
            "CREATE INDEX session_info_expires_at ON session_info (expires_at)",
            "CREATE INDEX session_info_user ON session_info (app_id, user_id)",
            """CREATE TABLE session_signing_keys (
                app_id TEXT NOT NULL,
                created_at_time BIGINT NOT NULL,
                value TEXT NOT NULL,
                PRIMARY KEY (app_id, created_at_time))""",
            """CREATE TABLE jwt_signing_keys (
                app_id TEXT NOT NULL,
                key_id TEXT NOT NULL,
                algorithm TEXT NOT NULL,
                key_string TEXT NOT NULL,
                created_at BIGINT NOT NULL,
                PRIMARY KEY (app_id, key_id),
                UNIQUE (app_id, algorithm))""",
            """CREATE TABLE key_value (
                app_id TEXT NOT NULL,
                name TEXT NOT NULL,
                value TEXT NOT NULL,
                created_at_time BIGINT NOT NULL,
                PRIMARY KEY (app_id, name))""",
        ],
    ),
    # 2: the absolute session lifetime (security checklist 24); NULL keeps the sessions made before it as they were
    (2, ["ALTER TABLE session_info ADD COLUMN absolute_expires_at BIGINT"]),
    # 3: per-session lifetimes, the refresh grace window and "your devices"; NULLs keep older rows as they were
    (
        3,
        [
            "ALTER TABLE session_info ADD COLUMN refresh_validity_ms BIGINT",
            "ALTER TABLE session_info ADD COLUMN browser_session INTEGER NOT NULL DEFAULT 0",
            "ALTER TABLE session_info ADD COLUMN previous_refresh_token_hash_2 TEXT",
            "ALTER TABLE session_info ADD COLUMN superseded_at BIGINT",
            "ALTER TABLE session_info ADD COLUMN last_active_at BIGINT",
            "ALTER TABLE session_info ADD COLUMN created_client TEXT",
            "ALTER TABLE session_info ADD COLUMN last_client TEXT",
            "CREATE INDEX session_info_user_created ON session_info (app_id, user_id, created_at_time)",
        ],
    ),
    # 4: session_info_user is a prefix of session_info_user_created, which serves every lookup by user: one index
    # fewer to write on every login
    (4, ["DROP INDEX IF EXISTS session_info_user"]),
]

LATEST_VERSION = MIGRATIONS[-1][0]
VERSION_TABLE = "CREATE TABLE IF NOT EXISTS gatepass_schema (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)"
