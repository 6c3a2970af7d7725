"""The SDK's cache of the core's public keys, for verifying access tokens in-process.

Lookups never block and never do I/O. A reload happens when a token names an unknown kid (at most once per
cooldown, default 500 ms, whatever the flood of random kids) or when the keys are older than the refresh interval.
Reloads are single-flight: one thread fetches while the others keep verifying with the keys they have; a caller
that needs an unknown kid waits for the fetch in progress instead of starting another. The same document is what
the SDK publishes at ``{base}/jwt/jwks.json`` (``published``), reloaded for that when older than the age asked for.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from gatepass.recipe.session.errors import CoreError, CoreUnavailableError
from gatepass.tokens.keys import VerificationKey, verification_keys_from_jwks

log = logging.getLogger("gatepass.session")


PUBLIC_JWK_MEMBERS = ("kty", "kid", "n", "e", "alg", "use")


def _public_members(document: dict[str, Any], usable: dict[str, VerificationKey]) -> list[dict[str, Any]]:
    """The usable keys of ``document`` with their public members only: whatever else a core's JWKS held (a
    private exponent, by some mistake) is never published."""
    entries = document.get("keys")
    if not isinstance(entries, list):
        return []
    return [
        {name: entry[name] for name in PUBLIC_JWK_MEMBERS if name in entry}
        for entry in entries
        if isinstance(entry, dict) and entry.get("kid") in usable
    ]


class JwksCache:
    """The core's public keys by kid, reloaded through ``fetch`` as described above (``clock``: epoch
    milliseconds)."""

    def __init__(
        self,
        fetch: Callable[[], dict[str, Any]],
        clock: Callable[[], int],
        *,
        refresh_interval_ms: int = 14_400_000,
        cooldown_ms: int = 500,
    ) -> None:
        self._fetch = fetch
        self._clock = clock
        self._refresh_interval_ms = refresh_interval_ms
        self._cooldown_ms = cooldown_ms
        self._keys: dict[str, VerificationKey] = {}
        self._published: list[dict[str, Any]] = []  # the JWKs as the core sent them (those we can verify with)
        self._fetched_at: int | None = None
        self._lock = threading.Lock()
        self.fetch_count = 0

    def key(self, kid: str) -> VerificationKey | None:
        """The key for ``kid``, or ``None`` if the cache has none (never reloads)."""
        return self._keys.get(kid)

    def wants_refresh(self, kid: str | None, max_age_ms: int | None = None) -> bool:
        """Should a verify of a token with this kid reload first? (``None``: no kid to look for; ``max_age_ms``:
        keys older than this are stale, instead of the refresh interval.)"""
        now = self._clock()
        if self._fetched_at is None:
            return True
        if kid is not None and kid not in self._keys:
            return now - self._fetched_at >= self._cooldown_ms
        return now - self._fetched_at >= (self._refresh_interval_ms if max_age_ms is None else max_age_ms)

    def published(self, max_age_ms: int) -> tuple[list[dict[str, Any]], int]:
        """The public JWKs to publish and how many more milliseconds they may be cached; blocks to reload them
        first when they are older than ``max_age_ms`` (single-flight, as for verifying)."""
        if self.wants_refresh(None, max_age_ms):
            self.refresh(None, max_age_ms)
        fetched_at = self._fetched_at if self._fetched_at is not None else self._clock()
        return [dict(key) for key in self._published], max(0, max_age_ms - (self._clock() - fetched_at))

    def refresh(self, kid: str | None, max_age_ms: int | None = None) -> None:
        """Reload, unless another caller did so while this one waited for the lock."""
        requested_at = self._clock()
        have_key = bool(self._keys) if kid is None else kid in self._keys
        if have_key:
            if not self._lock.acquire(blocking=False):
                return  # someone is already reloading: keep verifying with the (stale) key we have
        else:
            self._lock.acquire()
        try:
            if self._fetched_at is not None and self._fetched_at >= requested_at and (kid is None or kid in self._keys):
                return
            if not self.wants_refresh(kid, max_age_ms):
                return
            try:
                document = self._fetch()
                keys = verification_keys_from_jwks(document)
            except Exception as exc:
                if self._keys:  # serve the keys we have; the next cooldown may try again
                    log.warning("JWKS reload failed, keeping cached keys: %s", type(exc).__name__)
                    self._fetched_at = self._clock()
                    return
                if isinstance(exc, CoreError):
                    raise
                # A JWKS document we cannot read is a core we cannot use: answered as such, not as a crash.
                raise CoreUnavailableError(f"the core's JWKS is unusable: {type(exc).__name__}") from exc
            self.fetch_count += 1
            self._keys = keys
            self._published = _public_members(document, keys)
            self._fetched_at = self._clock()
        finally:
            self._lock.release()
