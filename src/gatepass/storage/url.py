"""Open a storage backend from a database URL: ``sqlite:///relative.db``, ``sqlite:////abs/path.db`` or
``postgresql://user:pass@host:port/db?options``. Bad URLs are configuration errors with a clear message.

Redaction follows what libpq accepts, because libpq (through psycopg) is what reads the URL: a password may sit in
the userinfo (``user:pw@``) or in the query string, whose keys and values libpq percent-decodes
(``?%70assword=pw`` is ``password=pw``). The secret-bearing parameters of libpq 18 are ``password``,
``sslpassword`` (the client key's passphrase) and ``oauth_client_secret``. File paths (``passfile``, ``sslkey``,
``sslcert``, ``sslrootcert``, ``sslkeylogfile``) name where a secret lives, not the secret, and stay visible
because they help debugging. Keys are matched case-insensitively (over-redacting costs nothing).
"""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit

from gatepass.errors import ConfigurationError

SECRET_PARAMETERS = frozenset({"password", "sslpassword", "oauth_client_secret"})
MASK = "***"

# key = value pairs of a libpq keyword/value string; a value is single-quoted (with backslash escapes) or bare.
_KEYWORD_VALUE = re.compile(r"([A-Za-z_]+)(\s*=\s*)('(?:[^'\\]|\\.)*'?|[^\s']*)")


def _is_secret(key: str) -> bool:
    return unquote(key).strip().lower() in SECRET_PARAMETERS


def _redact_query(query: str) -> str:
    pairs = []
    for pair in query.split("&"):
        key, sep, _ = pair.partition("=")
        pairs.append(f"{key}={MASK}" if sep and _is_secret(key) else pair)
    return "&".join(pairs)


def _split_uri(url: str) -> tuple[str, str | None, str, str | None]:
    """(``scheme://user``, password or None, ``@host/path``, query or None), the way libpq cuts a URI.

    libpq ends the userinfo at the first ``@`` before any ``/`` and Python's ``urlsplit`` at the last ``@`` of the
    netloc; taking the last ``@`` before the first ``/`` covers both, so neither reading can leak a password tail.
    """
    scheme, _, rest = url.partition("://")
    first_slash = rest.find("/")
    at = rest.rfind("@", 0, first_slash if first_slash >= 0 else len(rest))
    user, password = "", None
    if at >= 0:
        user, colon, secret = rest[:at].partition(":")
        password = secret if colon else None
        rest = rest[at:]
    head, question, query = rest.partition("?")
    return f"{scheme}://{user}", password, head, (query if question else None)


def _query_secrets(query: str) -> set[str]:
    found = set()
    for pair in query.split("&"):
        key, sep, value = pair.partition("=")
        if sep and _is_secret(key):
            found.add(value)
    return found


def _redact_uri(url: str) -> str:
    # A '?' before the userinfo's '@' ("h?password=x@y", no slash) reads two ways: userinfo "h?password=x", or a
    # query whose password is "x@y". Mask the query reading's secrets first, so neither reading leaks a tail.
    rest = url.partition("://")[2]
    question, at = rest.find("?"), rest.rfind("@", 0, rest.find("/") if "/" in rest else len(rest))
    if 0 <= question < at:
        url = _mask_all(url, _query_secrets(rest[question + 1 :]))
    prefix, password, head, query = _split_uri(url)
    userinfo = prefix if password is None else f"{prefix}:{MASK}"
    return userinfo + head + ("" if query is None else "?" + _redact_query(query))


def _redact_keyword_value(conninfo: str) -> str:
    def mask(match: re.Match[str]) -> str:
        return match.group(1) + match.group(2) + MASK if _is_secret(match.group(1)) else match.group(0)

    return _KEYWORD_VALUE.sub(mask, conninfo)


def redact(url: str) -> str:
    """The URL (or libpq keyword/value string) with every password-like value replaced, safe for logs."""
    if "://" in url:
        return _redact_uri(url)
    return _redact_keyword_value(url)


def secrets_in(url: str) -> list[str]:
    """Every secret value of a database URL, raw and percent-decoded, longest first, so that a message quoting part
    of the URL (libpq's parse errors do) can be scrubbed with :func:`scrub`."""
    found: set[str] = set()
    if "://" in url:
        _, password, _, query = _split_uri(url)
        if password is not None:
            found.add(password)
        found |= _query_secrets(query or "") | _query_secrets(url.partition("?")[2])  # both readings, as above
    else:
        for match in _KEYWORD_VALUE.finditer(url):
            if _is_secret(match.group(1)):
                value = match.group(3)
                found |= {value, value.strip("'").replace("\\'", "'").replace("\\\\", "\\")}
    found |= {unquote(value) for value in found}
    return sorted((value for value in found if value), key=len, reverse=True)


def _mask_all(text: str, values: set[str] | list[str]) -> str:
    """``text`` with every occurrence of every value masked; overlapping occurrences merge into one mask, so that
    masking one secret can never break up the text of another."""
    spans = []
    for value in filter(None, values):
        start = text.find(value)
        while start >= 0:
            spans.append((start, start + len(value)))
            start = text.find(value, start + 1)
    merged: list[tuple[int, int]] = []
    for begin, end in sorted(spans):
        if merged and begin <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((begin, end))
    pieces, position = [], 0
    for begin, end in merged:
        pieces += [text[position:begin], MASK]
        position = end
    return "".join(pieces) + text[position:]


def scrub(message: str, url: str) -> str:
    """``message`` with every secret of ``url`` masked: for errors and log lines from the database driver."""
    return _mask_all(message, secrets_in(url))


class ScrubbedCause(Exception):
    """Stands in, as ``__cause__``, for a driver exception whose text may quote a secret of the database URL.

    It keeps what a person debugging needs, the driver exception's class (``driver_class``, qualified by its
    module) and its message with the URL's secrets masked (``message``), and nothing else: not the original
    exception, its chain or its traceback, so what ``traceback``, logging and error trackers print of the chain
    holds no password. Raise the error it is chained to outside the ``except`` block, so that ``__context__`` does
    not keep the original either. It is never raised on its own and is not a ``GatepassError``: nobody should
    catch it.
    """

    def __init__(self, driver_class: str, message: str) -> None:
        super().__init__(f"{driver_class}: {message}")
        self.driver_class = driver_class
        self.message = message


def scrubbed_cause(exc: BaseException, url: str) -> ScrubbedCause:
    """The stand-in for ``exc``: its class, and its message with the secrets of ``url`` masked."""
    kind = type(exc)
    return ScrubbedCause(f"{kind.__module__}.{kind.__qualname__}", scrub(str(exc), url))


def sqlite_path(url: str) -> str:
    """The file path of a ``sqlite:///`` URL; in-memory databases and query options are configuration errors."""
    if not url.startswith("sqlite:///"):
        raise ConfigurationError("a SQLite URL looks like sqlite:///relative/path.db or sqlite:////absolute/path.db")
    path = url[len("sqlite:///") :]
    if not path or path == ":memory:" or "?" in path:
        raise ConfigurationError("the SQLite URL must name a database file (in-memory databases are not supported)")
    return path


def check_netloc(url: str) -> None:
    """A host part that does not parse (a port that is not a number, say) is a configuration error. ``urlsplit``'s
    message may quote the netloc, password and all, so the error's cause is the scrubbed stand-in."""
    try:
        parts = urlsplit(url)
        if "," not in parts.netloc:  # libpq's multi-host form (h1:5432,h2:5433) is for libpq to check
            _ = parts.port
    except ValueError as exc:
        cause = scrubbed_cause(exc, url)
    else:
        return
    raise ConfigurationError(f"invalid PostgreSQL URL: {cause.message}") from cause
