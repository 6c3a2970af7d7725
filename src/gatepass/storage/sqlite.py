"""SQLite backend: stdlib ``sqlite3``, WAL journal, one connection per thread.

Write transactions start with ``BEGIN IMMEDIATE``, which takes SQLite's single write lock up front: concurrent
refreshes of one session (in one process or several) are serialised without deadlock-prone lock upgrades. Reads
use deferred transactions and never block writers under WAL. ``synchronous=NORMAL`` survives an application crash
but may lose the last commits on power loss; the promote-on-use protocol heals from that (a child token's parent
still matches), and ``sqlite_synchronous=FULL`` can be chosen instead.

Writers queue instead of polling. SQLite's own busy handler makes a writer that finds the write lock taken sleep
1, 2, 5, 10 ... ms before it looks again, which under load turns a 20 µs transaction into tens of milliseconds of
tail latency. So before ``BEGIN IMMEDIATE`` a writer takes this process's writer lock (a ``threading.Lock``) and
then an exclusive ``flock`` on a lock file beside the database (``<database>-writer.lock``), which the kernel
hands to the next waiting process the moment it is released, and releases by itself when a process dies. Both are
held only for the transaction. The busy timeout still applies to anything else that writes the file (another
program, or a lock file that could not be created, where writers fall back to the busy handler).
"""

from __future__ import annotations

import fcntl
import logging
import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager

from gatepass.errors import StorageError, StorageFault
from gatepass.storage.contract import Storage
from gatepass.storage.sql import SqlTransaction

log = logging.getLogger("gatepass.storage")


class WriterQueue:
    """One writer at a time across the threads and processes of this machine that write one SQLite file (the
    module docstring says why); ``hold()`` is a context manager."""

    def __init__(self, lock_path: str, wait_s: float) -> None:
        self._thread_lock = threading.Lock()
        self._wait_s = wait_s
        self._fd: int | None = None
        self._probe_fd: int | None = None  # a second open file: flock locks belong to one, so a probe on the
        # writers' own would convert (and then drop) the lock of a writer that took it meanwhile
        try:
            self._fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            self._probe_fd = os.open(lock_path, os.O_RDWR | os.O_CLOEXEC)
        except OSError as exc:  # e.g. a read-only directory: SQLite's busy handler still serialises writers
            log.warning("no writer lock file (%s): concurrent writers will poll", exc.strerror)
            self.close()

    @contextmanager
    def hold(self) -> Iterator[None]:
        """Hold the writer lock: this process's first (waiting longer than ``wait_s`` is ``StorageError``), then
        the file's, which waits for the writer of another process to commit (the kernel's lock has no timeout; a
        holder that dies releases it)."""
        if not self._thread_lock.acquire(timeout=self._wait_s):
            raise StorageError("database unavailable: another writer held it for too long")
        try:
            if self._fd is not None:
                fcntl.flock(self._fd, fcntl.LOCK_EX)
            try:
                yield
            finally:
                if self._fd is not None:
                    fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            self._thread_lock.release()

    def idle(self) -> bool:
        """Whether a writer would start at once: no thread of this process holds the lock and no other process
        holds the file's (a hint: another writer may come first, and then the wait is one transaction)."""
        if self._thread_lock.locked():
            return False
        if self._probe_fd is None:
            return True
        try:  # any writer's lock, ours or another process's, refuses this shared one
            fcntl.flock(self._probe_fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        fcntl.flock(self._probe_fd, fcntl.LOCK_UN)
        return True

    def close(self) -> None:
        """Close the lock file (its lock, if held, goes with it)."""
        for fd in (self._fd, self._probe_fd):
            if fd is not None:
                os.close(fd)
        self._fd = self._probe_fd = None


class SqliteTransaction(SqlTransaction):
    """The shared SQL as it is: SQLite takes ``?`` placeholders, and its single writer serialises row updates."""


class SqliteStorage(Storage):
    """``contract.Storage`` on one SQLite file (the module docstring says how transactions are taken)."""

    local = True

    def __init__(
        self, path: str, *, synchronous: str = "NORMAL", busy_timeout_s: float = 30.0, writer_wait_s: float = 30.0
    ) -> None:
        self.path = path
        self.description = f"sqlite:///{path}"
        self._synchronous = synchronous
        self._busy_timeout_s = busy_timeout_s
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._all_lock = threading.Lock()
        self._closed = False
        self._writers = WriterQueue(f"{path}-writer.lock", writer_wait_s)
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

    @contextmanager
    def _write(self) -> Iterator[SqlTransaction]:
        with self._writers.hold(), self._run("BEGIN IMMEDIATE") as tx:
            yield tx

    def writer_idle(self) -> bool:
        """Whether a write transaction would start without waiting (``WriterQueue.idle``)."""
        return self._writers.idle()

    def transaction(self) -> AbstractContextManager[SqlTransaction]:
        return self._write()

    def read(self) -> AbstractContextManager[SqlTransaction]:
        return self._run("BEGIN")

    def close(self) -> None:
        self._closed = True
        with self._all_lock:
            for conn in self._all:
                conn.close()
            self._all.clear()
        self._writers.close()
