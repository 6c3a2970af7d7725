"""PostgreSQL backend: psycopg 3 with a connection pool, one pooled connection per operation.

A refresh or promotion locks its session row with ``SELECT ... FOR UPDATE`` inside one transaction on one
connection (it works with a pool of size 1). Key creation takes a transaction-scoped advisory lock per app, because
``FOR UPDATE`` cannot lock a row that does not exist yet; several core processes therefore create one key, not one
each. Migrations run under a global advisory lock for the same reason.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

from gatepass.errors import ConfigurationError, StorageError, StorageFault
from gatepass.storage.sql import SqlTransaction

_MIGRATION_LOCK = 0x6761_7465  # "gate"


def _describe(exc: Exception) -> str:
    """Class and SQLSTATE only: the driver's message can quote row values (user ids, payloads)."""
    sqlstate = getattr(exc, "sqlstate", None)
    return f"{type(exc).__name__} (SQLSTATE {sqlstate})" if sqlstate else type(exc).__name__


class PostgresTransaction(SqlTransaction):
    row_lock_suffix = " FOR UPDATE"

    def _sql(self, query: str) -> str:
        return query.replace("?", "%s")

    def lock_app_keys(self, app_id: str) -> None:
        lock_id = zlib.crc32(f"gatepass-keys:{app_id}".encode())
        self._execute("SELECT pg_advisory_xact_lock(?, ?)", (_MIGRATION_LOCK, lock_id - 2**31))


class PostgresStorage:
    def __init__(self, conninfo: str, description: str, *, pool_size: int = 10, timeout_s: float = 10.0) -> None:
        try:
            import psycopg
            from psycopg_pool import ConnectionPool
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise ConfigurationError("PostgreSQL support needs psycopg: pip install 'gatepass[postgres]'") from exc
        self._psycopg: Any = psycopg
        self.description = description
        try:
            self._pool = ConnectionPool(
                conninfo,
                min_size=1,
                max_size=pool_size,
                timeout=timeout_s,
                kwargs={"autocommit": True},
                open=False,
            )
            self._pool.open(wait=True, timeout=timeout_s)
        except Exception as exc:
            raise StorageError(f"cannot connect to PostgreSQL at {description}: {type(exc).__name__}") from None
        with self.transaction() as tx:
            assert isinstance(tx, PostgresTransaction)
            tx._execute("SELECT pg_advisory_xact_lock(?)", (_MIGRATION_LOCK,))
            tx.migrate()

    @contextmanager
    def _run(self) -> Iterator[SqlTransaction]:
        psycopg = self._psycopg
        try:
            with self._pool.connection() as conn, conn.transaction():
                yield PostgresTransaction(conn)
        except (psycopg.OperationalError, psycopg.InterfaceError) as exc:
            raise StorageError(f"database unavailable: {_describe(exc)}") from exc
        except psycopg.Error as exc:
            raise StorageFault(f"database refused the operation: {_describe(exc)}") from exc
        except Exception as exc:
            if type(exc).__name__ == "PoolTimeout":
                raise StorageError("database unavailable: no connection within the pool timeout") from exc
            raise

    def transaction(self) -> AbstractContextManager[SqlTransaction]:
        return self._run()

    def read(self) -> AbstractContextManager[SqlTransaction]:
        return self._run()

    def close(self) -> None:
        self._pool.close()
