"""SQLite writers queue rather than poll: threads of one process and separate processes writing one file never see
"database is locked", even with SQLite's own busy handler switched off (``busy_timeout_s=0``), because the writer
lock hands the file from one writer to the next."""

from __future__ import annotations

import logging
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from gatepass.errors import StorageError
from gatepass.storage.contract import SessionRow
from gatepass.storage.sqlite import SqliteStorage

NOW = 1_800_000_000_000
WRITERS = 6
WRITES = 25


def _row(handle: str) -> SessionRow:
    return SessionRow("public", handle, "public", "u", "hash2", {}, {}, NOW + 60_000, NOW, False)


def _write_many(storage: SqliteStorage, prefix: str, errors: list[BaseException]) -> None:
    try:
        for i in range(WRITES):
            with storage.transaction() as tx:
                tx.insert_session(_row(f"{prefix}-{i}"))
                time.sleep(0.0005)  # hold the write lock long enough that the writers overlap
    except BaseException as exc:  # collected for the main thread's assertion
        errors.append(exc)


def _count(path: Path) -> int:
    storage = SqliteStorage(str(path))
    try:
        with storage.read() as tx:
            return len(tx.handles_for_user("public", "u", None, NOW))
    finally:
        storage.close()


def test_threads_queue_for_the_write_lock_without_sqlites_busy_handler(tmp_path: Path) -> None:
    storage = SqliteStorage(str(tmp_path / "s.db"), busy_timeout_s=0)
    errors: list[BaseException] = []
    threads = [threading.Thread(target=_write_many, args=(storage, f"t{n}", errors)) for n in range(WRITERS)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        storage.close()
    assert errors == []
    assert _count(tmp_path / "s.db") == WRITERS * WRITES
    assert (tmp_path / "s.db-writer.lock").exists()


_CHILD = """
import sys, time
from gatepass.storage.contract import SessionRow
from gatepass.storage.sqlite import SqliteStorage
storage = SqliteStorage(sys.argv[1], busy_timeout_s=0)
sys.stdout.write("ready\\n"); sys.stdout.flush(); sys.stdin.readline()
for i in range({writes}):
    with storage.transaction() as tx:
        tx.insert_session(SessionRow("public", f"{{sys.argv[2]}}-{{i}}", "public", "u", "h", {{}}, {{}},
                                     {expires}, {now}, False))
        time.sleep(0.0005)
storage.close()
"""


def test_processes_queue_for_the_write_lock_without_sqlites_busy_handler(tmp_path: Path) -> None:
    path = tmp_path / "p.db"
    SqliteStorage(str(path)).close()  # the schema exists before the writers start
    code = _CHILD.format(writes=WRITES, expires=NOW + 60_000, now=NOW)
    children = [
        subprocess.Popen(
            [sys.executable, "-c", code, str(path), f"p{n}"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(3)
    ]
    for child in children:  # every child has opened the database before any of them writes
        assert child.stdout is not None and child.stdout.readline() == "ready\n"
    for child in children:
        assert child.stdin is not None
        child.stdin.write("go\n")
        child.stdin.flush()
    failures = []
    for child in children:
        _, err = child.communicate(timeout=60)
        if child.returncode != 0:
            failures.append(err)
    assert failures == []
    assert _count(path) == 3 * WRITES


def test_a_writer_waiting_longer_than_writer_wait_s_gets_a_storage_error(tmp_path: Path) -> None:
    storage = SqliteStorage(str(tmp_path / "w.db"), writer_wait_s=0.05)
    holding, release = threading.Event(), threading.Event()

    def hold() -> None:
        with storage.transaction():
            holding.set()
            release.wait(5)

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert holding.wait(5)
        started = time.monotonic()
        with pytest.raises(StorageError, match="another writer"):
            with storage.transaction():
                pass
        assert time.monotonic() - started < 2
    finally:
        release.set()
        holder.join()
    with storage.transaction() as tx:  # the queue works again once the holder is done
        tx.insert_session(_row("after"))
    storage.close()


def test_without_a_lock_file_writers_fall_back_to_the_busy_handler(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "f.db"
    (tmp_path / "f.db-writer.lock").mkdir()  # cannot be opened as a file
    with caplog.at_level(logging.WARNING, logger="gatepass.storage"):
        storage = SqliteStorage(str(path))
    assert any("no writer lock file" in record.getMessage() for record in caplog.records)
    errors: list[BaseException] = []
    threads = [threading.Thread(target=_write_many, args=(storage, f"t{n}", errors)) for n in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    storage.close()
    assert errors == []
    assert _count(path) == 3 * WRITES


class LooksFree:
    """A thread lock that says it is free (as it was an instant before a writer took it)."""

    def __init__(self, real: Any) -> None:
        self._real = real

    def locked(self) -> bool:
        return False

    def release(self) -> None:
        self._real.release()


def test_asking_whether_the_writer_is_idle_never_touches_a_writers_lock(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The probe races a thread that takes the writer lock between the thread-lock check and the file probe (pinned
    here by making the thread lock look free while a writer holds both): the answer is "busy", and the writer's
    file lock still keeps other processes out. A probe on the writers' own descriptor would have converted that
    lock to a shared one and then dropped it."""
    import fcntl
    import os

    storage = SqliteStorage(str(tmp_path / "probe.db"))
    queue = storage._writers
    other_process = os.open(str(tmp_path / "probe.db-writer.lock"), os.O_RDWR)
    try:
        with queue.hold():
            monkeypatch.setattr(queue, "_thread_lock", LooksFree(queue._thread_lock))  # the race's window
            assert queue.idle() is False
            with pytest.raises(BlockingIOError):  # the writer's lock is intact
                fcntl.flock(other_process, fcntl.LOCK_EX | fcntl.LOCK_NB)
        monkeypatch.undo()
        assert queue.idle() is True
        fcntl.flock(other_process, fcntl.LOCK_EX | fcntl.LOCK_NB)  # released with the writer
        assert queue.idle() is False  # another process writing: busy
        fcntl.flock(other_process, fcntl.LOCK_UN)
    finally:
        os.close(other_process)
        storage.close()
