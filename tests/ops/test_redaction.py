"""Defect 09: database passwords, wherever libpq accepts them in a URL, never reach a log line or an error."""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gatepass.core.settings import resolve_settings
from gatepass.storage.postgres import _ScrubSecrets, one_line
from gatepass.storage.url import redact, scrub, secrets_in
from tests.helpers import running_core

SECRET = "Xy7-s3cr3t"
GATEPASS = [sys.executable, "-m", "gatepass.cli"]


@pytest.mark.parametrize(
    "url",
    [
        f"postgresql://u:{SECRET}@h:5432/db",
        f"postgres://u:{SECRET}@h/db?sslmode=require",
        f"postgresql://h/db?password={SECRET}",
        f"postgresql://h/db?sslmode=require&password={SECRET}&application_name=x",
        f"postgresql://h/db?PASSWORD={SECRET}",
        f"postgresql://h/db?Password={SECRET}",
        f"postgresql://h/db?%70assword={SECRET}",  # libpq percent-decodes query keys
        f"postgresql://h/db?%50ASSWORD={SECRET}",
        f"postgresql://h/db?sslpassword={SECRET}",
        f"postgresql://h/db?SSLPassword={SECRET}",
        f"postgresql://h/db?oauth_client_secret={SECRET}",
        f"postgresql://u:{SECRET}@h/db?password={SECRET}2&sslpassword={SECRET}3",
        f"postgresql://u:{SECRET}@ss@h/db",  # '@' in a password: masked under libpq's and urlsplit's reading
        f"postgresql://u:{SECRET}?x@h/db",  # '?' in a password: libpq keeps it in the userinfo
        f"postgresql://u:{SECRET}#x@h/db",
        f"postgresql://h?password={SECRET}@x",  # no slash: the '@' must not hide the query from redaction
        f"postgresql://h:5432?password=a@{SECRET}",
        f"postgresql://h?sslmode=require&password={SECRET}",
        f"host=h user=u password={SECRET} dbname=db",  # libpq keyword/value form
        f"host=h password = '{SECRET} with spaces' dbname=db",
        f"host=h sslpassword={SECRET}",
    ],
)
def test_defect_09_password_in_query_string_redacted(url: str) -> None:
    redacted = redact(url)
    assert SECRET not in redacted
    assert "***" in redacted
    assert scrub(f"driver said: {url}", url).count(SECRET) == 0


def test_defect_09_redaction_keeps_what_is_not_secret() -> None:
    url = "postgresql://u:pw@db.internal:5433/sessions?sslmode=verify-full&sslkey=/etc/k.pem&passfile=/home/u/.pgpass"
    assert redact(url) == (
        "postgresql://u:***@db.internal:5433/sessions?sslmode=verify-full&sslkey=/etc/k.pem&passfile=/home/u/.pgpass"
    )
    assert redact("postgresql://u@h/db") == "postgresql://u@h/db"
    assert redact("sqlite:///x.db") == "sqlite:///x.db"
    assert redact("postgresql://h/db?application_name=password") == "postgresql://h/db?application_name=password"


def test_defect_09_percent_encoded_password_is_scrubbed_in_both_forms() -> None:
    url = "postgresql://u:p%40ss%2Fw0rd@h/db"
    assert set(secrets_in(url)) >= {"p%40ss%2Fw0rd", "p@ss/w0rd"}
    assert scrub('bad token "p@ss/w0rd" and "p%40ss%2Fw0rd"', url) == 'bad token "***" and "***"'


@given(st.text(alphabet=st.characters(blacklist_characters="&/@", blacklist_categories=["Cs"]), min_size=4))
def test_defect_09_any_query_password_is_redacted(secret: str) -> None:
    for key in ("password", "sslpassword", "oauth_client_secret"):
        url = f"postgresql://h/db?a=1&{key}={secret}"
        assert redact(url) == f"postgresql://h/db?a=1&{key}=***"


def test_defect_09_driver_messages_are_one_line_without_the_password() -> None:
    url = "postgresql://u:p%zzw@h/db"
    message = 'connection failed: invalid percent-encoded token: "p%zzw"\n\tmore  detail\n'
    assert one_line(message, url) == 'invalid percent-encoded token: "***"; more detail'


def test_defect_09_pool_warnings_are_scrubbed(caplog: pytest.LogCaptureFixture) -> None:
    url = f"postgresql://h/db?password={SECRET}"
    logger = logging.getLogger("psycopg.pool")
    scrubber = _ScrubSecrets(url)
    logger.addFilter(scrubber)
    try:
        with caplog.at_level(logging.WARNING, "psycopg.pool"):
            logger.warning("error connecting in %r: %s", "pool-1", f"token {SECRET} rejected")
    finally:
        logger.removeFilter(scrubber)
    assert SECRET not in caplog.text and "token *** rejected" in caplog.text


def test_defect_09_settings_repr_hides_the_database_url() -> None:
    settings = resolve_settings({"database_url": f"postgresql://h/db?password={SECRET}"}, {}, {})
    assert SECRET not in repr(settings)


def test_defect_09_core_never_logs_query_string_passwords(tmp_path: Path, postgres_url: str) -> None:
    # trust authentication ignores the passwords, so the core starts and logs its start-up line
    url = f"{postgres_url}&password={SECRET}a&sslpassword={SECRET}b&%70assword={SECRET}c"
    with running_core(url, tmp_path / "core.log"):
        pass
    log = (tmp_path / "core.log").read_text()
    assert "listening on" in log and SECRET not in log and "password=***" in log


def test_defect_09_malformed_url_error_hides_the_password() -> None:
    url = f"postgresql://u:{SECRET}%zz@127.0.0.1:1/db"
    result = subprocess.run(
        [*GATEPASS, "core", "--port", "0", "--database-url", url], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert SECRET not in result.stderr and "Traceback" not in result.stderr
    assert "percent-encoded" in result.stderr.splitlines()[-1]


def test_defect_09_unsupported_url_error_hides_the_password() -> None:
    result = subprocess.run(
        [*GATEPASS, "core", "--port", "0", "--database-url", f"host=h password={SECRET}"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2 and "unsupported database URL" in result.stderr and SECRET not in result.stderr


@given(st.text(alphabet=st.characters(blacklist_characters="/", blacklist_categories=["Cs"]), min_size=1))
def test_defect_09_any_userinfo_password_is_redacted(secret: str) -> None:
    assert (
        redact(f"postgresql://u:{secret}@h:5432/db?sslmode=require") == "postgresql://u:***@h:5432/db?sslmode=require"
    )


@given(st.text(min_size=1), st.lists(st.text(min_size=1), max_size=4))
def test_defect_09_scrub_leaves_no_secret_behind(message: str, extra: list[str]) -> None:
    # overlapping secrets merge into one mask, so no secret survives in pieces
    from gatepass.storage.url import _mask_all

    secrets = [message[: len(message) // 2 + 1], *extra]
    masked = _mask_all(message + "".join(extra), secrets)
    assert all(value not in masked for value in secrets if "*" not in value)  # a "*" could match the mask itself
