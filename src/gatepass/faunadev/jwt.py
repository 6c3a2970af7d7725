"""JSON Web Tokens from an access provider, taken apart and checked: pure functions of the token, a key and ``now``.

Fauna's rules (``fauna/faunadb``: ``ext/net/.../security/JWT.scala``, ``JWKProvider.scala`` ``JWTValidator``,
``ext/model/.../auth/JWTToken.scala``, ``AuthLike.isJWT``): a bearer secret that starts with ``ey`` and holds a
``.`` is a JWT; it has three dot-separated base64url parts, a JSON header and a JSON payload; ``HS256/384/512`` are
refused; ``now >= exp`` and ``now <= nbf`` are refused (seconds, no leeway; both claims optional); of the ``aud``
values (a string or an array of strings) exactly one must start with ``https://db.fauna.com/db/``, followed by the
database's global id in z-base-32; the signature is RSASSA-PKCS1-v1_5 with SHA-256, -384 or -512 (``RS256``,
``RS384``, ``RS512``) over ``header.payload``. Every refusal is the same ``401 unauthorized`` to the caller.

Stricter than Fauna, because every byte is hostile: at most ``MAX_JWT_CHARS``; base64url without padding; JSON
read by ``gatepass.untrusted`` (no duplicate names, bounded depth); ``exp``/``nbf`` must be integers when present
(Fauna ignores a claim of another type); a ``crit`` header is refused (RFC 7515 §4.1.11); claims must fit FQL's
64-bit integers; the key decides the algorithm (an RSA key, and its ``alg`` when the JWKS names one).
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass, field
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from gatepass.faunadev.limits import wire_problem
from gatepass.untrusted import MalformedInput, parse_json

MAX_JWT_CHARS = 8 * 1024  # Fauna's HTTP server refuses request headers past 8 KiB (``HttpServer.MaxHeaderSize``)
MAX_CLAIMS_DEPTH = 32
AUDIENCE_PREFIX = "https://db.fauna.com/db/"
REFUSED_ALGORITHMS = ("HS256", "HS384", "HS512")
RSA_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "RS256": hashes.SHA256,
    "RS384": hashes.SHA384,
    "RS512": hashes.SHA512,
}
_B64URL = re.compile(r"[A-Za-z0-9_-]*")
ZBASE32 = "ybndrfg8ejkmcpqxot1uwisza345h769"


@dataclass(frozen=True)
class Jwt:
    """A JWT taken apart: header, claims, the signed bytes and the signature (only the header in a repr: claims may
    carry secrets, as gatepass's own access tokens carry the anti-CSRF token)."""

    header: dict[str, Any]
    claims: dict[str, Any] = field(repr=False)
    signing_input: bytes = field(repr=False)
    signature: bytes = field(repr=False)

    @property
    def algorithm(self) -> str:
        """The ``alg`` the token claims (a string, checked by ``parse_jwt``)."""
        return str(self.header["alg"])

    @property
    def kid(self) -> str | None:
        """The ``kid`` of the key the token names, if any."""
        kid = self.header.get("kid")
        return kid if isinstance(kid, str) else None

    @property
    def issuer(self) -> str | None:
        """The ``iss`` claim, if it is a string."""
        issuer = self.claims.get("iss")
        return issuer if isinstance(issuer, str) else None


@dataclass(frozen=True)
class RsaKey:
    """One verification key of a JWKS: its ``kid``, the ``alg`` it is for (if the JWKS says) and the RSA key."""

    kid: str | None
    alg: str | None
    public_key: rsa.RSAPublicKey = field(repr=False)


def looks_like_jwt(secret: str) -> bool:
    """Fauna's test (``AuthLike.isJWT``): a secret starting with ``ey`` that holds a dot is a JWT, not a key."""
    return secret.startswith("ey") and "." in secret


def _b64decode(part: str) -> bytes | None:
    if not _B64URL.fullmatch(part) or len(part) % 4 == 1:
        return None
    try:
        return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
    except (binascii.Error, ValueError):
        return None


def _json_object(raw: bytes) -> dict[str, Any] | None:
    try:
        value = parse_json(raw, max_depth=MAX_CLAIMS_DEPTH)
    except MalformedInput:
        return None
    return value if isinstance(value, dict) and wire_problem(value) is None else None


def parse_jwt(token: str) -> Jwt | None:
    """The token taken apart, or None for anything that is not a well-formed compact JWS."""
    if len(token) > MAX_JWT_CHARS or not token.isascii():
        return None
    parts = token.split(".")
    if len(parts) != 3:
        return None
    decoded = [_b64decode(part) for part in parts]
    if any(d is None for d in decoded):
        return None
    raw_header, raw_claims, signature = (d or b"" for d in decoded)
    header, claims = _json_object(raw_header), _json_object(raw_claims)
    if header is None or claims is None or not isinstance(header.get("alg"), str) or "crit" in header:
        return None
    kid = header.get("kid")
    if kid is not None and not isinstance(kid, str):
        return None
    return Jwt(header, claims, f"{parts[0]}.{parts[1]}".encode("ascii"), signature)


def _integer_claim(claims: dict[str, Any], name: str) -> tuple[bool, int | None]:
    value = claims.get(name)
    if value is None:
        return True, None
    if isinstance(value, bool) or not isinstance(value, int):
        return False, None
    return True, value


def time_problem(jwt: Jwt, now_s: int) -> str | None:
    """Why Fauna's basic validations refuse the token at ``now_s`` (seconds), or None."""
    if jwt.algorithm in REFUSED_ALGORITHMS:
        return "HMAC algorithms are refused"
    ok_exp, exp = _integer_claim(jwt.claims, "exp")
    ok_nbf, nbf = _integer_claim(jwt.claims, "nbf")
    if not (ok_exp and ok_nbf):
        return "exp and nbf must be integers"
    if exp is not None and now_s >= exp:
        return "expired"
    if nbf is not None and now_s <= nbf:
        return "not yet valid"
    return None


def audience_global_id(claims: dict[str, Any]) -> str | None:
    """The database global id the ``aud`` claim names: exactly one of its values starts with Fauna's prefix."""
    aud = claims.get("aud")
    values = aud if isinstance(aud, list) else [aud] if isinstance(aud, str) else []
    if not all(isinstance(v, str) for v in values):
        return None
    ours = [v[len(AUDIENCE_PREFIX) :] for v in values if v.startswith(AUDIENCE_PREFIX)]
    return ours[0] if len(ours) == 1 else None


def verify(jwt: Jwt, key: RsaKey) -> bool:
    """Whether the key's RSA signature over ``header.payload`` checks out, with the algorithm the key allows."""
    if key.alg is not None and key.alg != jwt.algorithm:
        return False
    hash_type = RSA_HASHES.get(jwt.algorithm)
    if hash_type is None:
        return False
    try:
        key.public_key.verify(jwt.signature, jwt.signing_input, padding.PKCS1v15(), hash_type())
    except (InvalidSignature, ValueError):
        return False
    return True


def zbase32_long(value: int) -> str:
    """A 64-bit id in Fauna's z-base-32 (``ZBase32.encodeLong``): 13 characters, high bits first, one padding bit."""
    bits = (value & (2**64 - 1)) << 1
    return "".join(ZBASE32[(bits >> (5 * (12 - i))) & 0x1F] for i in range(13))


def audience_for(global_id: int) -> str:
    """The ``audience`` of an access provider in the database with this global id (``JWTToken.canonicalDBUrl``)."""
    return AUDIENCE_PREFIX + zbase32_long(global_id)
