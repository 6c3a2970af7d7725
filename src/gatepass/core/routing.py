"""CDI path routing (pure): ``/X``, ``/<tenant>/X``, ``/appid-<app>/X`` and ``/appid-<app>/<tenant>/X``.

The path is lower-cased and a trailing slash ignored, as upstream. ``appid-public`` and tenant ``public`` name
the defaults. A path that matches no API is ``None`` (the server answers 404).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from gatepass.core.apps import DEFAULT_APP, DEFAULT_TENANT


@dataclass(frozen=True)
class Route:
    """Which app and tenant a request is for, and the API path without the app and tenant prefixes."""

    app_id: str
    tenant_id: str
    api_path: str


def split_path(raw_path: str, known_paths: Collection[str]) -> Route | None:
    """The route of a request path (the forms above), or None if it names no API in ``known_paths``."""
    path = raw_path.lower().rstrip("/")
    segments = path.split("/")[1:] if path else []
    app_id = DEFAULT_APP
    if segments and segments[0].startswith("appid-"):
        app_id = segments[0][len("appid-") :]
        segments = segments[1:]
        if not app_id:
            return None
    api_path = "/" + "/".join(segments)
    if api_path in known_paths:
        return Route(app_id, DEFAULT_TENANT, api_path)
    if len(segments) >= 2:
        api_path = "/" + "/".join(segments[1:])
        tenant = segments[0]
        if api_path in known_paths and not tenant.startswith("appid-"):
            return Route(app_id, tenant, api_path)
    return None
