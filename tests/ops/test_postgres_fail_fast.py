"""Defect 17: a wrong PostgreSQL URL fails at once with libpq's reason on the last line, not a PoolTimeout."""

from __future__ import annotations

import subprocess
import sys
from urllib.parse import urlsplit

import pytest

from gatepass.errors import StorageError
from gatepass.storage.postgres import PostgresStorage
from gatepass.storage.url import ScrubbedCause
from tests.helpers import POSTGRES_URL, free_port

GATEPASS = [sys.executable, "-m", "gatepass.cli"]


def _with(**changes: str) -> str:
    return urlsplit(POSTGRES_URL)._replace(**changes).geturl()


def _core_stderr(url: str) -> tuple[int, list[str]]:
    result = subprocess.run(
        [*GATEPASS, "core", "--port", "0", "--database-url", url], capture_output=True, text=True, timeout=60
    )
    assert "Traceback" not in result.stderr and "PoolTimeout" not in result.stderr, result.stderr
    return result.returncode, result.stderr.strip().splitlines()


@pytest.mark.postgres
def test_defect_17_wrong_database_name_names_the_cause(postgres_url: str) -> None:
    code, lines = _core_stderr(_with(path="/gatepass_no_such_db", query=""))
    assert code == 2
    assert lines[-1].startswith("gatepass core: cannot connect to PostgreSQL")
    assert 'database "gatepass_no_such_db" does not exist' in lines[-1]


@pytest.mark.postgres
def test_defect_17_wrong_role_names_the_cause_without_the_password(postgres_url: str) -> None:
    host = urlsplit(POSTGRES_URL).netloc.rpartition("@")[2]
    code, lines = _core_stderr(_with(netloc=f"gatepass_no_such_role:pw-0xdeadbeef@{host}", query=""))
    assert code == 2
    assert 'role "gatepass_no_such_role" does not exist' in lines[-1]
    assert "pw-0xdeadbeef" not in "\n".join(lines)


def test_defect_17_closed_port_names_the_cause() -> None:
    code, lines = _core_stderr(f"postgresql://127.0.0.1:{free_port()}/db")
    assert code == 2
    assert "Connection refused" in lines[-1] and len(lines) == 1


def test_defect_17_storage_error_comes_from_the_direct_connection() -> None:
    with pytest.raises(StorageError, match="Connection refused") as caught:
        PostgresStorage(f"postgresql://127.0.0.1:{free_port()}/db", "the test database", timeout_s=30)
    # the driver's exception may quote the password: its class and scrubbed reason are chained, not itself
    assert isinstance(caught.value.__cause__, ScrubbedCause) and caught.value.__context__ is None


@pytest.mark.postgres
def test_defect_17_multi_host_urls_reach_libpq(postgres_url: str) -> None:
    # libpq tries the hosts in turn: a closed port first, then the real server
    parts = urlsplit(postgres_url)
    url = parts._replace(netloc=f"127.0.0.1:{free_port()},{parts.netloc.rpartition('@')[2]}").geturl()
    storage = PostgresStorage(url, "multi-host")
    storage.close()
