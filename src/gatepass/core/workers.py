"""``gatepass core --workers N``: N core processes serving one port over one database.

The parent binds the port and opens the database once (so a port in use or a wrong URL fails at once, and the
schema is migrated before anyone serves), then starts N worker processes that share the listening socket: the
kernel hands each new connection to one of them. Each worker opens its own connections to the database, which
already serialises what must be serialised across processes (SQLite's writer queue and ``BEGIN IMMEDIATE``,
PostgreSQL's row and advisory locks). Worker 0 alone runs the periodic clean-up of expired sessions. A worker that
dies is replaced (after 1 s, doubling up to 30 s while it keeps dying young, so a crash loop does not spin);
SIGINT or SIGTERM stops them all (each finishes its requests in flight) and the parent exits 0. Workers are not
watched for their parent's death: a SIGKILLed parent leaves them serving until they are stopped.

Each process keeps its own rate-limit counters, so with N workers an address gets up to N times the burst.
"""

from __future__ import annotations

import logging
import multiprocessing
import signal
import socket
import time
from collections.abc import Callable
from multiprocessing.process import BaseProcess

from gatepass.core.settings import CoreSettings

log = logging.getLogger("gatepass.core")

STOP_GRACE_S = 30.0  # how long a worker may take to finish its requests in flight before it is killed
_RESTART_GAP_S = 1.0  # the first wait before a dead worker's slot is filled again; doubled while it keeps dying
_MAX_RESTART_GAP_S = 30.0
_STABLE_S = 10.0  # a worker that lived this long resets its slot's wait


WorkerMain = Callable[[CoreSettings, socket.socket, int], None]  # settings, shared listener, worker index


class _Slots:
    """The worker processes, one per slot, and when each slot last started one."""

    def __init__(self, settings: CoreSettings, listener: socket.socket, main: WorkerMain) -> None:
        self._settings = settings
        self._main = main
        self._listener = listener
        self._context = multiprocessing.get_context("spawn")  # no fork: the parent holds a database connection pool
        self.processes: list[BaseProcess | None] = [None] * settings.workers
        self._started_at = [0.0] * settings.workers
        self._gaps = [_RESTART_GAP_S] * settings.workers

    def start(self, index: int) -> None:
        process = self._context.Process(
            target=self._main, args=(self._settings, self._listener, index), name=f"gatepass-core-{index}"
        )
        process.start()
        self.processes[index] = process
        self._started_at[index] = time.monotonic()

    def replace_dead(self) -> None:
        """Start a new worker in each slot whose process has exited (not sooner than ``_RESTART_GAP_S``)."""
        for index, process in enumerate(self.processes):
            if process is None or process.is_alive():
                continue
            lived = time.monotonic() - self._started_at[index]
            if lived >= _STABLE_S:
                self._gaps[index] = _RESTART_GAP_S
            elif lived < self._gaps[index]:
                continue
            else:  # it died young: wait twice as long before the next one (a crash loop does not spin)
                self._gaps[index] = min(_MAX_RESTART_GAP_S, self._gaps[index] * 2)
            log.warning("core worker %d exited (status %s): starting another", index, process.exitcode)
            self.start(index)

    def stop_all(self) -> None:
        """SIGTERM every worker, wait for them to finish, kill any still running after ``STOP_GRACE_S``."""
        alive = [p for p in self.processes if p is not None and p.is_alive()]
        for process in alive:
            process.terminate()
        deadline = time.monotonic() + STOP_GRACE_S
        for process in alive:
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                process.kill()
                process.join()


def run_workers(settings: CoreSettings, listener: socket.socket, database: str, main: WorkerMain) -> None:
    """Serve with ``settings.workers`` processes, each running ``main`` (a module-level function, so that a
    spawned process can import it), until SIGINT or SIGTERM (the module docstring says how)."""
    stopping: list[int] = []  # a plain list: a signal handler must not take a lock (threading.Event does)
    previous = {
        sig: signal.signal(sig, lambda signum, _: stopping.append(signum)) for sig in (signal.SIGINT, signal.SIGTERM)
    }
    slots = _Slots(settings, listener, main)
    try:
        for index in range(settings.workers):
            slots.start(index)
        host, port = listener.getsockname()[:2]
        log.info(
            "gatepass core listening on http://%s:%d with %d worker processes (database: %s)",
            host,
            port,
            settings.workers,
            database,
        )
        while not stopping:
            time.sleep(0.2)
            slots.replace_dead()
    finally:
        slots.stop_all()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        log.info("gatepass core stopped")
