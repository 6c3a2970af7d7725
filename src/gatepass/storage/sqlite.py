"""SQLite backend: stdlib ``sqlite3``, WAL journal, one connection per thread.

Write transactions start with ``BEGIN IMMEDIATE``, which takes SQLite's single write lock up front: concurrent
refreshes of one session (in one process or several) are serialised without deadlock-prone lock upgrades. Reads
use deferred transactions and never block writers under WAL. ``synchronous=NORMAL`` survives an application crash
but may lose the last commits on power loss; the promote-on-use protocol heals from that (a child token's parent
still matches), and ``sqlite_synchronous=FULL`` can be chosen instead.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager

from gatepass.errors import StorageError, StorageFault
from gatepass.storage.contract import Storage
from gatepass.storage.sql import SqlTransaction


class SqliteTransaction(SqlTransaction):
    """The shared SQL as it is: SQLite takes ``?`` placeholders, and its single writer serialises row updates."""


class SqliteStorage(Storage):
    """``contract.Storage`` on one SQLite file (the module docstring says how transactions are taken)."""

    def __init__(self, path: str, *, synchronous: str = "NORMAL", busy_timeout_s: float = 30.0) -> None:
        self.path = path
        self.description = f"sqlite:///{path}"
        self._synchronous = synchronous
        self._busy_timeout_s = busy_timeout_s
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._all_lock = threading.Lock()
        self._closed = False
        with self.transaction() as tx:
            assert isinstance(tx, SqliteTransaction)
            tx.migrate()

    def _connection(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is not None:
            return conn
        if self._closed:
            raise StorageError("storage is closed")
        try:
            conn = sqlite3.connect(
                self.path, timeout=self._busy_timeout_s, isolation_level=None, check_same_thread=False
            )
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute(f"PRAGMA synchronous={self._synchronous}")
        except sqlite3.Error as exc:
            raise StorageError(f"cannot open SQLite database {self.path}: {exc}") from exc
        self._local.conn = conn
        with self._all_lock:
            self._all.append(conn)
        return conn

    @contextmanager
    def _run(self, begin: str) -> Iterator[SqlTransaction]:
        conn = self._connection()
        try:
            conn.execute(begin)
        except sqlite3.Error as exc:
            raise StorageError(f"database unavailable: {exc}") from exc
        try:
            yield SqliteTransaction(conn)
            conn.execute("COMMIT")
        except BaseException as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            if isinstance(exc, sqlite3.OperationalError):  # locked, busy, I/O: the database is unavailable
                raise StorageError(f"database unavailable: {type(exc).__name__}: {exc}") from exc
            if isinstance(exc, sqlite3.Error):
                raise StorageFault(f"database refused the operation: {type(exc).__name__}: {exc}") from exc
            raise

    def transaction(self) -> AbstractContextManager[SqlTransaction]:
        return self._run("BEGIN IMMEDIATE")

    def read(self) -> AbstractContextManager[SqlTransaction]:
        return self._run("BEGIN")

    def close(self) -> None:
        self._closed = True
        with self._all_lock:
            for conn in self._all:
                conn.close()
            self._all.clear()
