"""A database outage is a clear 503 (never a 500, never a half-written session), and the core recovers."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import httpx
import psycopg

from gatepass.core.app_config import AppConfig
from gatepass.core.http_app import CoreHttpApp
from gatepass.core.runtime import CoreRuntime
from gatepass.storage.sqlite import SqliteStorage
from tests.helpers import POSTGRES_URL, serve_in_thread


def _kill_connections(application_name: str) -> int:
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %s", (application_name,)
        ).fetchall()
    return len(rows)


def test_postgres_connections_dropped_mid_flight(postgres_url: str) -> None:
    name = "gatepass-outage-test"
    runtime = CoreRuntime.open(postgres_url + f"&application_name={name}", AppConfig())
    try:
        with serve_in_thread(CoreHttpApp(runtime)) as base, httpx.Client(base_url=base) as client:
            created = client.post("/public/recipe/session", json={"userId": "u"})
            assert created.status_code == 200
            assert _kill_connections(name) >= 1
            statuses = []
            for _ in range(3):  # the pool notices the broken connections and reconnects
                response = client.post(
                    "/recipe/session/refresh",
                    json={"refreshToken": created.json()["refreshToken"]["token"], "useDynamicSigningKey": True},
                )
                statuses.append(response.status_code)
                if response.status_code == 503:
                    assert response.text == "Service unavailable: the database cannot be reached"
            assert 500 not in statuses
            assert statuses[-1] == 200
            assert statuses[0] in (200, 503)
    finally:
        runtime.close()


def test_sqlite_database_locked_elsewhere_is_503(tmp_path: Path) -> None:
    path = tmp_path / "locked.db"
    storage = SqliteStorage(str(path), busy_timeout_s=0.2)
    runtime = CoreRuntime(storage, AppConfig())
    blocker = sqlite3.connect(path, isolation_level=None)
    try:
        with serve_in_thread(CoreHttpApp(runtime)) as base, httpx.Client(base_url=base) as client:
            client.get("/.well-known/jwks.json")  # keys exist before the lock
            blocker.execute("BEGIN EXCLUSIVE")
            response = client.post("/public/recipe/session", json={"userId": "u"})
            assert response.status_code == 503 and "database" in response.text
            blocker.execute("ROLLBACK")
            assert client.post("/public/recipe/session", json={"userId": "u"}).status_code == 200
            with storage.read() as tx:
                assert len(tx.handles_for_user("public", "u", None, int(time.time() * 1000))) == 1
    finally:
        blocker.close()
        runtime.close()
