"""Refresh-token envelopes against the fixed vectors in ``vectors/refresh_tokens.json`` (tokens sealed by earlier
releases keep opening; what is not one of ours opens to nothing), and the round trip of ``seal``/``open_token``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from gatepass.tokens import refresh_token
from gatepass.tokens.encoding import b64url_decode
from gatepass.tokens.refresh_token import RefreshTokenContent, open_token, seal

DATA = json.loads((Path(__file__).parent / "vectors" / "refresh_tokens.json").read_text())
KEY = bytes.fromhex(DATA["key_hex"])
APP: str = DATA["app_id"]


def _ids(name: str) -> list[Any]:
    return [pytest.param(vector, id=vector["name"]) for vector in DATA[name]]


def _plaintext(token: str, app_id: str) -> str:
    raw = b64url_decode(token.removeprefix(refresh_token.PREFIX))
    aad = (DATA["aad_prefix"] + app_id).encode("utf-8")
    return AESGCM(KEY).decrypt(raw[:12], raw[12:], aad).decode("utf-8")


@pytest.mark.parametrize("vector", _ids("opens"))
def test_tokens_sealed_by_earlier_releases_open(vector: dict[str, Any]) -> None:
    assert _plaintext(vector["token"], APP) == vector["plaintext"]
    assert open_token(vector["token"], KEY, APP) == RefreshTokenContent(**vector["content"])


@pytest.mark.parametrize("vector", _ids("rejects"))
def test_envelopes_that_hold_no_refresh_token_open_to_nothing(vector: dict[str, Any]) -> None:
    assert _plaintext(vector["token"], vector["sealed_for"]) == vector["plaintext"]  # the vector is what it says
    assert open_token(vector["token"], KEY, APP) is None


@pytest.mark.parametrize("vector", _ids("malformed"))
def test_what_is_not_an_envelope_opens_to_nothing(vector: dict[str, Any]) -> None:
    assert open_token(vector["token"], KEY, APP) is None


def test_another_key_opens_nothing() -> None:
    token = DATA["opens"][0]["token"]
    assert open_token(token, bytes(32), APP) is None
    assert open_token(token, KEY, APP) is not None


@pytest.mark.parametrize("parent", [None, "prth1"])
@pytest.mark.parametrize("anti_csrf", [None, "csrf"])
def test_seal_then_open(parent: str | None, anti_csrf: str | None) -> None:
    key = refresh_token.new_encryption_key()
    content = RefreshTokenContent("handle-é", "user-1", "tenant-1", parent, anti_csrf)
    token = seal(content, key, "app-1")
    assert token.startswith("gp1.") and len(token) <= refresh_token.MAX_TOKEN_BYTES
    assert open_token(token, key, "app-1") == content
    assert open_token(token, key, "app-2") is None  # the app id is bound as associated data


def test_each_seal_is_a_new_token_with_a_fresh_nonce() -> None:
    content = RefreshTokenContent("h", "u", "t", None, None)
    first, second = seal(content, KEY, APP), seal(content, KEY, APP)
    assert first != second
    nonces = {json.loads(_plaintext(token, APP))["n"] for token in (first, second)}
    assert len(nonces) == 2 and all(len(b64url_decode(nonce)) == 32 for nonce in nonces)


def test_new_keys_are_random_256_bit_keys() -> None:
    keys = {refresh_token.new_encryption_key() for _ in range(4)}
    assert len(keys) == 4 and {len(key) for key in keys} == {refresh_token.KEY_BYTES} == {32}


def test_the_anti_csrf_token_stays_out_of_the_repr() -> None:
    assert "csrf-secret" not in repr(RefreshTokenContent("h", "u", "t", None, "csrf-secret"))
