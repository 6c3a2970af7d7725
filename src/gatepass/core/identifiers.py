"""Identifiers from outside, validated once at the edge with the same limits on every backend.

- App and tenant ids: as upstream (``Utils.normalizeAndValidateAppId`` / ``TenantId``): ``[a-z0-9-]+``, not
  starting with ``appid-``; tenant ids also not ``recipe``, ``config`` or ``users``. Upstream's PostgreSQL schema
  holds them in ``VARCHAR(64)``, so that is the maximum here too.
- User ids: any text up to ``MAX_USER_ID_CHARS`` (upstream's ``VARCHAR(128)``) without NUL, which PostgreSQL text
  cannot hold. Creating a session for another is a 400; looking one up (list, revoke) finds nothing, without a
  query, as upstream's lookup would. (Lone surrogates never get this far: ``gatepass.untrusted`` refuses them in
  JSON, and query strings are decoded with replacement characters.)
- Session handles: we mint ``<uuid4>`` or ``<uuid4>_<tenantId>``; anything longer than ``MAX_HANDLE_CHARS`` or with
  NUL cannot name a session, so handle-based APIs answer their "no such session" status without a lookup.
"""

from __future__ import annotations

import re
from typing import Any

from gatepass.errors import BadRequest, UnknownAppOrTenant

MAX_APP_OR_TENANT_ID_CHARS = 64
MAX_USER_ID_CHARS = 128
MAX_HANDLE_CHARS = 255
_ID = re.compile(r"[a-z0-9-]+")
_RESERVED_TENANT_IDS = frozenset({"recipe", "config", "users"})


def app_or_tenant_id_problem(kind: str, value: Any) -> str | None:
    """Why ``value`` cannot be an app or tenant id (``kind`` is ``appId`` or ``tenantId``), or ``None``."""
    if not isinstance(value, str) or not value:
        return f"{kind} should be a non-empty string"
    if len(value) > MAX_APP_OR_TENANT_ID_CHARS:
        return f"{kind} must be at most {MAX_APP_OR_TENANT_ID_CHARS} characters"
    if value.startswith("appid-"):
        return f"{kind} must not start with 'appid-'"
    if not _ID.fullmatch(value):
        return f"{kind} can only contain lower-case letters, numbers and hyphens"
    if kind == "tenantId" and value in _RESERVED_TENANT_IDS:
        return f"Cannot use '{value}' as a tenantId"
    return None


def validate_new_id(kind: str, value: Any) -> str:
    """An app or tenant id that a request wants to create or remove, trimmed and lower-cased as upstream does; a
    bad one is a 400 naming the rule."""
    normalised = value.strip().lower() if isinstance(value, str) else value
    problem = app_or_tenant_id_problem(kind, normalised)
    if problem:
        raise BadRequest(problem)
    assert isinstance(normalised, str)
    return normalised


def require_known_shape(kind: str, value: str) -> None:
    """An app or tenant id from a request path: one that cannot exist is answered like one that does not."""
    if app_or_tenant_id_problem(kind, value) is not None:
        label = "AppId" if kind == "appId" else "TenantId"
        raise UnknownAppOrTenant(f"{label} is not valid, so it does not exist")


def could_be_user_id(value: str) -> bool:
    """False for a string no session can belong to (lookups by it find nothing, as upstream's would)."""
    return len(value) <= MAX_USER_ID_CHARS and "\x00" not in value


def validate_user_id(value: str) -> str:
    """A user id a new session may have (the rules above); a bad one is a 400 naming the rule."""
    if len(value) > MAX_USER_ID_CHARS:
        raise BadRequest(f"Field name 'userId' is invalid: at most {MAX_USER_ID_CHARS} characters")
    if "\x00" in value:
        raise BadRequest("Field name 'userId' is invalid: it must not contain NUL")
    return value


def could_be_handle(value: str) -> bool:
    """False for a string that no session handle can equal (so no database lookup is needed)."""
    return 0 < len(value) <= MAX_HANDLE_CHARS and "\x00" not in value
