"""The memo of checked signatures (``access_token._CHECKED``): a repeated token is not RSA-checked again, yet the memo
never accepts what the check would refuse: another signing input under a remembered signature, a remembered token
under another key record with the same kid, a token whose key is gone, an expired token. It is bounded, and
refused tokens never enter it. Every other check runs on every call, on fresh objects."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from hypothesis import given, settings
from hypothesis import strategies as st

from gatepass.tokens import access_token
from gatepass.tokens.access_token import Rejected, SessionClaims, VerifiedAccessToken
from gatepass.tokens.encoding import b64url_decode, b64url_encode, compact_json, json_object
from gatepass.tokens.keys import VerificationKey, generate_rsa_key, make_signing_key

NOW = 1_800_000_000
KEY = make_signing_key("d-1", "dynamic", 0, generate_rsa_key())
OTHER = make_signing_key("d-1", "dynamic", 0, generate_rsa_key())  # same kid, another key pair


@dataclass
class CountingPublicKey:
    """A public key that counts its RSA checks (and delegates them)."""

    inner: rsa.RSAPublicKey
    checks: int = 0

    def verify(self, *args: Any) -> None:
        self.checks += 1
        self.inner.verify(*args)


@pytest.fixture(autouse=True)
def empty_memo() -> Iterator[None]:
    access_token._CHECKED.clear()
    yield
    access_token._CHECKED.clear()


def _counting(key: Any = KEY) -> tuple[VerificationKey, CountingPublicKey]:
    counter = CountingPublicKey(key.public_key)
    return VerificationKey(key.kid, counter), counter  # type: ignore[arg-type]


def _token(user: str = "user-1", expires_at: int = NOW + 3600) -> str:
    claims = SessionClaims(user, "handle-1", "public", "rth1", None, None, NOW - 10, expires_at)
    return access_token.mint(claims, {"role": "reader"}, KEY)


def _verify(token: str, key: VerificationKey | None, now: int = NOW) -> VerifiedAccessToken | Rejected:
    return access_token.verify(token, lambda kid: key if key is not None and kid == key.kid else None, now)


def test_a_repeated_token_is_rsa_checked_once_and_answered_on_fresh_objects() -> None:
    key, counter = _counting()
    token = _token()
    first, second = _verify(token, key), _verify(token, key)
    assert isinstance(first, VerifiedAccessToken) and isinstance(second, VerifiedAccessToken)
    assert counter.checks == 1
    assert first == second and first.payload is not second.payload  # a caller's changes never reach the next


def test_a_remembered_signature_does_not_cover_another_payload() -> None:
    key, counter = _counting()
    token = _token()
    assert isinstance(_verify(token, key), VerifiedAccessToken)
    header, payload, signature = token.split(".")
    altered = json_object(b64url_decode(payload)) | {"sub": "admin"}
    forged = f"{header}.{b64url_encode(compact_json(altered))}.{signature}"
    assert _verify(forged, key) == Rejected("invalid signature")
    assert counter.checks == 2  # checked, not taken from the memo


def test_a_remembered_token_is_checked_again_under_another_key_record() -> None:
    key, _ = _counting()
    token = _token()
    assert isinstance(_verify(token, key), VerifiedAccessToken)
    other_key, other_counter = _counting(OTHER)  # the same kid, reloaded with a different key pair
    assert _verify(token, other_key) == Rejected("invalid signature")
    assert other_counter.checks == 1
    reloaded, reloaded_counter = _counting()  # the same key pair as a new record: checked once more, accepted
    assert isinstance(_verify(token, reloaded), VerifiedAccessToken) and reloaded_counter.checks == 1


def test_a_remembered_token_whose_key_is_gone_or_that_expired_is_refused() -> None:
    key, _ = _counting()
    token = _token(expires_at=NOW + 60)
    assert isinstance(_verify(token, key), VerifiedAccessToken)
    assert _verify(token, None) == Rejected("unknown signing key", unknown_kid=True)
    assert _verify(token, key, now=NOW + 60) == Rejected("token expired", expired=True)


def test_refused_tokens_never_enter_the_memo_and_it_stays_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(access_token, "MAX_CHECKED_SIGNATURES", 8)
    key, counter = _counting()
    other_key, _ = _counting(OTHER)
    for i in range(5):
        assert isinstance(_verify(_token(f"u{i}"), other_key), Rejected)
    assert len(access_token._CHECKED) == 0
    tokens = [_token(f"u{i}") for i in range(20)]
    for token in tokens:
        assert isinstance(_verify(token, key), VerifiedAccessToken)
    assert len(access_token._CHECKED) == 8
    checks = counter.checks
    assert isinstance(_verify(tokens[-1], key), VerifiedAccessToken) and counter.checks == checks  # newest kept
    assert isinstance(_verify(tokens[0], key), VerifiedAccessToken) and counter.checks == checks + 1  # oldest out


@settings(max_examples=200, deadline=None)
@given(position=st.integers(min_value=0), replacement=st.characters(codec="ascii"))
def test_no_one_character_change_to_a_remembered_token_is_accepted(position: int, replacement: str) -> None:
    key, _ = _counting()
    token = _token()
    assert isinstance(_verify(token, key), VerifiedAccessToken)
    index = position % len(token)
    mutated = token[:index] + replacement + token[index + 1 :]
    if mutated == token:
        return
    assert isinstance(_verify(mutated, key), Rejected)
