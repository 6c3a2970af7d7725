from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import create_pg_schema, drop_pg_schema, postgres_available

os.environ.setdefault("SUPERTOKENS_ENV", "testing")

_PG_OK: bool | None = None


def _require_postgres() -> None:
    global _PG_OK
    if _PG_OK is None:
        _PG_OK = postgres_available()
    if not _PG_OK:
        pytest.skip("PostgreSQL is not reachable (set GATEPASS_TEST_POSTGRES_URL)")


@pytest.fixture
def postgres_url() -> Iterator[str]:
    _require_postgres()
    schema, url = create_pg_schema()
    try:
        yield url
    finally:
        drop_pg_schema(schema)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The same test against each backend: a fresh SQLite file, or a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'gatepass.db'}"
    else:
        yield request.getfixturevalue("postgres_url")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """With GATEPASS_FORBID_SKIPS=1 (CI), a skipped test fails the run: PostgreSQL tests must really run."""
    if os.environ.get("GATEPASS_FORBID_SKIPS") != "1":
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = len(reporter.stats.get("skipped", [])) if reporter else 0
    if skipped:
        if reporter:
            reporter.write_line(f"FAILED: {skipped} test(s) were skipped and GATEPASS_FORBID_SKIPS=1", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
