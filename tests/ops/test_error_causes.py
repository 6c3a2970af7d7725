"""Errors keep their cause: a foreign error translated at an I/O boundary is chained (``raise ... from exc``).

Where the foreign error's text may quote the database password (psycopg's, ``urlsplit``'s), the cause is a
``ScrubbedCause`` stand-in: the driver's class and reason with the URL's secrets masked, and nothing anywhere in the
raised error (message, repr, the ``__cause__``/``__context__`` chain, the printed traceback) holds the password.
"""

from __future__ import annotations

import logging
import socket
import tomllib
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gatepass.core.app_config import build_app_config
from gatepass.core.server import bind_listener
from gatepass.core.settings import load_config_file, resolve_settings
from gatepass.errors import ConfigurationError, StorageError
from gatepass.storage.opening import open_storage
from gatepass.storage.postgres import PostgresStorage
from gatepass.storage.url import ScrubbedCause, redact

SECRET = "s3cretPW"


def _chain(error: BaseException) -> Iterator[BaseException]:
    """The error and everything reachable from it as a cause or a context."""
    pending: list[BaseException | None] = [error]
    seen: list[BaseException] = []
    while pending:
        item = pending.pop()
        if item is None or any(item is old for old in seen):
            continue
        seen.append(item)
        yield item
        pending += [item.__cause__, item.__context__]


def _assert_no_secret(error: BaseException) -> None:
    for item in _chain(error):
        assert SECRET not in str(item) and SECRET not in repr(item), repr(item)
        assert all(SECRET not in repr(value) for value in vars(item).values()), vars(item)
    printed = "".join(traceback.format_exception(error))
    assert SECRET not in printed, printed


def _scrubbed_cause(error: BaseException) -> ScrubbedCause:
    cause = error.__cause__
    assert isinstance(cause, ScrubbedCause), repr(cause)
    assert error.__context__ is None  # raised outside the except block: the driver's exception is unreachable
    assert cause.__cause__ is None and cause.__context__ is None and cause.__traceback__ is None
    return cause


# the cause is the original error --------------------------------------------------------------------------------
def test_unreadable_config_file_keeps_the_os_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="cannot read config file") as caught:
        load_config_file(str(tmp_path / "missing.toml"))
    assert isinstance(caught.value.__cause__, FileNotFoundError)


def test_invalid_toml_keeps_the_decode_error(tmp_path: Path) -> None:
    path = tmp_path / "gatepass.toml"
    path.write_text("port = = 1\n")
    with pytest.raises(ConfigurationError, match="not valid TOML") as caught:
        load_config_file(str(path))
    assert isinstance(caught.value.__cause__, tomllib.TOMLDecodeError)


def test_bad_setting_keeps_the_parse_error_and_names_its_source() -> None:
    with pytest.raises(ConfigurationError, match="invalid GATEPASS_PORT: port must be an integer") as caught:
        resolve_settings({}, {"GATEPASS_PORT": "eighty"}, {})
    inner = caught.value.__cause__
    assert isinstance(inner, ConfigurationError) and inner.message == "port must be an integer (got 'eighty')"
    assert isinstance(inner.__cause__, ValueError)


def test_bad_app_config_number_keeps_the_value_error() -> None:
    with pytest.raises(ConfigurationError, match="access_token_validity must be a number") as caught:
        build_app_config({"access_token_validity": "soon"})
    assert isinstance(caught.value.__cause__, ValueError)


def test_port_in_use_keeps_the_os_error() -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        with pytest.raises(ConfigurationError, match="already in use") as caught:
            bind_listener("127.0.0.1", port, "--port")
    assert isinstance(caught.value.__cause__, OSError) and caught.value.__cause__.errno is not None


# the cause is the scrubbed stand-in ------------------------------------------------------------------------------
def test_unreachable_postgres_chains_the_driver_reason_without_the_password() -> None:
    url = f"postgresql://gatepass:{SECRET}@127.0.0.1:1/db"
    with pytest.raises(StorageError, match="Connection refused") as caught:
        PostgresStorage(url, redact(url), timeout_s=30)
    cause = _scrubbed_cause(caught.value)
    assert cause.driver_class == "psycopg.OperationalError" and "Connection refused" in cause.message
    _assert_no_secret(caught.value)


def test_driver_message_quoting_the_password_is_scrubbed_in_the_cause() -> None:
    # libpq quotes the bad token of a malformed URL, and here that token is the password
    url = f"postgresql://gatepass:{SECRET}%zz@127.0.0.1:1/db"
    with pytest.raises(StorageError, match="percent-encoded") as caught:
        open_storage(url)
    cause = _scrubbed_cause(caught.value)
    assert cause.driver_class == "psycopg.ProgrammingError" and '"***"' in cause.message
    _assert_no_secret(caught.value)


def test_pool_failure_chains_a_scrubbed_cause(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # the direct check passes (as when the server goes away between it and the pool), so the pool's own error is raised
    def no_check(self: Any) -> dict[str, Any]:
        return {"connect_timeout": 2}

    monkeypatch.setattr(PostgresStorage, "_check_connection", no_check)
    url = f"postgresql://gatepass:{SECRET}%zz@127.0.0.1:1/db"
    with caplog.at_level(logging.WARNING, "psycopg.pool"), pytest.raises(StorageError) as caught:
        PostgresStorage(url, redact(url), timeout_s=1)
    cause = _scrubbed_cause(caught.value)
    assert cause.driver_class == "psycopg_pool.PoolTimeout"
    _assert_no_secret(caught.value)
    assert SECRET not in caplog.text


def test_unparsable_netloc_is_scrubbed_in_the_cause() -> None:
    # urlsplit quotes the whole netloc when NFKC normalisation turns a character into a delimiter (U+FF20 is '@')
    with pytest.raises(ConfigurationError, match="invalid PostgreSQL URL") as caught:
        open_storage(f"postgresql://gatepass:{SECRET}\uff20x@127.0.0.1/db")
    cause = _scrubbed_cause(caught.value)
    assert cause.driver_class == "builtins.ValueError" and "NFKC" in cause.message
    _assert_no_secret(caught.value)
