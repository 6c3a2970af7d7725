"""The framework-neutral view of a request and the changes a flow wants made to the response.

Adapters build a ``RequestView`` from their framework's request and apply ``ResponseChanges`` to its response; all
decisions in between are pure functions of these values.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal

TransferMethod = Literal["cookie", "header"]
REDACTED = "<redacted>"
# Response headers whose values are never secret; every other value (tokens, front-token, anti-csrf) is redacted.
_PLAIN_HEADERS = frozenset({"cache-control", "access-control-expose-headers"})


def redacted(value: str | None) -> str | None:
    """How a secret appears in a repr: whether it is there (or empty, as in a clearing cookie), never what it is."""
    return value if not value else REDACTED


def parse_cookie_header(header: str | None) -> list[tuple[str, str]]:
    """All ``name=value`` pairs in order, duplicates kept (the stdlib parser merges them, and duplicate session
    cookies are exactly what the protocol must detect)."""
    pairs: list[tuple[str, str]] = []
    if not header:
        return pairs
    for part in header.split(";"):
        name, sep, value = part.strip().partition("=")
        if sep and name:
            value = value.strip()
            if len(value) >= 2 and value[0] == value[-1] == '"':
                value = value[1:-1]
            pairs.append((name.strip(), value))
    return pairs


@dataclass(frozen=True)
class RequestView:
    """A request as the flows see it: upper-case method, path, headers by lower-case name, cookies in order
    (duplicates kept) and the client's address."""

    method: str
    path: str
    headers: Mapping[str, str]  # lower-case names
    cookies: tuple[tuple[str, str], ...] = ()
    client: str = ""  # the peer's address as the server saw it (rate limits); "" when unknown

    @classmethod
    def build(cls, method: str, path: str, headers: Iterable[tuple[str, str]], client: str = "") -> RequestView:
        """Repeated headers are joined as HTTP says: with ``, `` (and ``; `` for ``Cookie``)."""
        joined: dict[str, list[str]] = {}
        for name, value in headers:
            joined.setdefault(name.lower(), []).append(value)
        lowered = {key: ("; " if key == "cookie" else ", ").join(values) for key, values in joined.items()}
        return cls(method.upper(), path, lowered, tuple(parse_cookie_header(lowered.get("cookie"))), client)

    def __repr__(self) -> str:  # the request's tokens are in its headers and cookies: show names only
        return (
            f"RequestView(method={self.method!r}, path={self.path!r}, headers={sorted(self.headers)!r}, "
            f"cookies={[name for name, _ in self.cookies]!r})"
        )

    def header(self, name: str) -> str | None:
        """A header's value (the name in any case), or ``None``."""
        return self.headers.get(name.lower())

    def cookie_values(self, name: str) -> list[str]:
        """Every value of the cookie ``name``, in order (more than one: duplicate cookies)."""
        return [value for key, value in self.cookies if key == name]


@dataclass(frozen=True)
class Cookie:
    """One cookie to set; ``value`` is already percent-encoded."""

    name: str
    value: str = field(repr=False)  # already percent-encoded; a token, so never in a repr
    expires_ms: int | None  # None: a browser-session cookie (no Expires)
    path: str
    domain: str | None
    secure: bool
    same_site: Literal["lax", "strict", "none"]
    http_only: bool = True

    def render(self) -> str:
        """The ``Set-Cookie`` value: ``Expires`` (no ``Max-Age``; neither for a browser-session cookie), ``Path``,
        ``Domain`` if set, ``Secure``, ``HttpOnly`` and ``SameSite``."""
        from email.utils import formatdate

        parts = [f"{self.name}={self.value}"]
        if self.expires_ms is not None:
            parts.append(f"Expires={formatdate(self.expires_ms / 1000, usegmt=True)}")
        parts.append(f"Path={self.path}")
        if self.domain:
            parts.append(f"Domain={self.domain}")
        if self.secure:
            parts.append("Secure")
        if self.http_only:
            parts.append("HttpOnly")
        parts.append(f"SameSite={self.same_site.capitalize()}")
        return "; ".join(parts)


@dataclass
class ResponseChanges:
    """Headers to set (last write wins), cookies to add and header names to expose to browsers."""

    headers: dict[str, str] = field(default_factory=dict)
    cookies: list[Cookie] = field(default_factory=list)
    expose: list[str] = field(default_factory=list)
    removed_headers: set[str] = field(default_factory=set)

    def __repr__(self) -> str:  # header values are tokens (st-access-token, front-token, anti-csrf...): redacted
        headers = {name: value if name in _PLAIN_HEADERS else redacted(value) for name, value in self.headers.items()}
        return (
            f"ResponseChanges(headers={headers!r}, cookies={self.cookies!r}, expose={self.expose!r}, "
            f"removed_headers={sorted(self.removed_headers)!r})"
        )

    def set_header(self, name: str, value: str, *, expose: bool = False) -> None:
        """Set a header (undoing a removal); ``expose`` also lists it in ``Access-Control-Expose-Headers``."""
        self.headers[name] = value
        self.removed_headers.discard(name)
        if expose and name not in self.expose:
            self.expose.append(name)

    def remove_header(self, name: str) -> None:
        """Remove a header from the response (undoing a ``set_header``)."""
        self.headers.pop(name, None)
        self.removed_headers.add(name)

    def add_cookie(self, cookie: Cookie) -> None:
        """Add a cookie, replacing any with the same name, path and domain."""
        self.cookies = [
            c for c in self.cookies if (c.name, c.path, c.domain) != (cookie.name, cookie.path, cookie.domain)
        ]
        self.cookies.append(cookie)

    def extend(self, other: ResponseChanges) -> None:
        """Apply ``other``'s changes after these: its removals, then its headers, cookies and exposed names."""
        for name in other.removed_headers:
            self.remove_header(name)
        for name, value in other.headers.items():
            self.set_header(name, value)
        for cookie in other.cookies:
            self.add_cookie(cookie)
        for name in other.expose:
            if name not in self.expose:
                self.expose.append(name)

    def final_headers(self, existing_expose: str | None = None) -> list[tuple[str, str]]:
        """Header pairs for the response, ``Set-Cookie`` rendered, ``Access-Control-Expose-Headers`` merged."""
        pairs = list(self.headers.items())
        pairs += [("set-cookie", c.render()) for c in self.cookies]
        if self.expose:
            names = [n.strip() for n in (existing_expose or "").split(",") if n.strip()]
            names += [n for n in self.expose if n not in names]
            pairs.append(("access-control-expose-headers", ", ".join(names)))
        return pairs

    @property
    def empty(self) -> bool:
        """Nothing to change."""
        return not (self.headers or self.cookies or self.expose or self.removed_headers)
