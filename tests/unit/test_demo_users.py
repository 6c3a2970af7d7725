"""The demo's own user table (``gatepass demo --users external``): accounts by email, scrypt-hashed passwords with a
salt per user, checked in constant time, and no password anywhere it could leak (the file, a repr, a log)."""

from __future__ import annotations

import hashlib
import hmac
import logging
import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest

from gatepass.demo import users
from gatepass.demo.users import UserStore

PASSWORD = "correct horse battery staple"


@pytest.fixture
def store(tmp_path: Path) -> UserStore:
    return UserStore(tmp_path / "users.db")


def test_sign_up_then_log_in_with_an_opaque_random_id(store: UserStore) -> None:
    user_id = store.sign_up("ada@example.com", PASSWORD)
    assert user_id is not None and len(user_id) == 32 and int(user_id, 16) >= 0
    assert "ada" not in user_id
    assert store.log_in("ada@example.com", PASSWORD) == user_id
    other = store.sign_up("grace@example.com", PASSWORD)
    assert other is not None and other != user_id
    assert store.email_of(user_id) == "ada@example.com" and store.email_of("nobody") is None


def test_a_second_account_for_an_email_is_refused_and_the_first_keeps_its_password(store: UserStore) -> None:
    user_id = store.sign_up("ada@example.com", PASSWORD)
    assert store.sign_up("ada@example.com", "another password") is None
    assert store.log_in("ada@example.com", PASSWORD) == user_id
    assert store.log_in("ada@example.com", "another password") is None


def test_concurrent_sign_ups_for_one_email_make_one_account(store: UserStore) -> None:
    results: list[str | None] = []
    threads = [
        threading.Thread(target=lambda: results.append(store.sign_up("race@example.com", PASSWORD))) for _ in range(6)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len([r for r in results if r is not None]) == 1, results


@pytest.mark.parametrize(
    ("email", "password"),
    [
        ("ada@example.com", "wrong password"),
        ("ada@example.com", PASSWORD + " "),
        ("ada@example.com", PASSWORD.upper()),
        ("nobody@example.com", PASSWORD),
        ("ADA@example.com", PASSWORD),  # the store compares emails as given: the app lower-cases them first
    ],
)
def test_a_wrong_password_or_an_unknown_email_is_refused(store: UserStore, email: str, password: str) -> None:
    store.sign_up("ada@example.com", PASSWORD)
    assert store.log_in(email, password) is None


def _spy(monkeypatch: pytest.MonkeyPatch, module: Any, name: str) -> list[Any]:
    calls: list[Any] = []
    original = getattr(module, name)

    def spy(*args: Any, **kwargs: Any) -> Any:
        calls.append(args)
        return original(*args, **kwargs)

    monkeypatch.setattr(module, name, spy)
    return calls


def test_passwords_are_compared_in_constant_time_after_the_same_work(
    store: UserStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every login, right, wrong or for an unknown email, hashes once with scrypt and compares with
    ``hmac.compare_digest``: the answer's time does not tell a registered email from another."""
    store.sign_up("ada@example.com", PASSWORD)
    compares = _spy(monkeypatch, hmac, "compare_digest")
    hashes = _spy(monkeypatch, hashlib, "scrypt")
    for email, password in [("ada@example.com", PASSWORD), ("ada@example.com", "wrong"), ("x@example.com", "p")]:
        store.log_in(email, password)
    assert len(compares) == 3 and len(hashes) == 3
    assert all(len(a) == len(b) == users.HASH_BYTES for a, b in compares)


def test_each_user_has_a_random_salt_and_the_password_is_stored_nowhere(store: UserStore) -> None:
    store.sign_up("ada@example.com", PASSWORD)
    store.sign_up("grace@example.com", PASSWORD)
    with sqlite3.connect(store.path) as db:
        rows = db.execute("SELECT salt, hash, n, r, p FROM users").fetchall()
    (salt_a, hash_a, *params), (salt_b, hash_b, *_) = rows
    assert len(salt_a) == users.SALT_BYTES and salt_a != salt_b and hash_a != hash_b
    assert params == [users.SCRYPT_N, users.SCRYPT_R, users.SCRYPT_P] and users.SCRYPT_N >= 2**14
    assert hash_a == hashlib.scrypt(PASSWORD.encode(), salt=salt_a, n=2**14, r=8, p=1, dklen=32)
    raw = b"".join(path.read_bytes() for path in store.path.parent.iterdir())
    assert PASSWORD.encode() not in raw and PASSWORD.encode("utf-16-le") not in raw


def test_no_password_in_reprs_or_logs(store: UserStore, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    user_id = store.sign_up("ada@example.com", PASSWORD)
    assert user_id is not None
    store.log_in("ada@example.com", PASSWORD)
    store.log_in("ada@example.com", "wrong " + PASSWORD)
    assert repr(store) == f"UserStore({str(store.path)!r})"
    assert not [r for r in caplog.records if PASSWORD in r.getMessage() or PASSWORD in str(r.args)]
    assert PASSWORD not in repr(store.claims(user_id))


def test_the_table_outlives_the_store_and_the_claims_name_the_email(tmp_path: Path) -> None:
    user_id = UserStore(tmp_path / "users.db").sign_up("ada@example.com", PASSWORD)
    again = UserStore(tmp_path / "users.db")
    assert user_id is not None and again.log_in("ada@example.com", PASSWORD) == user_id
    assert again.claims(user_id) == {"email": "ada@example.com"}
    assert again.claims("0" * 32) == {}
