"""The memo of checked tokens (``access_token._CHECKED``): a repeated token is neither RSA-checked nor strictly parsed
again, yet the memo never accepts what the check would refuse: another signing input under a remembered signature,
a remembered token under another key record with the same kid, a token whose key is gone, an expired token. It is
bounded, and refused tokens never enter it. A remembered token parses exactly as a fresh parse does, and every call
gets fresh objects."""

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
from gatepass.tokens.jws import sign_compact
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


def _token(user: str = "user-1", expires_at: int = NOW + 3600, custom: dict[str, Any] | None = None) -> str:
    claims = SessionClaims(user, "handle-1", "public", "rth1", None, None, NOW - 10, expires_at)
    return access_token.mint(claims, {"role": "reader"} if custom is None else custom, KEY)


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


def test_a_flat_payload_is_fresh_on_every_call() -> None:
    key, _ = _counting()
    token = _token(custom={"role": "reader", "level": 3})
    first = _verify(token, key)
    assert isinstance(first, VerifiedAccessToken)
    first.payload["sub"] = "admin"
    first.payload["level"] = 99
    second = _verify(token, key)
    assert isinstance(second, VerifiedAccessToken)
    assert second.payload["sub"] == "user-1" and second.payload["level"] == 3 and second.claims.user_id == "user-1"


def test_nested_payload_values_are_fresh_on_every_call() -> None:
    key, _ = _counting()
    token = _token(custom={"roles": ["reader"], "profile": {"team": "a"}})
    first = _verify(token, key)
    assert isinstance(first, VerifiedAccessToken)
    first.payload["roles"].append("admin")  # a caller that edits what it was given
    first.custom_claims["profile"]["team"] = "b"
    second = _verify(token, key)
    assert isinstance(second, VerifiedAccessToken)
    assert second.payload["roles"] == ["reader"] and second.custom_claims["profile"] == {"team": "a"}


def test_a_token_with_a_good_signature_but_a_bad_shape_never_enters_the_memo() -> None:
    key, counter = _counting()
    claims = {"sub": "u", "exp": NOW + 60, "iat": NOW, "tId": "public", "rsub": "u", "sessionHandle": "h"}
    token = sign_compact(claims, KEY, version="5")  # signed by our key, but refreshTokenHash1 and the rest missing
    for _ in range(2):
        assert isinstance(_verify(token, key), Rejected)
    assert len(access_token._CHECKED) == 0
    assert access_token.parse_checked(token) == Rejected("claim refreshTokenHash1 missing or not a string")
    assert counter.checks == 2


def test_the_core_path_without_parse_checked_remembers_too() -> None:
    key, counter = _counting()
    token = _token()
    for _ in range(3):
        assert isinstance(_verify(token, key), VerifiedAccessToken)  # verify(text): parse, then every check
    assert counter.checks == 1
    parsed = access_token.parse(token)
    assert not isinstance(parsed, Rejected) and parsed.structure_checked and parsed.checked_by is key


json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(st.characters(exclude_categories=["Cs"]), max_size=12),
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.text(st.characters(exclude_categories=["Cs"]), max_size=6), inner, max_size=4),
    ),
    max_leaves=12,
)
custom_claims = st.dictionaries(
    st.text(st.characters(exclude_categories=["Cs"]), min_size=1, max_size=8).filter(
        lambda name: name not in access_token.PROTECTED_CLAIMS and name != "nbf"  # a time claim, checked as one
    ),
    json_values,
    max_size=5,
)


@settings(max_examples=150, deadline=None)
@given(custom=custom_claims)
def test_a_remembered_token_parses_exactly_as_a_fresh_parse(custom: dict[str, Any]) -> None:
    key, _ = _counting()
    token = _token(custom=custom)
    access_token._CHECKED.clear()
    fresh = access_token.parse_checked(token)
    assert isinstance(_verify(token, key), VerifiedAccessToken)
    remembered = access_token.parse_checked(token)
    assert not isinstance(fresh, Rejected) and not isinstance(remembered, Rejected)
    assert remembered.checked_by is key and fresh.checked_by is None
    assert remembered == fresh  # header, payload, signing input and signature
    assert remembered.payload is not fresh.payload and remembered.header is not fresh.header


def _signed(payload_text: str) -> str:
    """A token whose payload segment is ``payload_text`` as given, signed by our key (what only the key holder
    could make): the memo must still refuse whatever the strict parse refuses."""
    header = b64url_encode(compact_json({"alg": "RS256", "typ": "JWT", "kid": KEY.kid, "version": "5"}))
    signing_input = header + "." + b64url_encode(payload_text.encode("utf-8", "surrogatepass"))
    return signing_input + "." + b64url_encode(KEY.sign(signing_input.encode("ascii")))


CLAIMS = (
    f'{{"sub":"u","exp":{NOW + 60},"iat":{NOW},"tId":"public","rsub":"u","sessionHandle":"h",'
    '"refreshTokenHash1":"r","parentRefreshTokenHash1":null,"antiCsrfToken":null,'
)
HOSTILE_PAYLOADS = {
    "5,000-digit number": CLAIMS + '"n":' + "9" * 5000 + "}",
    "1e309": CLAIMS + '"n":1e309}',
    "lone surrogate": CLAIMS + '"n":"\\ud800"}',
    "raw lone surrogate": CLAIMS + '"n":"\ud800"}',
    "deep nesting": CLAIMS + '"n":' + "[" * 200 + "]" * 200 + "}",
    "duplicate member": CLAIMS + '"sub":"admin"}',
}


@pytest.mark.parametrize("name", sorted(HOSTILE_PAYLOADS))
def test_hostile_payloads_signed_by_our_key_are_refused_and_never_remembered(name: str) -> None:
    key, _ = _counting()
    control = _signed(CLAIMS + '"n":1}')  # the same making, a sound payload: accepted and remembered
    assert isinstance(_verify(control, key), VerifiedAccessToken) and list(access_token._CHECKED) == [control]
    access_token._CHECKED.clear()
    token = _signed(HOSTILE_PAYLOADS[name])
    for _ in range(2):
        assert isinstance(_verify(token, key), Rejected)
    assert len(access_token._CHECKED) == 0


def test_a_remembered_token_with_a_nul_byte_or_a_lone_surrogate_added_is_refused() -> None:
    key, _ = _counting()
    token = _token()
    assert isinstance(_verify(token, key), VerifiedAccessToken)
    for altered in (token + "\x00", "\x00" + token, token.replace(".", ".\x00", 1), token + "\ud800"):
        assert isinstance(_verify(altered, key), Rejected)
    assert list(access_token._CHECKED) == [token]


def test_an_oversized_text_is_refused_before_the_memo() -> None:
    key, counter = _counting()
    huge = "a" * 1_000_000
    assert access_token.parse(huge) == Rejected("token too large")
    assert isinstance(_verify(huge, key), Rejected) and counter.checks == 0 and len(access_token._CHECKED) == 0
