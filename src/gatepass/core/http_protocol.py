"""The HTTP/1.1 protocol every gatepass server runs: uvicorn's httptools protocol (llhttp, in C: about half the CPU
per request of the pure-Python h11 one) with the slow-client defences and the header-size cap uvicorn lacks.

Why not uvicorn settings: uvicorn 0.54 has no header- or body-read timeout at all. ``timeout_keep_alive`` runs only
*between* requests (it is cancelled by the first byte of the next one), and nothing runs on a fresh connection, so a
client that sends half a request line and then waits holds its socket forever. ``limit_concurrency`` does not help
either: it answers 503 only once a *complete* request has arrived, so half-sent requests are never counted against
it. And its httptools protocol keeps collecting header bytes without a limit. The fix cannot live in ASGI
middleware, because the app is called only after the headers are complete. So the protocol itself keeps one timer
per connection:

- from the connection's opening, or from the first byte of a later request, to the end of its headers;
- from the end of the headers to the end of the body (a total, so a byte-a-second client loses too);
- none while the app works on a complete request, nor between requests (uvicorn's keep-alive timer).

Headers over ``MAX_HEADER_BYTES`` are answered 431 and the connection closed. New connections beyond
``max_connections`` are closed at once with a 503, which bounds file descriptors. ``limits`` is set on a per-server
subclass (:func:`guarded_protocol`), because uvicorn builds the protocol from its config alone.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import ClassVar, Literal

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from gatepass.core.settings import ServerLimits

limits_log = logging.getLogger("gatepass.server")

MAX_HEADER_BYTES = 16 * 1024  # the request line and headers together, as h11's and Node's default
_TIMEOUT_RESPONSE = b"HTTP/1.1 408 Request Timeout\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
_BUSY_RESPONSE = b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
_HEADERS_TOO_LARGE = (
    b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-type: text/plain; charset=utf-8\r\n"
    b"content-length: 30\r\nconnection: close\r\n\r\nRequest headers are too large."
)

_Phase = Literal["idle", "headers", "body", "app"]  # where the request now being read stands


class GuardedHttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a header deadline, a body deadline, a header-size cap and a connection
    cap (the module docstring says why)."""

    limits: ClassVar[ServerLimits] = ServerLimits()
    _last_refusal_log: ClassVar[float] = 0.0

    _deadline: asyncio.TimerHandle | None = None
    _deadline_kind: Literal["", "header", "body"] = ""
    _phase: _Phase = "idle"
    _header_bytes = 0  # of the request line and headers parsed so far
    _unparsed_bytes = 0  # of the chunks that arrived while the headers were still incomplete
    _refused = False
    _refused_headers = False

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        """Refuse the connection with a 503 when ``max_connections`` are open; else start its header deadline."""
        if len(self.connections) >= self.limits.max_connections:
            self._refused = True
            self._log_refusal()
            transport.write(_BUSY_RESPONSE)
            transport.close()
            return
        super().connection_made(transport)
        self._arm("header")

    def connection_lost(self, exc: Exception | None) -> None:
        """Stop the deadline; a refused connection was never uvicorn's, so uvicorn is not told."""
        self._cancel()
        if not self._refused:
            super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        """Let the parser take the bytes, then bound what is still missing: headers by size and time, a body by
        time. Bytes that begin no request (llhttp skips bare CRLFs between requests) start the header clock too."""
        continuing = self._phase == "headers"  # these bytes continue headers that were already unfinished
        super().data_received(data)
        if self._refused_headers or self.transport.is_closing():
            return
        if self._phase == "headers" and continuing:
            self._unparsed_bytes += len(data)  # the parser may be holding an unfinished header: count it all
            if self._unparsed_bytes > MAX_HEADER_BYTES:
                self._refuse_headers()
                return
        self._follow(bytes_arrived=True)

    def on_response_complete(self) -> None:
        """After uvicorn's bookkeeping (it may start a pipelined request), the deadline follows the next request:
        one whose headers or body were left incomplete while the previous one ran gets its clock now."""
        pending = bool(self.pipeline)
        super().on_response_complete()
        if self._phase == "app" and not pending:
            self._phase = "idle"
        if not self.transport.is_closing():
            self._follow(bytes_arrived=False)

    def _previous_running(self) -> bool:
        """Whether an earlier request on this connection is still being answered (its time is not the next one's)."""
        if self._phase == "body":  # this request's cycle exists: an earlier one runs if it had to queue
            return bool(self.pipeline)
        cycle = self.cycle
        return cycle is not None and not cycle.response_complete

    def _follow(self, *, bytes_arrived: bool) -> None:
        phase = self._phase
        wanted: Literal["", "header", "body"] = ""
        if phase == "headers" or (phase == "idle" and bytes_arrived):
            wanted = "" if self._previous_running() else "header"
        elif phase == "body":
            wanted = "" if self._previous_running() else "body"
        if not wanted:
            if self._deadline_kind and phase != "idle":
                self._cancel()
        elif self._deadline_kind != wanted:
            self._arm(wanted)

    # parser callbacks: each tracks the phase, then lets uvicorn do its part; none after a 431 -------------------
    def on_message_begin(self) -> None:
        """The first byte of a request: its headers are now awaited."""
        if self._refused_headers:
            return
        self._phase, self._header_bytes, self._unparsed_bytes = "headers", 0, 0
        super().on_message_begin()

    def on_url(self, url: bytes) -> None:
        """A piece of the request target."""
        if self._refused_headers:
            return
        self._header_bytes += len(url)
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        """One header (or trailer); a request whose headers outgrow the cap is refused (431) before it reaches
        the app."""
        if self._refused_headers:
            return
        self._header_bytes += len(name) + len(value) + 4  # ": " and CRLF
        if self._header_bytes > MAX_HEADER_BYTES:
            self._refuse_headers()
            return
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        """The headers are in: the body (if any) is now awaited."""
        if self._refused_headers:
            return
        self._phase = "body"
        super().on_headers_complete()

    def on_body(self, body: bytes) -> None:
        """A piece of the body."""
        if not self._refused_headers:
            super().on_body(body)

    def on_message_complete(self) -> None:
        """The whole request is in."""
        if self._refused_headers:
            return
        self._phase = "app"
        super().on_message_complete()

    # deadlines ---------------------------------------------------------------------------------------------------
    def _refuse_headers(self) -> None:
        self._refused_headers = True
        self._cancel()
        limits_log.debug("closed a connection whose request headers exceeded %d bytes", MAX_HEADER_BYTES)
        self.transport.write(_HEADERS_TOO_LARGE)
        self.transport.close()

    def _arm(self, kind: Literal["header", "body"]) -> None:
        self._cancel()
        limits = self.limits
        delay = limits.header_timeout_seconds if kind == "header" else limits.body_timeout_seconds
        self._deadline = self.loop.call_later(delay, self._expire, kind)
        self._deadline_kind = kind

    def _cancel(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
        self._deadline, self._deadline_kind = None, ""

    def _expire(self, kind: str) -> None:
        self._deadline, self._deadline_kind = None, ""
        transport = self.transport
        if transport.is_closing() or transport.get_protocol() is not self:  # closed, or upgraded away
            return
        cycle = self.cycle
        if kind == "body" and cycle is not None and not cycle.response_complete:
            cycle.disconnected = True  # the app's receive() now answers http.disconnect and its sends are dropped
            cycle.message_event.set()
        if cycle is None or cycle.response_complete or not cycle.response_started:
            transport.write(_TIMEOUT_RESPONSE)
        limits_log.debug("closed a connection whose request %s did not arrive in time", kind)
        transport.close()

    def _log_refusal(self) -> None:
        now = time.monotonic()
        if now - type(self)._last_refusal_log >= 10:  # under a flood, one line per 10 s, not one per connection
            type(self)._last_refusal_log = now
            limits_log.warning("refusing connections: %d are open (max_connections)", self.limits.max_connections)


def guarded_protocol(limits: ServerLimits) -> type[GuardedHttpProtocol]:
    """A protocol class for one server, carrying its limits."""
    return type("GuardedHttpProtocol", (GuardedHttpProtocol,), {"limits": limits, "_last_refusal_log": 0.0})
