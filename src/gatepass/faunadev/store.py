"""The dev server's state: in memory, changed only inside a transaction (one at a time, with an undo log, so a
failed query leaves nothing behind), and saved as a JSON snapshot after every write (temp file, then rename).

Tables: ``collections``, ``indexes``, ``roles`` and ``access_providers`` keyed by name; ``documents`` and
``credentials`` keyed by ``(collection, id)``; ``tokens`` and ``keys`` keyed by id. Values are plain dicts holding
FQL values. The store's ``global_id`` (random, kept in the snapshot) stands for Fauna's global id of the database
(access providers' ``audience``).
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from gatepass.faunadev.values import Bytes, Date, Lambda, Ref, SetRef, Time, encode, parse_time

TABLES = ("collections", "indexes", "roles", "documents", "credentials", "tokens", "keys", "access_providers")
FIRST_ID = 310_000_000_000_000_000
_MISSING = object()


def _decode_snapshot(value: Any) -> Any:
    if isinstance(value, list):
        return [_decode_snapshot(v) for v in value]
    if not isinstance(value, dict):
        return value
    if len(value) == 1:
        ((tag, body),) = value.items()
        if tag == "@ref":
            collection = body.get("collection")
            return Ref(body["id"], _decode_snapshot(collection) if collection else None)
        if tag == "@ts":
            return Time(parse_time(body))
        if tag == "@date":
            return Date(dt.date.fromisoformat(body))
        if tag == "@bytes":
            return Bytes(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        if tag == "@set":
            return SetRef({k: _decode_snapshot(v) for k, v in body.items()})
        if tag == "@query":
            return Lambda(body["lambda"], body["expr"])
        if tag == "@obj":
            return {k: _decode_snapshot(v) for k, v in body.items()}
    return {k: _decode_snapshot(v) for k, v in value.items()}


def new_global_id() -> int:
    """A random global id for a new store: positive and 63 bits wide, as Fauna's database ids are."""
    return secrets.randbits(62) + 2**62


class Store:
    """Every table in memory, one transaction at a time, saved to ``path`` (if any) after every write."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        self.tables: dict[str, dict[Any, dict[str, Any]]] = {name: {} for name in TABLES}
        self.next_id = FIRST_ID
        self.last_ts = 0  # microseconds
        self.clock_offset_us = 0
        self.global_id = new_global_id()
        self._lock = threading.Lock()
        if path is not None and path.exists():
            self._load(path)

    # clock and ids -------------------------------------------------------------------------------------------------
    def now_us(self) -> int:
        """The store's clock in microseconds: the wall clock plus the offset tests moved it by."""
        return time.time_ns() // 1000 + self.clock_offset_us

    def new_id(self) -> int:
        """The next record id (ids only grow)."""
        self.next_id += 1
        return self.next_id

    # transactions ------------------------------------------------------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        """Hold the lock for one transaction: roll it back if it raises, else save it if it wrote."""
        with self._lock:
            ts = max(self.now_us(), self.last_ts + 1)
            tx = Transaction(self, ts)
            try:
                yield tx
            except BaseException:
                tx.rollback()
                raise
            self.last_ts = ts
            if tx.wrote and self.path is not None:
                self._save(self.path)

    @contextmanager
    def reading(self) -> Iterator[Transaction]:
        """Hold the lock for reads only (nothing is saved, the clock of answers does not move)."""
        with self._lock:
            tx = Transaction(self, max(self.now_us(), self.last_ts))
            try:
                yield tx
            finally:
                tx.rollback()  # a read-only view: nothing written in it survives

    # persistence ---------------------------------------------------------------------------------------------------
    def _snapshot(self) -> dict[str, Any]:
        tables = {
            name: [[json.dumps(key) if isinstance(key, tuple) else key, encode(value)] for key, value in rows.items()]
            for name, rows in self.tables.items()
        }
        return {
            "format": "gatepass-fauna-dev/1",
            "tables": tables,
            "next_id": self.next_id,
            "last_ts": self.last_ts,
            "clock_offset_us": self.clock_offset_us,
            "global_id": self.global_id,
        }

    def _save(self, path: Path) -> None:
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(json.dumps(self._snapshot()))
        os.replace(tmp, path)

    def _load(self, path: Path) -> None:
        snapshot = json.loads(path.read_text())
        if snapshot.get("format") != "gatepass-fauna-dev/1":
            raise ValueError(f"{path} is not a gatepass fauna-dev data file")
        for name in TABLES:
            rows: dict[Any, dict[str, Any]] = {}
            for key, value in snapshot["tables"].get(name, []):
                rows[tuple(json.loads(key)) if name in ("documents", "credentials") else key] = _decode_snapshot(value)
            self.tables[name] = rows
        self.next_id = int(snapshot["next_id"])
        self.last_ts = int(snapshot["last_ts"])
        self.clock_offset_us = int(snapshot["clock_offset_us"])
        global_id = snapshot.get("global_id")
        if isinstance(global_id, int) and 0 < global_id < 2**63:
            self.global_id = global_id

    def advance_clock(self, seconds: float) -> int:
        """Move the store's clock by ``seconds`` and save the offset; the new offset in microseconds."""
        with self._lock:
            self.clock_offset_us += int(seconds * 1_000_000)
            if self.path is not None:
                self._save(self.path)
            return self.clock_offset_us


class Transaction:
    """One transaction's reads and writes, with the undo log that ``rollback`` replays."""

    def __init__(self, store: Store, ts_us: int) -> None:
        self.store = store
        self.ts_us = ts_us
        self._undo: list[tuple[str, Any, Any]] = []
        self._next_id_before = store.next_id
        self.wrote = False

    @property
    def now_ns(self) -> int:
        """The transaction's instant in nanoseconds (the same for every read of the clock in it)."""
        return self.ts_us * 1000

    def get(self, table: str, key: Any) -> dict[str, Any] | None:
        """A table's record, or None."""
        return self.store.tables[table].get(key)

    def rows(self, table: str) -> dict[Any, dict[str, Any]]:
        """A table's records, by key."""
        return self.store.tables[table]

    def put(self, table: str, key: Any, value: dict[str, Any]) -> None:
        """Write a record (undone by a rollback)."""
        self._undo.append((table, key, self.store.tables[table].get(key, _MISSING)))
        self.store.tables[table][key] = value
        self.wrote = True

    def remove(self, table: str, key: Any) -> None:
        """Delete a record, if there is one (undone by a rollback)."""
        if key in self.store.tables[table]:
            self._undo.append((table, key, self.store.tables[table][key]))
            del self.store.tables[table][key]
            self.wrote = True

    def new_id(self) -> int:
        """A new record id (given back by a rollback)."""
        self.wrote = True
        return self.store.new_id()

    def rollback(self) -> None:
        """Undo this transaction's writes, newest first, and give back the ids it took."""
        for table, key, previous in reversed(self._undo):
            if previous is _MISSING:
                self.store.tables[table].pop(key, None)
            else:
                self.store.tables[table][key] = previous
        self.store.next_id = self._next_id_before
        self._undo.clear()
        self.wrote = False
