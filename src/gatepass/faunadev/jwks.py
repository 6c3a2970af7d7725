"""The keys of access providers: a JWKS document read strictly, fetched with bounds, and cached per ``jwks_uri``.

Fauna's rules (``fauna/faunadb``: ``ext/net/.../security/JWKProvider.scala``, ``JWK.scala``): the JWKS is fetched
from the provider's ``jwks_uri`` (``GET``, ``Accept: application/json``, 200 only) and cached per URI, refreshed
after an hour; only ``kty: RSA`` keys count (others are skipped); the key is the one whose ``kid`` is the token's,
or the only key when the token names none; a ``kid`` the cached set lacks makes one new download, unless the last
was less than ``DefaultDownloadRate`` (500 ms) ago; a failed download refuses the token (``JWKSError``).

Ours, as every byte of a JWKS is hostile: ``https`` only, or ``http`` to a loopback host (for development); no
redirects, no proxies from the environment, no compression; a time limit for the whole download and a size cap;
at most ``MAX_KEYS`` keys, RSA moduli of 2048 to 8192 bits, ``alg`` (when given) one of ``RS256/384/512``, ``use``
(when given) ``sig``. A failed refresh keeps the keys already known; a failed first download is retried at most
once per cooldown, so a down JWKS costs one attempt per cooldown, not one per request.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx
from cryptography.hazmat.primitives.asymmetric import rsa

from gatepass.faunadev.jwt import RSA_HASHES, RsaKey
from gatepass.untrusted import MalformedInput, parse_json

MAX_JWKS_BYTES = 64 * 1024
MAX_KEYS = 64
MAX_URI_CHARS = 2048
FETCH_TIMEOUT_S = 3.0
MAX_AGE_S = 3600.0  # Fauna's DefaultRefreshRate
COOLDOWN_S = 0.5  # Fauna's DefaultDownloadRate
MAX_CACHED_URIS = 256
LOOPBACK_NAMES = ("localhost",)


class JwksUnavailable(Exception):
    """The JWKS could not be fetched or read; the message names the rule, never the document."""


def jwks_uri_allowed(uri: str) -> bool:
    """Whether ``uri`` may be an access provider's ``jwks_uri``: https, or http to a loopback host."""
    if len(uri) > MAX_URI_CHARS or not uri.isascii() or any(c.isspace() for c in uri):
        return False
    try:
        parts = urlsplit(uri)
        host = parts.hostname
        parts.port  # noqa: B018 - a malformed port raises here
    except ValueError:
        return False
    if not host or parts.username is not None or parts.password is not None:
        return False
    scheme = parts.scheme.lower()
    return scheme == "https" or (scheme == "http" and is_loopback(host))


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback addresses (``127.0.0.1``, ``::1``)."""
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _b64_int(value: Any) -> int | None:
    if not isinstance(value, str) or not value or len(value) > 2048 or "=" in value:
        return None
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError):
        return None
    return int.from_bytes(raw, "big")


def _rsa_key(entry: dict[str, Any]) -> RsaKey | None:
    kid, alg, use = entry.get("kid"), entry.get("alg"), entry.get("use")
    if kid is not None and not isinstance(kid, str):
        return None
    if (alg is not None and alg not in RSA_HASHES) or (use is not None and use != "sig"):
        return None
    n, e = _b64_int(entry.get("n")), _b64_int(entry.get("e"))
    if n is None or e is None or not 2048 <= n.bit_length() <= 8192 or e.bit_length() > 64:
        return None
    try:
        public_key = rsa.RSAPublicNumbers(e, n).public_key()
    except ValueError:
        return None
    return RsaKey(kid, alg, public_key)


def parse_jwks(raw: bytes) -> tuple[RsaKey, ...]:
    """The RSA verification keys of a JWKS document; ``JwksUnavailable`` if it is not one."""
    try:
        document = parse_json(raw, max_depth=8)
    except MalformedInput as exc:
        raise JwksUnavailable("the JWKS is not JSON") from exc
    keys = document.get("keys") if isinstance(document, dict) else None
    if not isinstance(keys, list) or len(keys) > MAX_KEYS:
        raise JwksUnavailable("the JWKS has no keys array, or too many keys")
    found = (_rsa_key(k) for k in keys if isinstance(k, dict) and k.get("kty") == "RSA")
    return tuple(k for k in found if k is not None)


def find_key(keys: tuple[RsaKey, ...], kid: str | None) -> RsaKey | None:
    """Fauna's choice (``JWKS.findJWK``): the only key when the token names none, else the key with its ``kid``."""
    if len(keys) == 1 and kid is None:
        return keys[0]
    return next((k for k in keys if k.kid == kid), None)


class JwksFetcher:
    """Downloads JWKS documents with one HTTP client: bounded in time and size, no redirects, no keep-alive."""

    def __init__(self, timeout_s: float = FETCH_TIMEOUT_S, max_bytes: int = MAX_JWKS_BYTES) -> None:
        self.timeout_s = timeout_s
        self.max_bytes = max_bytes
        self._client = httpx.Client(
            timeout=httpx.Timeout(timeout_s),
            follow_redirects=False,
            trust_env=False,
            limits=httpx.Limits(max_keepalive_connections=0),
            headers={"accept": "application/json", "accept-encoding": "identity"},
        )

    def __call__(self, uri: str) -> bytes:
        """The document at ``uri``; ``JwksUnavailable`` for any failure (the cause is kept, never the body)."""
        if not jwks_uri_allowed(uri):
            raise JwksUnavailable("the jwks_uri is not allowed")
        deadline = time.monotonic() + self.timeout_s
        try:
            with self._client.stream("GET", uri) as response:
                return self._read(response, deadline)
        except httpx.HTTPError as exc:
            raise JwksUnavailable(f"cannot download the JWKS ({type(exc).__name__})") from exc

    def _read(self, response: httpx.Response, deadline: float) -> bytes:
        if response.status_code != 200:
            raise JwksUnavailable(f"the JWKS answered HTTP {response.status_code}")
        if response.headers.get("content-encoding", "identity").lower() != "identity":
            raise JwksUnavailable("the JWKS is compressed")
        chunks: list[bytes] = []
        size = 0
        for chunk in response.iter_raw():
            size += len(chunk)
            if size > self.max_bytes:
                raise JwksUnavailable(f"the JWKS is larger than {self.max_bytes} bytes")
            if time.monotonic() > deadline:
                raise JwksUnavailable("the JWKS download took too long")
            chunks.append(chunk)
        return b"".join(chunks)

    def close(self) -> None:
        """Close the HTTP client."""
        self._client.close()


@dataclass
class _Entry:
    keys: tuple[RsaKey, ...] | None = None
    fetched_at: float = float("-inf")
    attempted_at: float = float("-inf")
    lock: threading.Lock = field(default_factory=threading.Lock)


class JwksCache:
    """JWKS keys per ``jwks_uri``: fetched on first use, refreshed after ``max_age_s``, and fetched again for an
    unknown ``kid`` at most once per ``cooldown_s``. One download per URI at a time; the clock is injected."""

    def __init__(
        self,
        fetch: Callable[[str], bytes] | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_age_s: float = MAX_AGE_S,
        cooldown_s: float = COOLDOWN_S,
    ) -> None:
        self._fetch = fetch if fetch is not None else JwksFetcher()
        self._clock = clock
        self.max_age_s = max_age_s
        self.cooldown_s = cooldown_s
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self._lock = threading.Lock()
        self.downloads = 0  # for tests and logs: how many downloads were attempted

    def _entry(self, uri: str) -> _Entry:
        with self._lock:
            entry = self._entries.get(uri)
            if entry is None:
                entry = self._entries[uri] = _Entry()
                while len(self._entries) > MAX_CACHED_URIS:
                    self._entries.popitem(last=False)
            self._entries.move_to_end(uri)
            return entry

    def key_for(self, uri: str, kid: str | None) -> RsaKey | None:
        """The verification key for ``kid`` at ``uri``, or None (unknown kid, or the JWKS is unavailable)."""
        entry = self._entry(uri)
        with entry.lock:
            now = self._clock()
            known = find_key(entry.keys, kid) if entry.keys is not None else None
            if known is not None and now - entry.fetched_at < self.max_age_s:
                return known
            if now - entry.attempted_at < self.cooldown_s:
                return known
            entry.attempted_at = now
            self.downloads += 1
            try:
                keys = parse_jwks(self._fetch(uri))
            except JwksUnavailable:
                return known  # a failed refresh keeps the keys already known
            entry.keys, entry.fetched_at = keys, now
            return find_key(keys, kid)

    def close(self) -> None:
        """Close the fetcher's HTTP client, if it has one."""
        close = getattr(self._fetch, "close", None)
        if callable(close):
            close()
