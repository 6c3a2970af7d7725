"""CORS settings for a browser front end on another origin: the headers the browser SDK sends and must read."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gatepass.recipe.session.transport import cors_allowed_headers, cors_expose_headers

if TYPE_CHECKING:
    from gatepass.recipe.instance import Gatepass


def get_all_cors_headers() -> list[str]:
    """Request headers to allow (``rid, fdi-version, anti-csrf, authorization, st-auth-mode``)."""
    return cors_allowed_headers()


def cors_middleware_options(gp: Gatepass, *, extra_origins: list[str] | None = None) -> dict[str, Any]:
    """Keyword arguments for Starlette's ``CORSMiddleware``: the website origin only (never ``*``), credentials
    allowed, the SDK's request headers plus ``content-type``, and the session headers exposed."""
    origins = [gp.app_info.website_domain, *(extra_origins or [])]
    return {
        "allow_origins": origins,
        "allow_credentials": True,
        "allow_methods": ["GET", "POST", "PUT", "DELETE", "OPTIONS"],
        "allow_headers": [*cors_allowed_headers(), "content-type"],
        "expose_headers": cors_expose_headers(),
    }
