"""PostgreSQL backend: psycopg 3 with a connection pool, one pooled connection per operation.

A refresh or promotion locks its session row with ``SELECT ... FOR UPDATE`` inside one transaction on one
connection (it works with a pool of size 1). Key creation takes a transaction-scoped advisory lock per app, because
``FOR UPDATE`` cannot lock a row that does not exist yet; several core processes therefore create one key, not one
each. Migrations run under a global advisory lock for the same reason.

Start-up opens one direct connection first, with a short ``connect_timeout``: a pool that cannot connect only
retries, logs warnings and ends in ``PoolTimeout`` after its whole timeout, while the direct attempt fails at once
with libpq's own reason (``database "x" does not exist``, ``Connection refused``). Every driver message that can
leave this module (errors, the pool's log lines) is scrubbed of the URL's secrets first: libpq quotes parts of a
malformed URL in its parse errors, and those parts can be the password.
"""

from __future__ import annotations

import logging
import re
import zlib
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

from gatepass.errors import ConfigurationError, StorageError, StorageFault
from gatepass.storage.contract import Storage
from gatepass.storage.sql import SqlTransaction
from gatepass.storage.url import scrub, scrubbed_cause

_MIGRATION_LOCK = 0x6761_7465  # "gate"
_USER_LOCKS = 0x7573_6572  # "user": the first key of the per-user advisory locks (the session cap)
CONNECT_TIMEOUT_S = 5  # libpq's minimum is 2 s; unset, libpq waits for the OS (minutes on a black-holed host)
INSTALL_HINT = "run scripts/setup postgres, or pip install -e '.[postgres]' in a gatepass clone"


def one_line(message: str, conninfo: str) -> str:
    """A driver message as one log-safe line: secrets masked, libpq's line breaks and double spaces folded."""
    lines = (re.sub(r"\s+", " ", line).strip() for line in scrub(message, conninfo).splitlines())
    text = "; ".join(line for line in lines if line)
    return text.removeprefix("connection failed: ") or "no detail from the driver"


class _ScrubSecrets(logging.Filter):
    """Masks the URL's secrets in the pool's own warnings (it logs every failed reconnection with libpq's text)."""

    def __init__(self, conninfo: str) -> None:
        super().__init__()
        self._conninfo = conninfo

    def filter(self, record: logging.LogRecord) -> bool:
        """Replace the record's text with its scrubbed form; never drops a record."""
        record.msg, record.args = scrub(record.getMessage(), self._conninfo), None
        return True


def _describe(exc: Exception) -> str:
    """Class and SQLSTATE only: the driver's message can quote row values (user ids, payloads)."""
    sqlstate = getattr(exc, "sqlstate", None)
    return f"{type(exc).__name__} (SQLSTATE {sqlstate})" if sqlstate else type(exc).__name__


class PostgresTransaction(SqlTransaction):
    """The shared SQL with ``%s`` placeholders, ``FOR UPDATE`` row locks and an advisory lock for key creation."""

    row_lock_suffix = " FOR UPDATE"

    def _sql(self, query: str) -> str:
        return query.replace("?", "%s")

    def lock_user(self, app_id: str, user_id: str) -> None:
        # A transaction-scoped advisory lock per (app, user): FOR UPDATE cannot stop a concurrent INSERT, and the
        # session cap counts rows another transaction may be about to add. CRC32 collisions only serialise more.
        lock_id = zlib.crc32(f"gatepass-user:{app_id}:{user_id}".encode())
        self._execute("SELECT pg_advisory_xact_lock(?, ?)", (_USER_LOCKS, lock_id - 2**31))

    def lock_app_keys(self, app_id: str) -> None:
        lock_id = zlib.crc32(f"gatepass-keys:{app_id}".encode())
        self._execute("SELECT pg_advisory_xact_lock(?, ?)", (_MIGRATION_LOCK, lock_id - 2**31))


class PostgresStorage(Storage):
    """``contract.Storage`` on PostgreSQL through a psycopg pool; fails at start-up, with libpq's reason, when it
    cannot connect."""

    local = False

    def writer_idle(self) -> bool:
        """Not asked of a remote database (its transactions always run in a worker thread)."""
        return False

    def __init__(self, conninfo: str, description: str, *, pool_size: int = 10, timeout_s: float = 10.0) -> None:
        try:
            import psycopg
            import psycopg_pool  # noqa: F401 - the extra is installed whole or not at all
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise ConfigurationError(f"PostgreSQL support needs the postgres extra (psycopg): {INSTALL_HINT}") from exc
        self._psycopg: Any = psycopg
        self._conninfo = conninfo
        self.description = description
        connect_kwargs = self._check_connection()
        self._log_filter = _ScrubSecrets(conninfo)
        logging.getLogger("psycopg.pool").addFilter(self._log_filter)
        try:
            self._pool = self._open_pool(pool_size, timeout_s, connect_kwargs)
        except StorageError:
            self.close()
            raise
        with self.transaction() as tx:
            assert isinstance(tx, PostgresTransaction)
            tx._execute("SELECT pg_advisory_xact_lock(?)", (_MIGRATION_LOCK,))
            tx.migrate()

    def _check_connection(self) -> dict[str, Any]:
        """Connect once, directly, so a wrong URL fails in seconds with libpq's reason; returns the connection
        keywords the pool should add (a ``connect_timeout`` unless the URL sets one)."""
        psycopg = self._psycopg
        try:
            given = psycopg.conninfo.conninfo_to_dict(self._conninfo)
            extra = {} if given.get("connect_timeout") else {"connect_timeout": CONNECT_TIMEOUT_S}
            psycopg.connect(self._conninfo, autocommit=True, **extra).close()
        except psycopg.Error as exc:
            reason, cause = one_line(str(exc), self._conninfo), scrubbed_cause(exc, self._conninfo)
        else:
            return extra
        # Chained to a scrubbed stand-in, and raised outside the except block so that __context__ does not keep the
        # driver's exception either: its message may quote the password (see the module docstring).
        raise StorageError(f"cannot connect to PostgreSQL at {self.description}: {reason}") from cause

    def _open_pool(self, pool_size: int, timeout_s: float, connect_kwargs: dict[str, Any]) -> Any:
        """The pool, with its first connection made; a failure is chained to a scrubbed stand-in, as above."""
        from psycopg_pool import ConnectionPool

        pool = None
        try:
            pool = ConnectionPool(
                self._conninfo,
                min_size=1,
                max_size=pool_size,
                timeout=timeout_s,
                kwargs={"autocommit": True, **connect_kwargs},
                open=False,
            )
            pool.open(wait=True, timeout=timeout_s)
        except Exception as exc:
            reason = f"{type(exc).__name__}: {one_line(str(exc), self._conninfo)}"
            cause = scrubbed_cause(exc, self._conninfo)
        else:
            return pool
        if pool is not None:
            pool.close()
        raise StorageError(f"cannot connect to PostgreSQL at {self.description}: {reason}") from cause

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
        pool = getattr(self, "_pool", None)
        if pool is not None:
            pool.close()
        logging.getLogger("psycopg.pool").removeFilter(self._log_filter)
