"""Opaque refresh tokens: an AES-256-GCM envelope only the core can open.

Format: ``gp1.<base64url(iv[12] || ciphertext || tag[16])>``. The plaintext is compact JSON carrying the session
handle, user id, tenant, the parent token's hash (the promotion algorithm needs it), the anti-CSRF value and a
256-bit random nonce, so each token has >= 128 bits of CSPRNG entropy. The app id is bound as associated data: a
token from one app never opens in another. The database keeps only ``H(H(token))``.

We do not reuse the upstream PBKDF2-per-token format: its 100 PBKDF2 iterations per encrypt and decrypt buy
nothing over a random 256-bit key (see the performance notes), and byte compatibility with the Java core only
matters for migrating live sessions between cores.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from gatepass.tokens.encoding import EncodingError, b64url_decode, b64url_encode, compact_json, json_object

PREFIX = "gp1."
MAX_TOKEN_BYTES = 4096
KEY_BYTES = 32


@dataclass(frozen=True)
class RefreshTokenContent:
    """What a refresh token carries, besides its random nonce."""

    session_handle: str
    user_id: str
    tenant_id: str
    parent_refresh_token_hash1: str | None
    anti_csrf_token: str | None = field(repr=False)  # a secret: never in a repr


def new_encryption_key() -> bytes:
    """A new random 256-bit key for sealing refresh tokens."""
    return os.urandom(KEY_BYTES)


def _aad(app_id: str) -> bytes:
    return b"gatepass refresh token|" + app_id.encode("utf-8")


def seal(
    content: RefreshTokenContent, key: bytes, app_id: str, random_bytes: Callable[[int], bytes] = os.urandom
) -> str:
    """The sealed token; ``random_bytes`` (a CSPRNG: injected only so tests can pin it) gives nonce and IV."""
    plaintext = compact_json(
        {
            "h": content.session_handle,
            "u": content.user_id,
            "t": content.tenant_id,
            "p": content.parent_refresh_token_hash1,
            "a": content.anti_csrf_token,
            "n": b64url_encode(random_bytes(32)),
        }
    )
    iv = random_bytes(12)
    return PREFIX + b64url_encode(iv + AESGCM(key).encrypt(iv, plaintext, _aad(app_id)))


def _optional_str(value: object) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise EncodingError("bad refresh token field")


def open_token(token: str, key: bytes, app_id: str) -> RefreshTokenContent | None:
    """Decrypt and check a refresh token; ``None`` for anything that is not one of ours."""
    if len(token) > MAX_TOKEN_BYTES or not token.startswith(PREFIX):
        return None
    try:
        raw = b64url_decode(token[len(PREFIX) :])
        if len(raw) < 12 + 16:
            return None
        plaintext = AESGCM(key).decrypt(raw[:12], raw[12:], _aad(app_id))
        data = json_object(plaintext)
        handle, user_id, tenant = data.get("h"), data.get("u"), data.get("t")
        if not (isinstance(handle, str) and isinstance(user_id, str) and isinstance(tenant, str)):
            return None
        return RefreshTokenContent(handle, user_id, tenant, _optional_str(data.get("p")), _optional_str(data.get("a")))
    except (EncodingError, InvalidTag):
        return None
    except Exception:  # a token is hostile input: whatever breaks while opening it is a rejection
        return None
