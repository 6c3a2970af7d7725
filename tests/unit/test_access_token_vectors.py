"""Access-token verification against the vectors in ``vectors/access_tokens.json``: every header, claim, key,
signature and time rule of ``gatepass.tokens.access_token``, each with the reason a caller sees."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from gatepass.tokens import access_token
from gatepass.tokens.access_token import Rejected, SessionClaims, VerifiedAccessToken
from gatepass.tokens.encoding import b64url_decode, b64url_encode, compact_json, json_object
from gatepass.tokens.keys import SigningKey, generate_rsa_key, make_signing_key, verification_keys_from_jwks

DATA = json.loads((Path(__file__).parent / "vectors" / "access_tokens.json").read_text())
NOW: int = DATA["now"]
KEY = make_signing_key("d-1", "dynamic", 0, generate_rsa_key())
OTHER = make_signing_key("d-1", "dynamic", 0, generate_rsa_key())  # same kid, different key pair
CLAIMS = SessionClaims("user-1", "handle-1", "public", "rth1", None, None, NOW - 10, NOW + 3600)
MINTED = access_token.mint(CLAIMS, {"role": "reader"}, KEY)
GENERATED = {*json_object(b64url_decode(MINTED.split(".")[1])), "stt"} - {"role"}
VECTORS = [pytest.param(vector, id=vector["name"]) for vector in DATA["vectors"]]
STRUCTURAL = [
    pytest.param(vector, id=vector["name"])
    for vector in DATA["vectors"]
    if vector.get("accept") or vector["stage"] == "structure"
]


def _segment(token: str, index: int) -> dict[str, Any]:
    return json_object(b64url_decode(token.split(".")[index]))


def _token(vector: dict[str, Any]) -> str:
    header = {**_segment(MINTED, 0), **vector.get("header", {})}
    payload = {**_segment(MINTED, 1), **vector.get("payload", {})}
    for name in vector.get("drop_header", []):
        del header[name]
    for name in vector.get("drop_payload", []):
        del payload[name]
    signer: SigningKey = OTHER if vector.get("signer") == "other" else KEY
    signing_input = b64url_encode(compact_json(header)) + "." + b64url_encode(compact_json(payload))
    return signing_input + "." + b64url_encode(signer.sign(signing_input.encode("ascii")))


def _find_key(kid: str) -> SigningKey | None:
    return KEY if kid == KEY.kid else None


def test_the_vectors_start_from_what_mint_writes() -> None:
    header, payload = _segment(MINTED, 0), _segment(MINTED, 1)
    assert header == {"alg": "RS256", "typ": "JWT", "kid": "d-1", "version": "5"}
    assert payload == {
        "role": "reader",
        "sub": "user-1",
        "exp": NOW + 3600,
        "iat": NOW - 10,
        "tId": "public",
        "rsub": "user-1",
        "sessionHandle": "handle-1",
        "refreshTokenHash1": "rth1",
        "parentRefreshTokenHash1": None,
        "antiCsrfToken": None,
    }
    assert _token({}) == MINTED  # RSASSA-PKCS1-v1_5 is deterministic: re-signing changes nothing


@pytest.mark.parametrize("vector", VECTORS)
def test_vector(vector: dict[str, Any]) -> None:
    token = _token(vector)
    result = access_token.verify(token, _find_key, NOW, **vector.get("options", {}))
    if vector.get("accept"):
        assert isinstance(result, VerifiedAccessToken), result
        payload = _segment(token, 1)
        assert result.payload == payload and result.kid == "d-1"
        custom = {name: value for name, value in vector.get("payload", {}).items() if name not in GENERATED}
        assert result.custom_claims == {"role": "reader", **custom}  # nbf, for one, is checked but not protected
        assert result.claims == SessionClaims(
            user_id=payload["sub"],
            session_handle=payload["sessionHandle"],
            tenant_id=payload["tId"],
            refresh_token_hash1=payload["refreshTokenHash1"],
            parent_refresh_token_hash1=payload["parentRefreshTokenHash1"],
            anti_csrf_token=payload["antiCsrfToken"],
            issued_at=payload["iat"],
            expires_at=payload["exp"],
        )
    else:
        expected = Rejected(vector["reason"], vector.get("unknown_kid", False), vector.get("expired", False))
        assert result == expected


@pytest.mark.parametrize("vector", STRUCTURAL)
def test_structure_problem_finds_the_structural_vectors_without_a_key(vector: dict[str, Any]) -> None:
    parsed = access_token.parse(_token(vector))
    assert isinstance(parsed, access_token.ParsedToken)
    assert access_token.structure_problem(parsed) == vector.get("reason")


def test_a_parsed_token_verifies_like_the_raw_one() -> None:
    parsed = access_token.parse(MINTED)
    assert isinstance(parsed, access_token.ParsedToken)
    assert access_token.verify(parsed, _find_key, NOW) == access_token.verify(MINTED, _find_key, NOW)


def test_a_key_from_the_jwks_verifies_what_the_signing_key_minted() -> None:
    keys = verification_keys_from_jwks({"keys": [KEY.public_jwk()]})
    result = access_token.verify(MINTED, keys.get, NOW)
    assert isinstance(result, VerifiedAccessToken) and result.claims == CLAIMS


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        ("x" * (access_token.MAX_TOKEN_BYTES + 1), "token too large"),
        ("a.b", "not a JWS in compact form"),
        ("a.b.c.d", "not a JWS in compact form"),
        ("a.b.c", "malformed token: not canonical base64url"),
        (b64url_encode(b"[]") + ".e30.", "malformed token: not a JSON object"),
    ],
)
def test_parse_rejects_what_is_not_a_compact_jws(token: str, reason: str) -> None:
    assert access_token.parse(token) == Rejected(reason)
    assert access_token.verify(token, _find_key, NOW) == Rejected(reason)


def test_protected_and_custom_claims() -> None:
    assert access_token.generated_claims_in({"sub": 1, "role": 2, "exp": 3}) == ["exp", "sub"]
    assert access_token.generated_claims_in({"role": 2, "stt": 1}) == []  # upstream's core takes stt
    assert access_token.custom_claims_of({"sub": "u", "stt": 0, "role": "r", "nbf": 1}) == {"role": "r", "nbf": 1}


def test_minted_claims_override_custom_ones_of_the_same_name() -> None:
    # Callers must reject protected names in custom claims; if one slips through, the generated claim wins.
    token = access_token.mint(CLAIMS, {"sub": "someone-else", "exp": 1}, KEY)
    result = access_token.verify(token, _find_key, NOW)
    assert isinstance(result, VerifiedAccessToken) and result.claims == CLAIMS
