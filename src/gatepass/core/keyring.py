"""One app's signing keys and refresh-token secret: cached in memory, persisted in the database.

The hot path (signing with the current key, finding a verification key) touches no database. The database is
read or written only when the schedule says a new dynamic key is due, when a token names a plausible key this
process has not seen (another core process made it; at most one reload per cooldown), and once per app for the
static key and the refresh-token secret. Key creation runs under ``Transaction.lock_app_keys`` and re-checks the
schedule inside the lock, so concurrent processes create one key; RSA generation happens before the lock.
"""

from __future__ import annotations

import base64
import logging
import re
import threading

from gatepass.core.clock import Clock
from gatepass.storage.contract import Storage, StoredKey
from gatepass.tokens import key_schedule
from gatepass.tokens.key_schedule import KeyTimes
from gatepass.tokens.keys import (
    ALGORITHM,
    SigningKey,
    dynamic_kid,
    generate_rsa_key,
    load_signing_key,
    make_signing_key,
    new_static_kid,
)
from gatepass.tokens.refresh_token import new_encryption_key

log = logging.getLogger("gatepass.core")

RELOAD_COOLDOWN_MS = 500
REFRESH_KEY_NAME = "refresh_token_key"
_PLAUSIBLE_KID = re.compile(r"(d-[0-9]{1,15}|s-[0-9a-f-]{36})")


class AppKeyring:
    """One app's signing keys and refresh-token secret (the module docstring says when the database is used)."""

    def __init__(self, storage: Storage, app_id: str, clock: Clock) -> None:
        self._storage = storage
        self._app_id = app_id
        self._clock = clock
        self._lock = threading.Lock()
        self._dynamic: list[SigningKey] = []  # newest first
        self._static: SigningKey | None = None
        self._refresh_key: bytes | None = None
        self._last_reload_ms = -RELOAD_COOLDOWN_MS

    # signing --------------------------------------------------------------------------------------------------
    def ready_to_sign(self, times: KeyTimes) -> bool:
        """Whether signing with a dynamic key answers without making one: keys loaded and none due. An event loop
        signs only then (``CoreHttpApp``), as generating an RSA key takes tens of milliseconds; the static key is
        made on its first use wherever that is (once per database)."""
        return _ready(self._dynamic, self._clock(), times)

    def load_keys(self) -> None:
        """Read the dynamic keys if none are loaded yet (never writes: a refused request leaves the database as
        it was); off the event loop."""
        if not self._dynamic:
            with self._lock:
                if not self._dynamic:
                    self._load_dynamic()

    def signing_key(self, times: KeyTimes, *, static: bool) -> SigningKey:
        """The key to sign a new access token with: the static key, or the schedule's dynamic key (created if due)."""
        if static:
            return self.static_key()
        now = self._clock()
        keys = self._dynamic
        if key_schedule.needs_new_key(keys, now, times):
            keys = self._rotate(times)
        return keys[key_schedule.signing_index(keys, self._clock(), times)]

    def _rotate(self, times: KeyTimes) -> list[SigningKey]:
        with self._lock:
            now = self._clock()
            if not key_schedule.needs_new_key(self._dynamic, now, times):
                return self._dynamic
            self._load_dynamic()
            if not key_schedule.needs_new_key(self._dynamic, now, times):
                return self._dynamic
            candidate = generate_rsa_key()
            with self._storage.transaction() as tx:
                tx.lock_app_keys(self._app_id)
                stored = tx.dynamic_keys(self._app_id)
                now = self._clock()
                if key_schedule.needs_new_key(stored, now, times):
                    created = max(now, stored[0].created_at_ms + 1) if stored else now
                    key = make_signing_key(dynamic_kid(created), "dynamic", created, candidate)
                    tx.insert_dynamic_key(self._app_id, created, key.serialise())
                    stale_before = now - times.update_interval_ms - 2 * times.access_validity_ms
                    tx.delete_dynamic_keys_before(self._app_id, stale_before)
                    log.info("signing key created: app=%s kid=%s", self._app_id, key.kid)
                    stored = tx.dynamic_keys(self._app_id)
            self._dynamic = self._parse_all(stored)
            return self._dynamic

    def _parse_all(self, stored: list[StoredKey]) -> list[SigningKey]:
        known = {k.kid: k for k in self._dynamic}
        return [known.get(s.kid) or load_signing_key(s.kid, "dynamic", s.created_at_ms, s.value) for s in stored]

    def _load_dynamic(self) -> None:
        with self._storage.read() as tx:
            stored = tx.dynamic_keys(self._app_id)
        self._dynamic = self._parse_all(stored)
        self._last_reload_ms = self._clock()

    def static_key(self) -> SigningKey:
        """The app's static key, loaded or created once per process."""
        if self._static is not None:
            return self._static
        with self._lock:
            if self._static is None:
                self._static = self._load_or_create_static()
            return self._static

    def _load_or_create_static(self) -> SigningKey:
        with self._storage.read() as tx:
            stored = tx.static_key(self._app_id, ALGORITHM)
        if stored is None:
            candidate = make_signing_key(new_static_kid(), "static", self._clock(), generate_rsa_key())
            with self._storage.transaction() as tx:
                tx.insert_static_key_if_absent(
                    self._app_id,
                    StoredKey(candidate.kid, candidate.created_at_ms, candidate.serialise()),
                    ALGORITHM,
                )
                stored = tx.static_key(self._app_id, ALGORITHM)
            assert stored is not None
        return load_signing_key(stored.kid, "static", stored.created_at_ms, stored.value)

    # verification ------------------------------------------------------------------------------------------------
    def verification_key(self, kid: str, times: KeyTimes, *, reload: bool = True) -> SigningKey | None:
        """The live key with this kid; on a miss, reload from the database (at most once per cooldown) if allowed."""
        key = self._live_key(kid, times)
        if key is not None or not reload or not _PLAUSIBLE_KID.fullmatch(kid):
            return key
        with self._lock:
            if self._clock() - self._last_reload_ms < RELOAD_COOLDOWN_MS:
                return self._live_key(kid, times)
            self._load_dynamic()
            if kid.startswith("s-") and self._static is None:
                self._static = self._load_or_create_static()
        return self._live_key(kid, times)

    def _live_key(self, kid: str, times: KeyTimes) -> SigningKey | None:
        if self._static is not None and self._static.kid == kid:
            return self._static
        now = self._clock()
        for key in self._dynamic:
            if key.kid == kid:
                return key if key_schedule.is_live(key, now, times) else None
        return None

    def jwks(self, times: KeyTimes) -> tuple[list[dict[str, str]], int]:
        """Public keys to publish (live dynamic keys, then the static key) and the cache max-age in seconds."""
        self.signing_key(times, static=False)
        static = self.static_key()
        return _published(self._dynamic, static, self._clock(), times)

    def jwks_without_io(self, times: KeyTimes) -> tuple[list[dict[str, str]], int] | None:
        """``jwks`` when it needs no database (the keys in memory, the static one too, and none due: at one reading
        of the clock), else ``None``; what an event loop may answer."""
        static, dynamic, now = self._static, self._dynamic, self._clock()
        if static is None or not _ready(dynamic, now, times):
            return None
        return _published(dynamic, static, now, times)

    # refresh-token secret ------------------------------------------------------------------------------------
    def refresh_token_key(self) -> bytes:
        """The app's refresh-token encryption key, loaded or created once per process."""
        if self._refresh_key is not None:
            return self._refresh_key
        with self._lock:
            if self._refresh_key is None:
                with self._storage.transaction() as tx:
                    candidate = base64.b64encode(new_encryption_key()).decode()
                    tx.insert_value_if_absent(self._app_id, REFRESH_KEY_NAME, candidate, self._clock())
                    value = tx.get_value(self._app_id, REFRESH_KEY_NAME)
                assert value is not None
                self._refresh_key = base64.b64decode(value)
            return self._refresh_key


def _ready(dynamic: list[SigningKey], now: int, times: KeyTimes) -> bool:
    """Dynamic keys in memory and none due at ``now``: signing or publishing needs no database and no new key."""
    return bool(dynamic) and not key_schedule.needs_new_key(dynamic, now, times)


def _published(
    dynamic: list[SigningKey], static: SigningKey, now: int, times: KeyTimes
) -> tuple[list[dict[str, str]], int]:
    """The JWKS entries (live dynamic keys, then the static key) and the cache max-age in seconds, at ``now``."""
    keys = [k.public_jwk() for k in dynamic if key_schedule.is_live(k, now, times)]
    keys.append(static.public_jwk())
    return keys, key_schedule.jwks_max_age_seconds(dynamic, now, times)
