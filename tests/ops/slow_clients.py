"""Real-socket helpers for the slow-client tests: half-sent requests on loopback, and waiting (bounded in count and
time) until the server has closed them."""

from __future__ import annotations

import selectors
import socket
import time

HALF_REQUEST_LINE = b"GET /hello HTT"


def open_idle(port: int, count: int, payload: bytes = HALF_REQUEST_LINE) -> list[socket.socket]:
    """``count`` connections to 127.0.0.1:``port`` that send ``payload`` and then go quiet."""
    sockets = []
    try:
        for _ in range(count):
            sock = socket.create_connection(("127.0.0.1", port), timeout=5)
            if payload:
                sock.sendall(payload)
            sockets.append(sock)
    except BaseException:
        close_all(sockets)
        raise
    return sockets


def close_all(sockets: list[socket.socket]) -> None:
    for sock in sockets:
        sock.close()


def wait_closed(sockets: list[socket.socket], within_s: float) -> tuple[int, list[bytes]]:
    """How many of ``sockets`` the server closed within ``within_s`` seconds, and what each sent before closing."""
    received = {sock.fileno(): b"" for sock in sockets}
    closed = 0
    deadline = time.monotonic() + within_s
    with selectors.DefaultSelector() as selector:
        for sock in sockets:
            sock.setblocking(False)
            selector.register(sock, selectors.EVENT_READ)
        while closed < len(sockets) and (remaining := deadline - time.monotonic()) > 0:
            for key, _ in selector.select(timeout=min(remaining, 0.5)):
                sock = key.fileobj
                assert isinstance(sock, socket.socket)
                try:
                    data = sock.recv(4096)
                except ConnectionResetError:
                    data = b""
                if data:
                    received[sock.fileno()] += data
                    continue
                selector.unregister(sock)
                closed += 1
    return closed, list(received.values())


def still_open(sock: socket.socket) -> bool:
    """True when the server has neither closed ``sock`` nor sent anything on it."""
    sock.setblocking(False)
    try:
        sock.recv(1, socket.MSG_PEEK)  # returns: the server sent bytes or closed
    except BlockingIOError:
        return True
    except OSError:
        return False
    return False
