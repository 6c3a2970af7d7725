"""Apps and tenants: which exist, their effective config and their keyrings, cached per process.

An app's stored ``coreConfig`` holds only its own overrides; the effective config is the server's base config with
those applied, as upstream. Cached entries are re-read after ``CACHE_TTL_MS`` so that a config change made through
another core process on the same database is picked up.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from typing import Any

from gatepass.core.app_config import AppConfig, build_app_config
from gatepass.core.clock import Clock
from gatepass.core.identifiers import require_known_shape, validate_new_id
from gatepass.core.keyring import AppKeyring
from gatepass.errors import BadRequest, UnknownAppOrTenant
from gatepass.storage.contract import Storage

DEFAULT_APP = "public"
DEFAULT_TENANT = "public"
CACHE_TTL_MS = 5_000


@dataclass
class AppContext:
    """What the core knows about one app: its effective config, its keyring and the tenants seen so far."""

    app_id: str
    config: AppConfig
    keyring: AppKeyring
    loaded_at_ms: int
    tenants: set[str] = field(default_factory=lambda: {DEFAULT_TENANT})


class AppRegistry:
    """The apps of one database, cached per process; creates the default app ``public`` if it is missing."""

    def __init__(self, storage: Storage, base_config: AppConfig, clock: Clock) -> None:
        self._storage = storage
        self._base = base_config
        self._clock = clock
        self._apps: dict[str, AppContext] = {}
        self._lock = threading.Lock()
        now = clock()
        with storage.transaction() as tx:
            if tx.app_config(DEFAULT_APP) is None:
                tx.upsert_app(DEFAULT_APP, "{}", now)

    @property
    def base_config(self) -> AppConfig:
        """The server's config, on which each app's overrides are applied."""
        return self._base

    def cached(self, app_id: str, tenant_id: str) -> AppContext | None:
        """The app's context if it is cached, fresh and knows the tenant; never touches the database."""
        ctx = self._apps.get(app_id)
        if ctx is None or self._clock() - ctx.loaded_at_ms >= CACHE_TTL_MS or tenant_id not in ctx.tenants:
            return None
        return ctx

    def get(self, app_id: str) -> AppContext:
        """The app's context; unknown apps raise ``UnknownAppOrTenant``."""
        ctx = self._apps.get(app_id)
        now = self._clock()
        if ctx is not None and now - ctx.loaded_at_ms < CACHE_TTL_MS:
            return ctx
        require_known_shape("appId", app_id)
        with self._storage.read() as tx:
            raw = tx.app_config(app_id)
        if raw is None:
            with self._lock:
                self._apps.pop(app_id, None)
            raise UnknownAppOrTenant(f"AppId {app_id} not found")
        config = build_app_config(json.loads(raw), base=self._base)
        with self._lock:
            ctx = self._apps.get(app_id)
            if ctx is None:
                ctx = AppContext(app_id, config, AppKeyring(self._storage, app_id, self._clock), now)
                self._apps[app_id] = ctx
            else:
                ctx.config = config
                ctx.loaded_at_ms = now
        return ctx

    def require_tenant(self, ctx: AppContext, tenant_id: str) -> None:
        """Return if the app has the tenant; otherwise raise ``UnknownAppOrTenant``."""
        if tenant_id in ctx.tenants:
            return
        require_known_shape("tenantId", tenant_id)
        with self._storage.read() as tx:
            exists = tx.tenant_exists(ctx.app_id, tenant_id)
        if not exists:
            raise UnknownAppOrTenant(f"Tenant {tenant_id} not found in app {ctx.app_id}")
        ctx.tenants.add(tenant_id)

    def create_or_update_app(self, app_id: str, core_config: dict[str, Any]) -> bool:
        """Create the app, or merge ``core_config`` into its overrides (a null value removes an override)."""
        app_id = validate_new_id("appId", app_id)
        with self._storage.transaction() as tx:
            previous = tx.app_config(app_id)
            merged = {**(json.loads(previous) if previous else {}), **core_config}
            overrides = {k: v for k, v in merged.items() if v is not None}
            build_app_config(overrides, base=self._base)  # raises before anything is written
            created = tx.upsert_app(app_id, json.dumps(overrides, allow_nan=False), self._clock())
        with self._lock:
            self._apps.pop(app_id, None)
        return created

    def remove_app(self, app_id: str) -> bool:
        """Delete an app and everything in it (never the default app); True if it existed."""
        app_id = validate_new_id("appId", app_id)
        if app_id == DEFAULT_APP:
            raise BadRequest("The default app cannot be removed")
        with self._storage.transaction() as tx:
            existed = tx.delete_app(app_id)
        with self._lock:
            self._apps.pop(app_id, None)
        return existed

    def create_tenant(self, ctx: AppContext, tenant_id: str) -> bool:
        """Create a tenant in the app unless it exists; True if it was created."""
        tenant_id = validate_new_id("tenantId", tenant_id)
        with self._storage.transaction() as tx:
            created = tx.upsert_tenant(ctx.app_id, tenant_id, self._clock())
        ctx.tenants.add(tenant_id)
        return created
