"""SuperTokens v5 access tokens: RS256 JWS in compact form (RFC 7515), minted and verified without I/O.

Header ``{"alg":"RS256","typ":"JWT","kid":<kid>,"version":"5"}``. Payload: the generated claims below (always
present; ``parentRefreshTokenHash1`` and ``antiCsrfToken`` as JSON null when unset) plus the custom claims
flattened at the top level. Verification follows RFC 8725: size cap before any decoding, canonical base64url,
strict JSON, ``typ`` exactly "JWT", ``version`` >= 3, no ``crit``, ``jku``/``x5u``/``jwk``/``x5c`` never used,
the algorithm taken from the key record (the header's ``alg`` must merely agree), integer time claims.

Signing and verification call ``cryptography`` directly: JOSE libraries are lenient about base64 spelling and
duplicate JSON members, so the strict parse is ours, and after it the signature check is one call.

Tokens already checked are remembered (``_CHECKED``): a browser sends the same access token with every request
until it is refreshed, and the RSA check and the strict parse are most of a verify. The memo is keyed by the exact
token text and holds the key object that accepted its signature, with the results of its strict parse (header,
payload text, signature bytes). Parsing is a pure function of the text, so a hit is parsed as before without doing
the work again; the signature counts as checked only under the same key record as now (a key dropped from the JWKS
is not found, a reloaded one is a new object), so the memo can never accept what the check would refuse. The times
are checked on every call, and every call gets fresh objects (a shallow copy of a payload of scalars, else a new
decoding of its text: nothing a caller changes reaches the next). It is bounded (``MAX_CHECKED_SIGNATURES``, oldest
out first) and only tokens whose structure and signature passed enter it, so forged tokens cannot fill it.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from gatepass.tokens.encoding import EncodingError, b64url_decode, json_object
from gatepass.tokens.jws import Unsigned, prepare_compact
from gatepass.tokens.keys import SigningKey, VerificationKey
from gatepass.untrusted import is_ascii_digits

MAX_TOKEN_BYTES = 8 * 1024
TOKEN_VERSION = "5"
# Upstream's JWT recipe accepts any positive validity and its SDK verifies what it signs (its own tests sign
# session-shaped JWTs valid for ~1.8e12 s). The bound keeps times exact in milliseconds as a JavaScript number.
MAX_TIME_CLAIM = 2**53 // 1000

PROTECTED_CLAIMS = frozenset(
    {
        "sub",
        "iat",
        "exp",
        "sessionHandle",
        "parentRefreshTokenHash1",
        "refreshTokenHash1",
        "antiCsrfToken",
        "rsub",
        "tId",
        "stt",
    }
)
# What minting sets: the core refuses these in a session's custom payload, as upstream's core does. ``stt`` is
# protected only by the SDKs (they drop it from payloads they are given): a session stored with ``stt`` other than
# 0 gets tokens that no verifier takes for a session's, which harms only the app that asked for it.
GENERATED_CLAIMS = PROTECTED_CLAIMS - {"stt"}


@dataclass(frozen=True)
class SessionClaims:
    """The generated claims of one access token (times in seconds)."""

    user_id: str
    session_handle: str
    tenant_id: str
    refresh_token_hash1: str
    parent_refresh_token_hash1: str | None
    anti_csrf_token: str | None = field(repr=False)  # a secret: never in a repr
    issued_at: int
    expires_at: int


@dataclass(frozen=True)
class VerifiedAccessToken:
    """An access token whose signature and claims checked out: its claims, custom claims, payload and kid."""

    claims: SessionClaims
    # The payload holds the anti-CSRF token (and custom claims may hold secrets): never in a repr.
    custom_claims: dict[str, Any] = field(repr=False)
    payload: dict[str, Any] = field(repr=False)
    kid: str


@dataclass(frozen=True)
class Rejected:
    """Why a token failed; ``unknown_kid`` tells the caller a key reload might help."""

    reason: str
    unknown_kid: bool = False
    expired: bool = False


@dataclass(frozen=True)
class ParsedToken:
    """A token split and decoded by ``parse``; nothing checked yet, unless ``structure_checked`` (``parse_checked``
    found header and claims shaped like ours: ``verify`` then checks only the signature and the times)."""

    header: dict[str, Any]
    # All but the signature of a bearer token, and its anti-CSRF token: never in a repr.
    payload: dict[str, Any] = field(repr=False)
    signing_input: bytes = field(repr=False)
    signature: bytes = field(repr=False)
    structure_checked: bool = field(default=False, compare=False)
    # The memo's bookkeeping (module docstring): the token's text and its decoded payload segment, and the key
    # record that accepted this very text before (``None``: not remembered).
    text: str = field(default="", repr=False, compare=False)
    payload_json: bytes = field(default=b"", repr=False, compare=False)
    checked_by: SigningKey | VerificationKey | None = field(default=None, repr=False, compare=False)


def generated_claims_in(custom: Mapping[str, Any]) -> list[str]:
    """The claims minting sets (``GENERATED_CLAIMS``) among ``custom``'s keys, sorted."""
    return sorted(GENERATED_CLAIMS.intersection(custom))


def custom_claims_of(payload: Mapping[str, Any]) -> dict[str, Any]:
    """``payload`` without its protected claims."""
    return {k: v for k, v in payload.items() if k not in PROTECTED_CLAIMS}


def mint(claims: SessionClaims, custom: Mapping[str, Any], key: SigningKey) -> str:
    """Sign a v5 access token. ``custom`` must not contain generated claims (callers validate input)."""
    return prepare(claims, custom, key).sign()


def prepare(claims: SessionClaims, custom: Mapping[str, Any], key: SigningKey) -> Unsigned:
    """A v5 access token ready to be signed (``mint`` signs it at once)."""
    payload: dict[str, Any] = dict(custom)
    payload.update(
        {
            "sub": claims.user_id,
            "exp": claims.expires_at,
            "iat": claims.issued_at,
            "tId": claims.tenant_id,
            "rsub": claims.user_id,
            "sessionHandle": claims.session_handle,
            "refreshTokenHash1": claims.refresh_token_hash1,
            "parentRefreshTokenHash1": claims.parent_refresh_token_hash1,
            "antiCsrfToken": claims.anti_csrf_token,
        }
    )
    return prepare_compact(payload, key, version=TOKEN_VERSION)


def parse(token: str) -> ParsedToken | Rejected:
    """Split and decode without trusting anything; no signature check yet (a remembered token comes back as it was
    parsed and checked before: ``structure_checked``, and ``checked_by`` its key record)."""
    if len(token) > MAX_TOKEN_BYTES:  # first: an oversized text is not even hashed for the memo
        return Rejected("token too large")
    remembered = _CHECKED.get(token)
    if remembered is not None:
        return remembered.parsed(token)
    parts = token.split(".")
    if len(parts) != 3:
        return Rejected("not a JWS in compact form")
    try:
        header = _header(parts[0])
        payload_json = b64url_decode(parts[1])
        payload = json_object(payload_json)
        signature = b64url_decode(parts[2])
    except EncodingError as exc:
        return Rejected(f"malformed token: {exc}")
    except Exception:  # a token is hostile input: whatever breaks while parsing it is a rejection
        return Rejected("malformed token")
    signing_input = (parts[0] + "." + parts[1]).encode("ascii")
    return ParsedToken(header, payload, signing_input, signature, text=token, payload_json=payload_json)


@dataclass(frozen=True)
class _Remembered:
    """What the memo keeps of a token whose structure and signature passed: the accepting key record, and the
    token's strict parse (the header as decoded, the payload as its text and, when flat, decoded)."""

    # The core's key records are private keys, and the payload holds the anti-CSRF token: nothing in a repr.
    key: SigningKey | VerificationKey = field(repr=False)
    header: dict[str, Any] = field(repr=False)
    payload_json: bytes = field(repr=False)
    signature: bytes = field(repr=False)
    # The decoded payload when every value in it is immutable (no list or object), so a shallow copy is a fresh one.
    flat_payload: dict[str, Any] | None = field(repr=False)

    def parsed(self, token: str) -> ParsedToken:
        # The text passed the strict parse once, so the stdlib decoder reads it exactly as that parse did.
        flat = self.flat_payload
        payload = dict(flat) if flat is not None else json.loads(self.payload_json)
        signing_input = token[: token.rindex(".")].encode("ascii")
        return ParsedToken(
            dict(self.header),
            payload,
            signing_input,
            self.signature,
            structure_checked=True,
            text=token,
            payload_json=self.payload_json,
            checked_by=self.key,
        )


# Every token one key signs has the same header segment: its strict decoding is kept (a pure function of the text;
# emptied when full, so a flood of odd headers costs only the cache's benefit) and each parse gets its own copy.
_HEADERS: dict[str, dict[str, Any]] = {}
MAX_CACHED_HEADERS = 64
_CHECKED: dict[str, _Remembered] = {}
_IMMUTABLE = (str, int, float, bool, type(None))  # what JSON scalars decode to
_CHECKED_LOCK = threading.Lock()
MAX_CHECKED_SIGNATURES = 4096  # about 10 MB of 1 KB tokens (text, payload text, signature)


def _signature_valid(parsed: ParsedToken, key: SigningKey | VerificationKey) -> bool:
    """The RS256 check of ``parsed``'s signature by ``key``, unless this very text passed it under this very key
    record before (module docstring)."""
    if parsed.checked_by is key:
        return True
    try:
        key.public_key.verify(parsed.signature, parsed.signing_input, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        return False
    return True


def _remember(parsed: ParsedToken, key: SigningKey | VerificationKey) -> None:
    """Keep ``parsed`` (structure and signature passed under ``key``) for the next parse of its text."""
    if parsed.checked_by is key or not parsed.text:
        return
    decoded = json.loads(parsed.payload_json)  # from the signed bytes, whatever was done to ``parsed.payload``
    flat = decoded if all(type(value) in _IMMUTABLE for value in decoded.values()) else None
    remembered = _Remembered(key, dict(parsed.header), parsed.payload_json, parsed.signature, flat)
    with _CHECKED_LOCK:  # the RSA check before this dwarfs it; it keeps eviction safe from other threads' inserts
        _CHECKED.pop(parsed.text, None)  # a token checked again under a new key record: now the newest
        if len(_CHECKED) >= MAX_CHECKED_SIGNATURES:
            del _CHECKED[next(iter(_CHECKED))]  # the oldest
        _CHECKED[parsed.text] = remembered


def _header(segment: str) -> dict[str, Any]:
    cached = _HEADERS.get(segment)
    if cached is None:
        cached = json_object(b64url_decode(segment))
        if len(_HEADERS) >= MAX_CACHED_HEADERS:
            _HEADERS.clear()
        _HEADERS[segment] = cached
    return dict(cached)


def parse_checked(token: str) -> ParsedToken | Rejected:
    """``parse``, then the header and claim checks (``structure_problem``), done once: the result says so."""
    parsed = parse(token)
    if isinstance(parsed, Rejected) or parsed.structure_checked:
        return parsed
    problem = structure_problem(parsed)
    if problem:
        return Rejected(problem)
    return replace(parsed, structure_checked=True)


def _header_problem(header: Mapping[str, Any]) -> str | None:
    if header.get("typ") != "JWT":
        return "wrong token type"
    # No version: a JWT the JWT recipe signed, read as the latest version (as upstream's core and SDKs do).
    version = header.get("version", TOKEN_VERSION)
    if not isinstance(version, str) or not is_ascii_digits(version) or int(version) < 3:
        return "unsupported token version"
    if "crit" in header:
        return "unsupported critical header"
    if not isinstance(header.get("kid"), str) or not isinstance(header.get("alg"), str):
        return "missing kid or alg"
    return None


def _is_time(value: Any) -> bool:
    return type(value) is int and 0 <= value <= MAX_TIME_CLAIM


def _claims_problem(payload: Mapping[str, Any]) -> str | None:
    for name in ("sub", "sessionHandle", "refreshTokenHash1", "tId", "rsub"):
        if not isinstance(payload.get(name), str):
            return f"claim {name} missing or not a string"
    for name in ("parentRefreshTokenHash1", "antiCsrfToken"):
        if name not in payload or not (payload[name] is None or isinstance(payload[name], str)):
            return f"claim {name} missing or invalid"
    if not _is_time(payload.get("exp")) or not _is_time(payload.get("iat")):
        return "exp and iat must be integer seconds"
    if "nbf" in payload and not _is_time(payload["nbf"]):
        return "nbf must be integer seconds"
    stt = payload.get("stt", 0)
    if type(stt) is not int or stt != 0:
        return "not a session access token"
    return None


def structure_problem(parsed: ParsedToken) -> str | None:
    """Header and claim checks without the signature: is this shaped like one of our access tokens?"""
    return _header_problem(parsed.header) or _claims_problem(parsed.payload)


def verify(
    token: str | ParsedToken,
    find_key: Callable[[str], SigningKey | VerificationKey | None],
    now_s: int,
    *,
    leeway_s: int = 0,
    allow_expired: bool = False,
) -> VerifiedAccessToken | Rejected:
    """Verify signature and claims of an access token (raw, or already ``parse``d). ``find_key`` maps a kid to our
    key record."""
    parsed = parse(token) if isinstance(token, str) else token
    if isinstance(parsed, Rejected):
        return parsed
    problem = None if parsed.structure_checked else _header_problem(parsed.header)
    if problem:
        return Rejected(problem)
    kid: str = parsed.header["kid"]
    key = find_key(kid)
    if key is None:
        return Rejected("unknown signing key", unknown_kid=True)
    if parsed.header["alg"] != key.algorithm:
        return Rejected("algorithm does not match the key")
    if not _signature_valid(parsed, key):
        return Rejected("invalid signature")
    payload = parsed.payload
    problem = None if parsed.structure_checked else _claims_problem(payload)
    if problem:
        return Rejected(problem)
    _remember(parsed, key)
    if payload["iat"] > now_s + leeway_s:
        return Rejected("token issued in the future")
    if "nbf" in payload and payload["nbf"] > now_s + leeway_s:
        return Rejected("token not yet valid")
    if payload["exp"] <= now_s - leeway_s and not allow_expired:
        return Rejected("token expired", expired=True)
    claims = SessionClaims(
        user_id=payload["sub"],
        session_handle=payload["sessionHandle"],
        tenant_id=payload["tId"],
        refresh_token_hash1=payload["refreshTokenHash1"],
        parent_refresh_token_hash1=payload["parentRefreshTokenHash1"],
        anti_csrf_token=payload["antiCsrfToken"],
        issued_at=payload["iat"],
        expires_at=payload["exp"],
    )
    return VerifiedAccessToken(claims, custom_claims_of(payload), payload, kid)
