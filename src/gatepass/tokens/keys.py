"""RSA signing keys for access tokens, and their JWK form.

Keys are RSA-2048 used with RS256 only: the algorithm belongs to the key record and is never taken from a token
header (RFC 8725 §3.1). Dynamic keys have kid ``d-<created ms>`` and rotate; the static key has ``s-<uuid>``.
Stored form (as upstream): ``base64(SubjectPublicKeyInfo DER) | base64(PKCS#8 DER)``.
"""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from joserfc.jwk import RSAKey

ALGORITHM = "RS256"
KeyKind = Literal["dynamic", "static"]


@dataclass(frozen=True)
class VerificationKey:
    """A public key from a JWKS: what a verifier needs, and nothing that can sign."""

    kid: str
    public_key: rsa.RSAPublicKey = field(repr=False, compare=False)
    algorithm: str = ALGORITHM


def verification_keys_from_jwks(jwks: Any) -> dict[str, VerificationKey]:
    """Parse a JWKS document into usable keys; entries that are not RS256 RSA signing keys are skipped."""
    keys: dict[str, VerificationKey] = {}
    entries = jwks.get("keys") if isinstance(jwks, dict) else None
    if not isinstance(entries, list):
        raise ValueError("not a JWKS document")
    for entry in entries:
        if not isinstance(entry, dict) or entry.get("kty") != "RSA" or entry.get("alg") != ALGORITHM:
            continue
        if entry.get("use", "sig") != "sig" or not isinstance(entry.get("kid"), str):
            continue
        try:
            public = RSAKey.import_key(entry).public_key
        except Exception:  # a malformed entry must not hide the good ones
            continue
        if isinstance(public, rsa.RSAPublicKey):
            keys[entry["kid"]] = VerificationKey(entry["kid"], public)
    return keys


@dataclass(frozen=True)
class SigningKey:
    """A parsed key pair; parsing happens once per key, never per request."""

    kid: str
    kind: KeyKind
    created_at_ms: int
    private_key: rsa.RSAPrivateKey = field(repr=False, compare=False)
    public_key: rsa.RSAPublicKey = field(repr=False, compare=False)
    algorithm: str = ALGORITHM

    def sign(self, signing_input: bytes) -> bytes:
        """The RS256 (RSASSA-PKCS1-v1_5 with SHA-256) signature of a JWS signing input."""
        return self.private_key.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())

    def public_jwk(self) -> dict[str, Any]:
        """The JWKS entry: public parameters only (kty, kid, n, e, alg, use); a fresh dict each time."""
        return dict(self._public_jwk)

    @cached_property
    def _public_jwk(self) -> dict[str, Any]:  # made once per key: the JWK encoding costs more than serving a JWKS
        jwk = RSAKey.import_key(self.public_key).as_dict(private=False)
        return {
            "kty": "RSA",
            "kid": self.kid,
            "n": jwk["n"],
            "e": jwk["e"],
            "alg": self.algorithm,
            "use": "sig",
        }

    def serialise(self) -> str:
        """The stored form (see the module docstring); it holds the private key."""
        public_der = self.public_key.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        private_der = self.private_key.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        return base64.b64encode(public_der).decode() + "|" + base64.b64encode(private_der).decode()


def generate_rsa_key() -> rsa.RSAPrivateKey:
    """A new RSA-2048 private key (exponent 65537); slow, so callers generate before taking any lock."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def dynamic_kid(created_at_ms: int) -> str:
    """The kid of the dynamic key created at that time."""
    return f"d-{created_at_ms}"


def new_static_kid() -> str:
    """A fresh kid for a static key."""
    return f"s-{uuid.uuid4()}"


def load_signing_key(kid: str, kind: KeyKind, created_at_ms: int, stored: str) -> SigningKey:
    """Parse the stored form (``|`` separator, or upstream's legacy ``;``)."""
    separator = "|" if "|" in stored else ";"
    _, private_b64 = stored.split(separator, 1)
    private_key = serialization.load_der_private_key(base64.b64decode(private_b64), password=None)
    if not isinstance(private_key, rsa.RSAPrivateKey):
        raise ValueError("stored signing key is not an RSA key")
    return SigningKey(kid, kind, created_at_ms, private_key, private_key.public_key())


def make_signing_key(kid: str, kind: KeyKind, created_at_ms: int, private_key: rsa.RSAPrivateKey) -> SigningKey:
    """A signing key around a newly generated private key."""
    return SigningKey(kid, kind, created_at_ms, private_key, private_key.public_key())
