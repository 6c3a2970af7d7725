"""The demo's own user table, for ``gatepass demo --users external``: the users live in SQLite next to the sessions
(``<data-dir>/users.db``), and Fauna never sees them; it trusts the gatepass JWTs their sessions carry.

A password is kept as its scrypt hash (``hashlib.scrypt``, a random 16-byte salt per user) and checked with
``hmac.compare_digest``. An unknown email costs the same hash as a wrong password, so the time of an answer does not
say which emails are registered. A user id is random and opaque (``uuid4().hex``), never derived from the email.
Nothing here logs, and the store's repr names only its file.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

# scrypt's cost: 2**14 x 8 x 128 bytes = 16 MiB and some 50 ms per hash (the parameters OWASP lists for scrypt)
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
SALT_BYTES, HASH_BYTES = 16, 32
SCHEMA = """CREATE TABLE IF NOT EXISTS users (
    id TEXT PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    salt BLOB NOT NULL,
    hash BLOB NOT NULL,
    n INTEGER NOT NULL,
    r INTEGER NOT NULL,
    p INTEGER NOT NULL
)"""
# what an unknown email is checked against: a hash no password has, at today's cost
_NOBODY = (b"\0" * SALT_BYTES, b"\0" * HASH_BYTES, SCRYPT_N, SCRYPT_R, SCRYPT_P)


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=2 * 128 * n * r * p, dklen=HASH_BYTES
    )


class UserStore:
    """Users with an email and a password, in one SQLite file. The methods are blocking (run them in a thread
    from async code) and safe to call from several threads: each opens its own connection."""

    def __init__(self, path: Path) -> None:
        self.path = path
        with self._connection() as db:
            db.execute(SCHEMA)

    def __repr__(self) -> str:
        return f"UserStore({str(self.path)!r})"

    @contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        with closing(sqlite3.connect(self.path, timeout=10)) as db, db:  # one transaction, committed or rolled back
            yield db

    def sign_up(self, email: str, password: str) -> str | None:
        """A new user's id, or None if a user already has this email."""
        salt = os.urandom(SALT_BYTES)
        digest = _scrypt(password, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
        user_id = uuid.uuid4().hex
        try:
            with self._connection() as db:
                db.execute(
                    "INSERT INTO users (id, email, salt, hash, n, r, p) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (user_id, email, salt, digest, SCRYPT_N, SCRYPT_R, SCRYPT_P),
                )
        except sqlite3.IntegrityError:
            return None  # the email's UNIQUE constraint: a second account for it is refused
        return user_id

    def log_in(self, email: str, password: str) -> str | None:
        """The id of the user with this email if the password is theirs, else None (the same for an unknown
        email, after the same work)."""
        with self._connection() as db:
            row = db.execute("SELECT id, salt, hash, n, r, p FROM users WHERE email = ?", (email,)).fetchone()
        user_id, (salt, expected, n, r, p) = (row[0], row[1:]) if row else (None, _NOBODY)
        matches = hmac.compare_digest(_scrypt(password, salt, n, r, p), expected)
        return user_id if matches and user_id is not None else None

    def email_of(self, user_id: str) -> str | None:
        """The email of the user with this id, if there is one."""
        with self._connection() as db:
            row = db.execute("SELECT email FROM users WHERE id = ?", (user_id,)).fetchone()
        return str(row[0]) if row else None

    def claims(self, user_id: str) -> dict[str, str]:
        """The claims a user's Fauna JWTs carry besides the standard ones: their email (the page reads it back
        from Fauna, ``Select("email", CurrentToken())``); none for an id this table does not have."""
        email = self.email_of(user_id)
        return {"email": email} if email is not None else {}
