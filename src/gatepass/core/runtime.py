"""Everything one core process (or one embedded core) holds: storage, apps and the session service."""

from __future__ import annotations

from gatepass.core.app_config import AppConfig
from gatepass.core.apps import AppRegistry
from gatepass.core.clock import Clock, system_clock
from gatepass.core.sessions import SessionService
from gatepass.storage.contract import Storage
from gatepass.storage.url import open_storage


class CoreRuntime:
    def __init__(self, storage: Storage, base_config: AppConfig | None = None, clock: Clock = system_clock) -> None:
        self.storage = storage
        self.clock = clock
        self.apps = AppRegistry(storage, base_config or AppConfig(), clock)
        self.sessions = SessionService(storage, clock)

    @classmethod
    def open(cls, database_url: str, base_config: AppConfig | None = None, clock: Clock = system_clock) -> CoreRuntime:
        return cls(open_storage(database_url), base_config, clock)

    def close(self) -> None:
        self.storage.close()
