"""In-process floors for the HTTP benchmarks, measured in the same run as what they bound: one RS256-2048 signature,
one RS256 verification, one insert transaction on SQLite (WAL, ``synchronous=NORMAL``) or PostgreSQL. Each is the
median, over ``runs`` batches, of the time per operation in a batch."""

from __future__ import annotations

import os
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

_SIGNING_INPUT = b"e" * 360  # about an access token's header and payload, base64url-encoded


def _per_op_s(operation: Callable[[], object], count: int, runs: int) -> float:
    for _ in range(max(1, count // 10)):  # warm up
        operation()
    batches = []
    for _ in range(runs):
        started = time.perf_counter()
        for _ in range(count):
            operation()
        batches.append((time.perf_counter() - started) / count)
    return statistics.median(batches)


def rs256_sign_s(runs: int = 5) -> float:
    """Seconds per RS256-2048 signature."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return _per_op_s(lambda: key.sign(_SIGNING_INPUT, padding.PKCS1v15(), hashes.SHA256()), 300, runs)


def rs256_verify_s(runs: int = 5) -> float:
    """Seconds per RS256-2048 signature check."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    signature = key.sign(_SIGNING_INPUT, padding.PKCS1v15(), hashes.SHA256())
    public = key.public_key()
    return _per_op_s(lambda: public.verify(signature, _SIGNING_INPUT, padding.PKCS1v15(), hashes.SHA256()), 2000, runs)


def sqlite_insert_tx_s(runs: int = 5) -> float:
    """Seconds per ``BEGIN IMMEDIATE; INSERT; COMMIT`` of one row with a random text key, WAL and NORMAL."""
    with tempfile.TemporaryDirectory() as tmp:
        conn = sqlite3.connect(Path(tmp) / "floor.db", isolation_level=None)
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("CREATE TABLE floor (k TEXT PRIMARY KEY, v TEXT NOT NULL)")

            def insert() -> None:
                conn.execute("BEGIN IMMEDIATE")
                conn.execute("INSERT INTO floor VALUES (?, ?)", (os.urandom(16).hex(), "v" * 300))
                conn.execute("COMMIT")

            return _per_op_s(insert, 2000, runs)
        finally:
            conn.close()


def postgres_insert_tx_s(url: str, runs: int = 5) -> float:
    """Seconds per one-row insert transaction on PostgreSQL (``synchronous_commit`` as the server has it)."""
    import psycopg

    with psycopg.connect(url) as conn:
        conn.execute("CREATE TEMPORARY TABLE floor (k TEXT PRIMARY KEY, v TEXT NOT NULL)")
        conn.commit()

        def insert() -> None:
            conn.execute("INSERT INTO floor VALUES (%s, %s)", (os.urandom(16).hex(), "v" * 300))
            conn.commit()

        return _per_op_s(insert, 500, runs)
