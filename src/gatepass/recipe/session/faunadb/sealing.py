"""The Fauna secret inside the access token, sealed, for backend-only mode.

With ``access_faunadb_token_from_frontend=False`` the browser must never see the Fauna secret, yet the session's
token should travel with the session: then a refresh needs no extra core call to store it and
``get_faunadb_token()`` needs none to read it. So the payload carries it sealed (AES-256-GCM, the session handle
as associated data) under a key derived with HKDF-SHA256 from the Fauna server key the integration already holds
(or a key of your own, ``faunadb_token_seal_key``): every backend process opens it, the browser cannot, and a
sealed secret copied into another session does not open.
"""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from gatepass.tokens.encoding import EncodingError, b64url_decode, b64url_encode

INFO = b"gatepass faunadb token seal v1"
NONCE_BYTES = 12
MAX_SEALED_CHARS = 6144  # a Fauna secret is ~50 characters, a Fauna JWT ~1 KB; more is not ours


class TokenSeal:
    """Seals and opens Fauna secrets for one app (the key never leaves this object, nor its repr)."""

    def __init__(self, key_material: bytes) -> None:
        if not key_material:
            raise ValueError("the seal needs key material")
        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=INFO).derive(key_material)
        self._aead = AESGCM(key)

    def __repr__(self) -> str:
        return "TokenSeal(<key>)"

    def seal(self, secret: str, session_handle: str) -> str:
        """The secret, sealed to this session."""
        nonce = os.urandom(NONCE_BYTES)
        return b64url_encode(nonce + self._aead.encrypt(nonce, secret.encode("utf-8"), session_handle.encode()))

    def open(self, sealed: object, session_handle: str) -> str | None:
        """The secret, or ``None`` if ``sealed`` is absent, malformed, of another key or of another session."""
        if not isinstance(sealed, str) or len(sealed) > MAX_SEALED_CHARS:
            return None
        try:
            raw = b64url_decode(sealed)
            if len(raw) <= NONCE_BYTES:
                return None
            plain = self._aead.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], session_handle.encode())
            return plain.decode("utf-8")
        except (EncodingError, InvalidTag, UnicodeDecodeError):
            return None
