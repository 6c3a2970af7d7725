"""One contract suite, run against every backend through the ``database_url`` fixture."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from gatepass.errors import ConfigurationError, StorageError, StorageFault
from gatepass.protocol.cdi_base import ClientInfo
from gatepass.storage.contract import Promotion, SessionRow, Storage, StoredKey
from gatepass.storage.opening import open_storage
from gatepass.storage.schema import LATEST_VERSION
from gatepass.storage.url import redact

NOW = 1_800_000_000_000


@pytest.fixture
def storage(database_url: str) -> Iterator[Storage]:
    opened = open_storage(database_url)
    try:
        yield opened
    finally:
        opened.close()


def _row(handle: str, user: str = "u1", tenant: str = "public", expires: int = NOW + 60_000) -> SessionRow:
    return SessionRow("public", handle, tenant, user, "hash2", {"d": 1}, {"p": 2}, expires, NOW, False)


def test_schema_is_versioned_and_reopening_is_idempotent(database_url: str) -> None:
    for _ in range(2):
        opened = open_storage(database_url)
        with opened.read() as tx:
            rows = tx._fetchall("SELECT version FROM gatepass_schema")  # type: ignore[attr-defined]
        assert [int(r[0]) for r in rows] == list(range(1, LATEST_VERSION + 1))
        opened.close()


def test_lookups_by_user_use_the_user_and_creation_index(tmp_path: Path) -> None:
    opened = open_storage(f"sqlite:///{tmp_path / 'plan.db'}")
    try:
        with opened.read() as tx:
            indexes = {r[0] for r in tx._fetchall("SELECT name FROM sqlite_master WHERE type = 'index'")}  # type: ignore[attr-defined]
            plan = tx._fetchall(  # type: ignore[attr-defined]
                "EXPLAIN QUERY PLAN SELECT session_handle FROM session_info WHERE app_id = ? AND user_id = ?",
                ("public", "u1"),
            )
        assert "session_info_user" not in indexes and "session_info_user_created" in indexes
        assert any("session_info_user_created" in str(step) for step in plan)
    finally:
        opened.close()


def test_session_round_trip_and_expiry_means_absent(storage: Storage) -> None:
    with storage.transaction() as tx:
        tx.insert_session(_row("h1"))
        tx.insert_session(_row("h2", expires=NOW - 1))
    with storage.read() as tx:
        row = tx.get_session("public", "h1", NOW)
        assert row == _row("h1")
        assert tx.get_session("public", "h2", NOW) is None
        assert tx.get_session("other-app", "h1", NOW) is None
        assert tx.handles_for_user("public", "u1", None, NOW) == ["h1"]


def test_updates_touch_only_live_sessions(storage: Storage) -> None:
    with storage.transaction() as tx:
        tx.insert_session(_row("h1"))
        tx.insert_session(_row("gone", expires=NOW - 1))
        assert tx.update_session_data("public", "h1", {"new": True}, NOW)
        assert tx.update_jwt_payload("public", "h1", {"claim": "x"}, NOW)
        assert not tx.update_session_data("public", "gone", {}, NOW)
        assert not tx.update_jwt_payload("public", "missing", {}, NOW)
        tx.promote("public", "h1", Promotion("hash2b", "hash2", NOW + 99, NOW))
        tx.set_use_static_key("public", "h1", True)
    with storage.read() as tx:
        row = tx.get_session("public", "h1", NOW)
    assert row is not None
    assert (row.session_data, row.jwt_payload, row.refresh_token_hash2, row.expires_at_ms, row.use_static_key) == (
        {"new": True},
        {"claim": "x"},
        "hash2b",
        NOW + 99,
        True,
    )


def test_delete_by_handle_user_and_tenant(storage: Storage) -> None:
    with storage.transaction() as tx:
        tx.insert_session(_row("a"))
        tx.insert_session(_row("b_t1", tenant="t1"))
        tx.insert_session(_row("c", user="u2"))
        tx.insert_session(_row("old", expires=NOW - 1))
    with storage.transaction() as tx:
        assert tx.delete_sessions("public", ["old", "nope", "c", "c"], NOW) == ["c"]
        assert tx.delete_sessions_for_user("public", "u1", "t1", NOW) == ["b_t1"]
        assert tx.delete_sessions_for_user("public", "u1", None, NOW) == ["a"]
        assert tx.delete_expired_sessions(NOW) == 0  # "old" went with the handle delete


def test_delete_expired_sessions(storage: Storage) -> None:
    with storage.transaction() as tx:
        tx.insert_session(_row("live"))
        tx.insert_session(_row("dead", expires=NOW))
        assert tx.delete_expired_sessions(NOW) == 1
        assert tx.handles_for_user("public", "u1", None, NOW) == ["live"]


def test_failed_transaction_leaves_nothing(storage: Storage) -> None:
    with pytest.raises(RuntimeError), storage.transaction() as tx:
        tx.insert_session(_row("h1"))
        raise RuntimeError("boom")
    with storage.read() as tx:
        assert tx.get_session("public", "h1", NOW) is None


def test_duplicate_handle_is_a_storage_fault_and_rolls_back(storage: Storage) -> None:
    """A constraint violation is our bug, not an outage: StorageFault (500), never StorageError (503)."""
    with storage.transaction() as tx:
        tx.insert_session(_row("h1"))
    with pytest.raises(StorageFault) as raised, storage.transaction() as tx:
        tx.insert_session(_row("h2"))
        tx.insert_session(_row("h1"))
    assert not isinstance(raised.value, StorageError)
    assert "h1" not in raised.value.message  # no row values from the driver's message
    with storage.read() as tx:
        assert tx.get_session("public", "h2", NOW) is None


def test_apps_tenants_keys_and_values(storage: Storage) -> None:
    with storage.transaction() as tx:
        assert tx.upsert_app("a1", '{"x":1}', NOW) is True
        assert tx.upsert_app("a1", '{"x":2}', NOW) is False
        assert tx.app_config("a1") == '{"x":2}'
        assert tx.tenant_exists("a1", "public")
        assert tx.upsert_tenant("a1", "t1", NOW) and not tx.upsert_tenant("a1", "t1", NOW)
        tx.insert_dynamic_key("a1", 10, "v10")
        tx.insert_dynamic_key("a1", 20, "v20")
        assert [k.kid for k in tx.dynamic_keys("a1")] == ["d-20", "d-10"]
        assert tx.delete_dynamic_keys_before("a1", 15) == 1
        tx.insert_static_key_if_absent("a1", StoredKey("s-1", NOW, "first"), "RS256")
        tx.insert_static_key_if_absent("a1", StoredKey("s-2", NOW, "second"), "RS256")
        assert tx.static_key("a1", "RS256") == StoredKey("s-1", NOW, "first")
        tx.insert_value_if_absent("a1", "k", "v1", NOW)
        tx.insert_value_if_absent("a1", "k", "v2", NOW)
        assert tx.get_value("a1", "k") == "v1"
        tx.insert_session(SessionRow("a1", "h", "public", "u", "x", {}, {}, NOW + 1, NOW, False))
    with storage.transaction() as tx:
        assert tx.delete_app("a1") is True
        assert tx.app_config("a1") is None and tx.dynamic_keys("a1") == [] and tx.get_value("a1", "k") is None
        assert tx.get_session("a1", "h", NOW) is None
        assert tx.delete_app("a1") is False


def test_unusable_locations_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(StorageError, match="cannot open SQLite"):
        open_storage(f"sqlite:///{tmp_path}/missing-dir/x.db")
    with pytest.raises(ConfigurationError):
        open_storage("sqlite://relative.db")
    with pytest.raises(ConfigurationError):
        open_storage("redis://127.0.0.1")
    with pytest.raises(StorageError, match="cannot connect"):
        open_storage("postgresql://127.0.0.1:1/none")


def test_redact() -> None:
    assert redact("postgresql://u:pw@h:5432/db") == "postgresql://u:***@h:5432/db"
    assert redact("postgresql://u@h/db") == "postgresql://u@h/db"
    assert redact("sqlite:///x.db") == "sqlite:///x.db"


def test_session_metadata_round_trips_and_moves_with_activity(storage: Storage) -> None:
    """Schema 3's columns: per-session options, the grace record, last activity and clients (issue 13)."""
    laptop, phone = ClientInfo("192.0.2.1", "Firefox"), ClientInfo("2001:db8::1", None)
    row = replace(_row("m1"), refresh_validity_ms=600_000, browser_session=True, created_client=laptop,
                  last_client=laptop)  # fmt: skip
    with storage.transaction() as tx:
        tx.insert_session(row)
        tx.insert_session(replace(_row("m0"), created_at_ms=NOW - 5))  # older: listed first
        tx.lock_user("public", "u1")  # serialises creation for one user; within one transaction, re-entrant
        tx.lock_user("public", "u1")
    with storage.transaction() as tx:
        tx.record_activity("public", "m1", NOW + 10, None)  # no client given: the last one stays
        stored = tx.get_session("public", "m1", NOW)
        assert stored is not None and stored.last_active_at_ms == NOW + 10 and stored.last_client == laptop
        tx.promote("public", "m1", Promotion("hash2c", "hash2", NOW + 99_000, NOW + 20, phone))
    with storage.read() as tx:
        listed = tx.sessions_for_user("public", "u1", None, NOW)
    assert [r.session_handle for r in listed] == ["m0", "m1"]
    moved = listed[1]
    assert (moved.refresh_validity_ms, moved.browser_session, moved.created_client) == (600_000, True, laptop)
    assert (moved.last_active_at_ms, moved.last_client, moved.superseded_at_ms) == (NOW + 20, phone, NOW + 20)
    assert moved.previous_refresh_token_hash2 == "hash2" and moved.refresh_token_hash2 == "hash2c"
    assert listed[0].last_active_at_ms is None and listed[0].created_client is None  # nothing recorded: None


@pytest.mark.parametrize(
    ("ip", "agent", "expected"),
    [
        (" 192.0.2.7 ", "curl/8\x00\r\n", ClientInfo("192.0.2.7", "curl/8")),
        ("testclient", "\ud800agent", ClientInfo(None, "?agent")),  # not an address; a lone surrogate
        ("::ffff:1.2.3.4", "x" * 600, ClientInfo("::ffff:102:304", "x" * 512)),
        ("999.1.1.1", "\x00\x1f", None),  # nothing recordable is left
    ],
)
def test_client_info_is_cleaned_by_one_rule(ip: str, agent: str, expected: ClientInfo | None) -> None:
    assert ClientInfo.clean(ip, agent) == expected
    assert ClientInfo.from_json({"ip": ip, "userAgent": agent}) == expected
    assert ClientInfo.from_json(["not", "an", "object"]) is None
