"""Where a request came from, for "your devices" (``session.init(client_info=...)``, off by default): the SDK
sends it to the core at every login and refresh (gatepass's ``clientInfo`` extension), which keeps where each
session was created from and last refreshed from.

``True`` takes the peer's address as the server saw it and the ``User-Agent`` header. Behind a reverse proxy the
peer is the proxy: pass a function of the request instead, reading what your proxy adds (for ``X-Forwarded-For``,
the last entry, which your proxy appended; earlier ones are whatever the client sent). Whatever the source, the
result is cleaned by ``ClientInfo.clean`` before it is sent, and a source that raises records nothing (logged): a
login never fails for want of a device name.
"""

from __future__ import annotations

import inspect
import ipaddress
import logging
from collections.abc import Callable
from typing import Any

from gatepass.errors import ConfigurationError
from gatepass.protocol.cdi import ClientInfo
from gatepass.recipe.session.http_types import RequestView

log = logging.getLogger("gatepass.session")

ClientInfoSource = Callable[[RequestView], ClientInfo | None]


def peer_and_user_agent(request: RequestView) -> ClientInfo | None:
    """The default source: the peer's address and the ``User-Agent`` header."""
    return ClientInfo.clean(request.client or None, request.header("user-agent"))


def client_info_source(option: Any) -> ClientInfoSource | None:
    """The ``client_info`` option as a source: ``False`` (none), ``True`` (the default) or a function."""
    if option is False or option is None:
        return None
    if option is True:
        return peer_and_user_agent
    if callable(option) and not inspect.iscoroutinefunction(option):
        source: ClientInfoSource = option
        return source
    raise ConfigurationError(
        "client_info must be true, false or a (plain, not async) function of the request returning a ClientInfo"
    )


def client_info_of(source: ClientInfoSource | None, request: RequestView | None) -> ClientInfo | None:
    """What ``source`` says of ``request``, cleaned; ``None`` without a source or a request, or if it fails."""
    if source is None or request is None:
        return None
    try:
        info = source(request)
    except Exception as exc:  # the app's function: a failure must not fail the login or the refresh
        log.warning("client_info source failed (%s): nothing recorded for this request", type(exc).__name__)
        return None
    if not isinstance(info, ClientInfo):
        return None
    ip: object = info.ip
    if isinstance(ip, ipaddress.IPv4Address | ipaddress.IPv6Address):
        ip = str(ip)
    agent = info.user_agent
    return ClientInfo.clean(ip if isinstance(ip, str) else None, agent if isinstance(agent, str) else None)
