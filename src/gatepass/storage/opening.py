"""Opening a storage backend by database URL (``sqlite:///path.db`` or ``postgresql://...``): the one module
that knows both backends, so that neither imports the other nor the URL rules import them."""

from __future__ import annotations

from gatepass.errors import ConfigurationError
from gatepass.storage.contract import Storage
from gatepass.storage.sqlite import SqliteStorage
from gatepass.storage.url import check_netloc, redact, sqlite_path


def open_storage(url: str, *, pool_size: int = 10) -> Storage:
    """Open (and migrate) the backend a database URL names; a bad URL is a ``ConfigurationError`` without secrets."""
    scheme = url.split(":", 1)[0].lower() if ":" in url else ""
    if scheme == "sqlite":
        return SqliteStorage(sqlite_path(url))
    if scheme in ("postgresql", "postgres"):
        check_netloc(url)
        from gatepass.storage.postgres import PostgresStorage  # psycopg is an optional extra ([postgres])

        return PostgresStorage(url, redact(url), pool_size=pool_size)
    raise ConfigurationError(
        f"unsupported database URL {redact(url)!r}: use sqlite:///path.db or postgresql://user@host:5432/db"
    )
