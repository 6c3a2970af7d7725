"""How long a session and its tokens live (security checklist 24 and 25): pure functions of the app's lifetimes,
the session's absolute end and ``now`` (epoch milliseconds).

The invariants, at every moment of a session's life:

- **Inactivity.** A session ends ``refresh_token_validity`` (or the shorter validity it was created with, "remember
  me" off) after its last rotation (its creation or a refresh): the row's expiry moves forward only when a refresh
  token is used.
- **Absolute lifetime.** A session with an absolute end (the app's ``session_absolute_lifetime`` from creation, or
  the lifetime the creator asked for) ends there however active it is: the row's expiry and every access token's
  ``exp`` are capped at it, so at and after it no access token verifies and a refresh finds no session
  (``UNAUTHORISED``). Before it, the inactivity rule applies unchanged.
- **Jitter.** With ``access_token_validity_jitter = j`` an access token lives ``v * (1 - u * j)`` for a uniform
  ``u`` in ``[0, 1)``: subtract-only, within ``[v * (1 - j), v]``, so tokens minted together do not all expire
  (and refresh) together. ``j = 0`` (the default) is upstream's fixed lifetime.
"""

from __future__ import annotations

from gatepass.storage.contract import SessionRow

MAX_JITTER = 0.5  # beyond this an access token's lifetime is more noise than setting


def absolute_end(now_ms: int, app_lifetime_ms: int, requested_ms: int | None) -> int | None:
    """When a session created at ``now_ms`` must end: after the creator's lifetime if it asked for one, else the
    app's (``0``: none), else never (``None``)."""
    lifetime = requested_ms if requested_ms is not None else app_lifetime_ms
    return now_ms + lifetime if lifetime > 0 else None


def inactivity_ms(app_validity_ms: int, session_validity_ms: int | None) -> int:
    """A session's inactivity timeout: the one it was created with, else the app's."""
    return app_validity_ms if session_validity_ms is None else session_validity_ms


def session_expiry(now_ms: int, refresh_validity_ms: int, end_ms: int | None) -> int:
    """The row's expiry after a rotation at ``now_ms``: the inactivity timeout, capped at the absolute end."""
    inactive = now_ms + refresh_validity_ms
    return inactive if end_ms is None else min(inactive, end_ms)


def rotated_expiry(now_ms: int, app_validity_ms: int, row: SessionRow) -> int:
    """A stored session's expiry after a rotation at ``now_ms`` (its own inactivity timeout, its absolute end)."""
    return session_expiry(now_ms, inactivity_ms(app_validity_ms, row.refresh_validity_ms), row.absolute_expires_at_ms)


def kept_expiry_s(presented_exp_s: int, end_ms: int | None) -> int:
    """The ``exp`` of a re-minted access token (verify's replacement, a regenerate): the presented token's, never
    past the session's absolute end (a token the JWT recipe signed may claim any ``exp``)."""
    return presented_exp_s if end_ms is None else min(presented_exp_s, end_ms // 1000)


def access_expiry_s(now_ms: int, validity_ms: int, jitter: float, uniform: float, end_ms: int | None) -> int:
    """A new access token's ``exp`` (epoch seconds): its lifetime less ``uniform * jitter`` of it, capped at the
    session's absolute end. ``uniform`` is a draw from ``[0, 1)``."""
    lifetime = validity_ms - int(validity_ms * jitter * uniform)
    expires_ms = now_ms + lifetime if end_ms is None else min(now_ms + lifetime, end_ms)
    return expires_ms // 1000
