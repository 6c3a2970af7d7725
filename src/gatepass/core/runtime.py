"""Everything one core process (or one embedded core) holds: storage, apps and the session service."""

from __future__ import annotations

import os

from gatepass.core.app_config import AppConfig
from gatepass.core.apps import AppRegistry
from gatepass.core.clock import Clock, system_clock
from gatepass.core.issuing import Issuer, RandomBytes
from gatepass.core.session_records import SessionRecords
from gatepass.core.sessions import SessionService
from gatepass.core.verification import Verifier
from gatepass.storage.contract import Storage
from gatepass.storage.opening import open_storage


class CoreRuntime:
    """One core's storage, app registry and session services, sharing one clock and one source of randomness."""

    def __init__(
        self,
        storage: Storage,
        base_config: AppConfig | None = None,
        clock: Clock = system_clock,
        random_bytes: RandomBytes = os.urandom,
    ) -> None:
        self.storage = storage
        self.clock = clock
        self.apps = AppRegistry(storage, base_config or AppConfig(), clock)
        issuer = Issuer(random_bytes)
        self.sessions = SessionService(storage, clock, issuer)
        self.verifier = Verifier(storage, clock, issuer)
        self.records = SessionRecords(storage, clock)

    @classmethod
    def open(cls, database_url: str, base_config: AppConfig | None = None, clock: Clock = system_clock) -> CoreRuntime:
        """A runtime on the database at ``database_url`` (SQLite path or PostgreSQL URL)."""
        return cls(open_storage(database_url), base_config, clock)

    def close(self) -> None:
        """Close the storage."""
        self.storage.close()
