"""Key and token secrets in Fauna's layout, and password hashes. Only hashes are ever stored (checklist 40).

Key secret: url-safe base64 (no padding) of ``7E 70 | id (8 bytes) | 20 random bytes`` -> ``fnA...``; a token's is
``7E 71 | id | scope (8 bytes) | 20 random bytes`` -> ``fnE...``. The stored hash is SHA-256 of the random part
(the secret has 160 random bits, so a slow hash adds nothing); passwords use PBKDF2-SHA256 with a salt.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
from dataclasses import dataclass, field
from typing import Literal

KEY_TAG = b"\x7e\x70"
TOKEN_TAG = b"\x7e\x71"
PASSWORD_ITERATIONS = 60_000


@dataclass(frozen=True)
class ParsedSecret:
    """A key or token secret taken apart: kind, record id, and the random part (never in a repr)."""

    kind: Literal["key", "token"]
    id: int
    random: bytes = field(repr=False)  # the secret part: never in a repr


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def new_secret(kind: Literal["key", "token"], record_id: int) -> tuple[str, str]:
    """A fresh secret for a key or token with this id, and the hash to store."""
    random = os.urandom(20)
    layout = (KEY_TAG if kind == "key" else TOKEN_TAG) + record_id.to_bytes(8, "big")
    if kind == "token":
        layout += (0).to_bytes(8, "big")
    return _b64(layout + random), hash_random(random)


def hash_random(random: bytes) -> str:
    """The stored hash of a secret's random part."""
    return hashlib.sha256(random).hexdigest()


def parse_secret(secret: str) -> ParsedSecret | None:
    """A secret in Fauna's key or token layout taken apart, or None for anything else."""
    try:
        raw = base64.urlsafe_b64decode(secret + "=" * (-len(secret) % 4))
    except (binascii.Error, ValueError):
        return None
    if raw[:2] == KEY_TAG and len(raw) == 30:
        return ParsedSecret("key", int.from_bytes(raw[2:10], "big"), raw[10:])
    if raw[:2] == TOKEN_TAG and len(raw) == 38:
        return ParsedSecret("token", int.from_bytes(raw[2:10], "big"), raw[18:])
    return None


def secret_matches(parsed: ParsedSecret, stored_hash: str) -> bool:
    """Whether a parsed secret's random part hashes to the stored hash (compared in constant time)."""
    return hmac.compare_digest(hash_random(parsed.random), stored_hash)


def hash_password(password: str) -> str:
    """A salted PBKDF2-SHA256 hash of a password, as stored."""
    salt = os.urandom(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, PASSWORD_ITERATIONS)
    return f"pbkdf2-sha256${PASSWORD_ITERATIONS}${salt.hex()}${digest.hex()}"


def password_matches(password: str, stored: str) -> bool:
    """Whether a password matches a stored hash (a malformed hash matches nothing)."""
    try:
        _, iterations, salt, digest = stored.split("$")
        candidate = hashlib.pbkdf2_hmac("sha256", password.encode(), bytes.fromhex(salt), int(iterations))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(candidate.hex(), digest)


def root_matches(candidate: str, root_hash: str) -> bool:
    """Whether a secret is the admin secret whose SHA-256 is ``root_hash`` (compared in constant time)."""
    return hmac.compare_digest(hashlib.sha256(candidate.encode()).hexdigest(), root_hash)
