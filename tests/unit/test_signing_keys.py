"""Signing keys and JWKS documents (``gatepass.tokens.keys``): the stored form round-trips, a JWKS yields only
RS256 signing keys, and a bad entry never hides the good ones."""

from __future__ import annotations

import base64
import re
import uuid
from typing import Any

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding

from gatepass.tokens.keys import (
    ALGORITHM,
    SigningKey,
    VerificationKey,
    dynamic_kid,
    generate_rsa_key,
    load_signing_key,
    make_signing_key,
    new_static_kid,
    verification_keys_from_jwks,
)

KEY = make_signing_key("d-1000", "dynamic", 1000, generate_rsa_key())
OTHER = make_signing_key("d-2000", "dynamic", 2000, generate_rsa_key())


def _same_public_key(a: SigningKey | VerificationKey, b: SigningKey | VerificationKey) -> bool:
    return a.public_key.public_numbers() == b.public_key.public_numbers()


def test_public_jwk_has_public_parameters_only() -> None:
    jwk = KEY.public_jwk()
    assert set(jwk) == {"kty", "kid", "n", "e", "alg", "use"}
    assert (jwk["kty"], jwk["kid"], jwk["alg"], jwk["use"], jwk["e"]) == ("RSA", "d-1000", "RS256", "sig", "AQAB")
    assert int.from_bytes(base64.urlsafe_b64decode(jwk["n"] + "==")) == KEY.public_key.public_numbers().n


def test_public_jwk_is_made_once_and_handed_out_as_a_fresh_dict() -> None:
    first = KEY.public_jwk()
    first["kid"], first["n"] = "tampered", "AAAA"  # what a caller does to its copy stays in its copy
    again = KEY.public_jwk()
    assert again["kid"] == "d-1000" and again == {**first, "kid": "d-1000", "n": again["n"]}
    assert int.from_bytes(base64.urlsafe_b64decode(again["n"] + "==")) == KEY.public_key.public_numbers().n
    assert again is not KEY.public_jwk()


def test_jwks_round_trip() -> None:
    keys = verification_keys_from_jwks({"keys": [KEY.public_jwk(), OTHER.public_jwk()]})
    assert sorted(keys) == ["d-1000", "d-2000"]
    assert keys["d-1000"].kid == "d-1000" and keys["d-1000"].algorithm == ALGORITHM
    assert _same_public_key(keys["d-1000"], KEY) and _same_public_key(keys["d-2000"], OTHER)


@pytest.mark.parametrize("document", [None, [], "keys", {}, {"keys": {}}, {"keys": "x"}, {"key": []}])
def test_what_is_not_a_jwks_document_is_an_error(document: Any) -> None:
    with pytest.raises(ValueError, match="not a JWKS document"):
        verification_keys_from_jwks(document)


def _with(**changes: Any) -> dict[str, Any]:
    entry = {**OTHER.public_jwk(), **changes}
    return {name: value for name, value in entry.items() if value is not None}


@pytest.mark.parametrize(
    "entry",
    [
        pytest.param("not an object", id="a string"),
        pytest.param(["RSA"], id="a list"),
        pytest.param(_with(kty="EC"), id="kty EC"),
        pytest.param(_with(kty=None), id="no kty"),
        pytest.param(_with(alg="RS512"), id="alg RS512"),
        pytest.param(_with(alg="none"), id="alg none"),
        pytest.param(_with(alg=None), id="no alg"),
        pytest.param(_with(use="enc"), id="use enc"),
        pytest.param(_with(kid=None), id="no kid"),
        pytest.param(_with(kid=7), id="kid a number"),
        pytest.param(_with(n=None), id="no modulus"),
        pytest.param(_with(n="!!!"), id="modulus not base64url"),
        pytest.param(_with(n="AQAB"), id="modulus too small"),
    ],
)
def test_entries_that_are_not_rs256_signing_keys_are_skipped(entry: Any) -> None:
    keys = verification_keys_from_jwks({"keys": [entry, KEY.public_jwk()]})
    assert list(keys) == ["d-1000"] and _same_public_key(keys["d-1000"], KEY)


def test_an_entry_without_use_is_a_signing_key() -> None:
    keys = verification_keys_from_jwks({"keys": [_with(use=None)]})
    assert list(keys) == ["d-2000"] and _same_public_key(keys["d-2000"], OTHER)


def test_stored_form_round_trips() -> None:
    stored = KEY.serialise()
    public_b64, private_b64 = stored.split("|")
    assert base64.b64decode(public_b64) == KEY.public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    loaded = load_signing_key("d-1000", "dynamic", 1000, stored)
    assert loaded == KEY  # kid, kind, creation time and algorithm; the key objects are compared below
    assert _same_public_key(loaded, KEY)
    assert loaded.private_key.private_numbers() == KEY.private_key.private_numbers()
    assert base64.b64decode(private_b64) == loaded.private_key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def test_upstream_legacy_separator_loads() -> None:
    legacy = KEY.serialise().replace("|", ";")
    loaded = load_signing_key("s-x", "static", 5, legacy)
    assert (loaded.kid, loaded.kind, loaded.created_at_ms) == ("s-x", "static", 5)
    assert loaded.private_key.private_numbers() == KEY.private_key.private_numbers()


def test_a_stored_key_that_is_not_rsa_is_refused() -> None:
    private = ec.generate_private_key(ec.SECP256R1())
    der = private.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    with pytest.raises(ValueError, match="not an RSA key"):
        load_signing_key("d-1", "dynamic", 1, "unused|" + base64.b64encode(der).decode())


def test_signatures_verify_with_the_public_key_only() -> None:
    signature = KEY.sign(b"header.payload")
    keys = verification_keys_from_jwks({"keys": [KEY.public_jwk()]})
    keys["d-1000"].public_key.verify(signature, b"header.payload", padding.PKCS1v15(), hashes.SHA256())
    with pytest.raises(InvalidSignature):
        keys["d-1000"].public_key.verify(signature, b"header.payload2", padding.PKCS1v15(), hashes.SHA256())


def test_kids() -> None:
    assert dynamic_kid(1712345678901) == "d-1712345678901"
    kid = new_static_kid()
    assert re.fullmatch(r"s-[0-9a-f-]{36}", kid) and uuid.UUID(kid[2:]).version == 4
    assert new_static_kid() != kid


def test_reprs_hold_no_key_material() -> None:
    text = repr(KEY) + repr(verification_keys_from_jwks({"keys": [KEY.public_jwk()]}))
    assert "private_key" not in text and "public_key" not in text
    assert str(KEY.public_key.public_numbers().n)[:20] not in text
