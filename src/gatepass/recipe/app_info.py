"""Application info: API and website domains and the API base path, normalised and validated."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from urllib.parse import urlsplit

from gatepass.errors import ConfigurationError


def _normalise_domain(name: str, value: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConfigurationError(f"{name} must be a non-empty URL such as http://localhost:8000")
    text = value.strip()
    if "://" not in text:
        host = text.split("/")[0].split(":")[0]
        text = ("http://" if host in ("localhost", "127.0.0.1") or _is_ip(host) else "https://") + text
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigurationError(f"{name} must be an http(s) URL, got {value!r}")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ConfigurationError(f"{name} must not have a path, query or fragment, got {value!r}")
    return f"{parts.scheme}://{parts.netloc.lower()}"


def _normalise_base_path(value: str) -> str:
    if not isinstance(value, str):
        raise ConfigurationError("api_base_path must be a string such as /auth")
    text = "/" + value.strip().strip("/")
    if text == "/":
        return ""
    if any(c in text for c in "?#") or " " in text:
        raise ConfigurationError(f"api_base_path must be a plain path, got {value!r}")
    return text


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
        return True
    except ValueError:
        return False


def top_level_domain(host: str) -> str:
    """localhost and IP addresses stand for themselves; otherwise the last two labels (``api.example.com`` ->
    ``example.com``). Multi-label public suffixes such as ``co.uk`` are not recognised: set cookie_same_site
    explicitly for such domains."""
    if host == "localhost" or _is_ip(host):
        return host
    labels = host.split(".")
    return ".".join(labels[-2:])


@dataclass(frozen=True)
class AppInfo:
    """The app's name and where it is served. ``api_domain`` and ``website_domain`` are normalised to
    ``scheme://host[:port]`` (without a scheme: ``http`` for localhost and IP addresses, else ``https``),
    ``api_base_path`` to ``/path`` (``""`` for the root); a wrong value is a ``ConfigurationError``."""

    app_name: str
    api_domain: str
    website_domain: str
    api_base_path: str = "/auth"

    def __post_init__(self) -> None:
        if not isinstance(self.app_name, str) or not self.app_name.strip():
            raise ConfigurationError("app_name must be a non-empty string")
        object.__setattr__(self, "api_domain", _normalise_domain("api_domain", self.api_domain))
        object.__setattr__(self, "website_domain", _normalise_domain("website_domain", self.website_domain))
        object.__setattr__(self, "api_base_path", _normalise_base_path(self.api_base_path))

    @property
    def api_host(self) -> str:
        """The API domain's host name (no scheme, no port)."""
        return urlsplit(self.api_domain).hostname or ""

    @property
    def website_host(self) -> str:
        """The website domain's host name (no scheme, no port)."""
        return urlsplit(self.website_domain).hostname or ""

    @property
    def issuer(self) -> str:
        """The ``iss`` claim the SDK puts in access tokens: api domain + api base path."""
        return self.api_domain + self.api_base_path

    @property
    def refresh_path(self) -> str:
        """The path of the SDK's refresh API: ``{api_base_path}/session/refresh``."""
        return self.api_base_path + "/session/refresh"

    @property
    def signout_path(self) -> str:
        """The path of the SDK's sign-out API: ``{api_base_path}/signout``."""
        return self.api_base_path + "/signout"

    def both_local(self) -> bool:
        """Both domains are localhost or IP addresses (browsers then accept SameSite=None without Secure)."""
        return all(h == "localhost" or _is_ip(h) for h in (self.api_host, self.website_host))
