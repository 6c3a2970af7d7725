"""A minimal keep-alive HTTP/1.1 load client on raw asyncio streams.

httpx costs 0.5-0.8 ms of client CPU per call on these machines (see the performance notes), which would make the
client, not the server, the thing measured; this client costs a few microseconds per request.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

RequestFactory = Callable[[int], tuple[str, str, bytes]]  # worker index -> (method, path, body)
Observer = Callable[[int, dict[str, Any]], None]  # worker index, parsed JSON answer


@dataclass(frozen=True)
class LoadResult:
    requests: int
    seconds: float
    latencies_ms: list[float]

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds

    @property
    def p50_ms(self) -> float:
        return statistics.median(self.latencies_ms)

    @property
    def p99_ms(self) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1])
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.lower() == "content-length":
            length = int(value.strip())
    body = await reader.readexactly(length) if length else b""
    return status, body


async def _worker(
    index: int,
    host: str,
    port: int,
    headers: dict[str, str],
    make: RequestFactory,
    observe: Observer | None,
    deadline: float,
    latencies: list[float],
) -> int:
    reader, writer = await asyncio.open_connection(host, port)
    extra = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    done = 0
    try:
        while time.perf_counter() < deadline:
            method, path, body = make(index)
            request = (
                f"{method} {path} HTTP/1.1\r\nHost: {host}\r\n{extra}content-type: application/json\r\n"
                f"content-length: {len(body)}\r\n\r\n"
            ).encode() + body
            started = time.perf_counter()
            writer.write(request)
            status, answer = await _read_response(reader)
            latencies.append((time.perf_counter() - started) * 1000)
            if status != 200:
                raise RuntimeError(f"{method} {path} answered {status}: {answer[:200]!r}")
            if observe is not None:
                observe(index, json.loads(answer))
            done += 1
    finally:
        writer.close()
    return done


async def run_load(
    host: str,
    port: int,
    make: RequestFactory,
    *,
    seconds: float,
    connections: int,
    headers: dict[str, str],
    observe: Observer | None = None,
) -> LoadResult:
    latencies: list[float] = []
    started = time.perf_counter()
    deadline = started + seconds
    counts = await asyncio.gather(
        *(_worker(i, host, port, headers, make, observe, deadline, latencies) for i in range(connections))
    )
    return LoadResult(sum(counts), time.perf_counter() - started, latencies)
