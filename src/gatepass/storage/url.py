"""Open a storage backend from a database URL: ``sqlite:///relative.db``, ``sqlite:////abs/path.db`` or
``postgresql://user:pass@host:port/db?options``. Bad URLs are configuration errors with a clear message."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from gatepass.errors import ConfigurationError
from gatepass.storage.contract import Storage


def redact(url: str) -> str:
    """The URL with its password replaced, safe for logs."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparseable database url>"
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(":" + parts.password + "@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def sqlite_path(url: str) -> str:
    if not url.startswith("sqlite:///"):
        raise ConfigurationError("a SQLite URL looks like sqlite:///relative/path.db or sqlite:////absolute/path.db")
    path = url[len("sqlite:///") :]
    if not path or path == ":memory:" or "?" in path:
        raise ConfigurationError("the SQLite URL must name a database file (in-memory databases are not supported)")
    return path


def open_storage(url: str, *, pool_size: int = 10) -> Storage:
    scheme = url.split(":", 1)[0].lower() if ":" in url else ""
    if scheme == "sqlite":
        from gatepass.storage.sqlite import SqliteStorage

        return SqliteStorage(sqlite_path(url))
    if scheme in ("postgresql", "postgres"):
        try:
            parts = urlsplit(url)
            _ = parts.port
        except ValueError as exc:
            raise ConfigurationError(f"invalid PostgreSQL URL: {exc}") from None
        from gatepass.storage.postgres import PostgresStorage

        return PostgresStorage(url, redact(url), pool_size=pool_size)
    raise ConfigurationError(
        f"unsupported database URL {redact(url)!r}: use sqlite:///path.db or postgresql://user@host:5432/db"
    )
