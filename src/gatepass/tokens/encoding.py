"""Strict encodings shared by every token format.

Rules (RFC 7515 §2, RFC 8725 §3.3 and §3.7): base64url without padding, canonical only (no ``=``, ``+``, ``/``,
whitespace or non-zero trailing bits), so that a token has exactly one spelling; JSON objects under the rules of
``gatepass.untrusted`` (UTF-8, no duplicate member names, no NaN/Infinity, bounded numbers). The stdlib decoders
are lenient on all of these points, which is why the checks are written here rather than taken from a library.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from typing import Any

from gatepass.untrusted import MalformedInput, parse_json_object

_TO_STANDARD = bytes.maketrans(b"-_", b"+/")


EncodingError = MalformedInput  # input is not in the one canonical form we accept


def b64url_encode(data: bytes) -> str:
    """Canonical unpadded base64url, the only spelling :func:`b64url_decode` accepts."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


_URL_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_SEXTET = {c: i for i, c in enumerate(_URL_ALPHABET)}
_UNUSED_BITS = {2: 0b1111, 3: 0b11}  # by length mod 4: the bits of the last character that encode nothing


def b64url_decode(text: str) -> bytes:
    """Decode canonical unpadded base64url; anything else raises EncodingError."""
    remainder = len(text) % 4
    # The standard alphabet's "+" and "/", and any "=", are not ours; binascii's strict mode refuses every other
    # character outside the alphabet (whitespace included) once "-" and "_" are mapped to the standard ones.
    if remainder == 1 or "+" in text or "/" in text or "=" in text:
        raise EncodingError("not canonical base64url")
    # Non-zero unused bits in the last character decode to the same bytes: a second spelling of one token.
    if remainder and _SEXTET.get(text[-1], 0) & _UNUSED_BITS[remainder]:
        raise EncodingError("not canonical base64url")
    try:
        standard = (text + "=" * (-remainder % 4)).encode("ascii").translate(_TO_STANDARD)  # bytes: fast
        return binascii.a2b_base64(standard, strict_mode=True)
    except (binascii.Error, ValueError) as exc:  # UnicodeEncodeError (not ASCII) is a ValueError
        raise EncodingError("not canonical base64url") from exc


def json_object(data: bytes) -> dict[str, Any]:
    """Parse strict JSON that must be an object (the rules of ``gatepass.untrusted``)."""
    return parse_json_object(data)


# One encoder for all the compact JSON gatepass writes (``json.dumps`` with options builds a new one per call, and
# tokens, rows and core replies are written on every login and refresh).
_COMPACT = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def compact_json_text(value: Any) -> str:
    """JSON without spaces, non-ASCII kept as is; a non-finite number or a non-JSON type raises
    ``ValueError``/``TypeError``."""
    return _COMPACT.encode(value)


def compact_json(value: Any) -> bytes:
    """``compact_json_text`` in UTF-8."""
    return _COMPACT.encode(value).encode("utf-8")


def sha256_hex(text: str) -> str:
    """``H(x)`` of the protocol: lowercase hex SHA-256 of the UTF-8 string."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def secret_equals(a: str | None, b: str | None) -> bool:
    """Constant-time comparison for secrets; ``None`` never equals anything."""
    if a is None or b is None:
        return False
    return hmac.compare_digest(a.encode("utf-8"), b.encode("utf-8"))
