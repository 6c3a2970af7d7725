"""Per-session lifetimes, chosen at login (issue 13 item 3): "remember me" off is a shorter inactivity timeout and
browser-session cookies; an absolute lifetime ends the session at a fixed time however active it is.

They travel to the core as gatepass's CDI extensions of session creation (``refreshTokenValidityMs``,
``absoluteLifetimeMs``, ``browserSession``); the core keeps them with the session, so every refresh honours them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from gatepass.errors import ConfigurationError


def _whole_ms(name: str, value: timedelta | None) -> int | None:
    if value is None:
        return None
    ms = value // timedelta(milliseconds=1)
    if ms < 1:
        raise ConfigurationError(f"SessionLifetime.{name} must be at least a millisecond")
    return ms


@dataclass(frozen=True)
class SessionLifetime:
    """How long one session may live, on top of the app's settings.

    - ``inactivity_timeout``: the session ends this long after its last refresh, instead of the core's
      ``refresh_token_validity``; it may only be shorter (the core answers a longer one, or one not longer than the
      access token's lifetime, with a 400).
    - ``absolute_lifetime``: the session ends this long after login however active it is, instead of the core's
      ``session_absolute_lifetime``.
    - ``browser_session``: the token cookies are set without ``Expires`` (the browser drops them when it closes), at
      creation and at every refresh. With header-based tokens the frontend keeps them, so this changes nothing.
    """

    inactivity_timeout: timedelta | None = None
    absolute_lifetime: timedelta | None = None
    browser_session: bool = False

    @classmethod
    def not_remembered(cls, inactivity_timeout: timedelta | None = None) -> SessionLifetime:
        """A login with "remember me" unticked: browser-session cookies, and optionally a shorter inactivity."""
        return cls(inactivity_timeout=inactivity_timeout, browser_session=True)

    @property
    def refresh_validity_ms(self) -> int | None:
        """The inactivity timeout in whole milliseconds (``None``: the app's)."""
        return _whole_ms("inactivity_timeout", self.inactivity_timeout)

    @property
    def absolute_lifetime_ms(self) -> int | None:
        """The absolute lifetime in whole milliseconds (``None``: the app's)."""
        return _whole_ms("absolute_lifetime", self.absolute_lifetime)
