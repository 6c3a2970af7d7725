"""``gatepass core --workers N``: real processes on one port over one database (SQLite file or PostgreSQL schema).
Both workers serve (each one's own CPU counter rises under load), sessions created through one are refreshed
through the other, a killed worker is replaced while the port keeps answering, SIGTERM stops them all with exit
status 0, and the setting is bounded."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.helpers import CoreProcess, start_core

WAIT_S = 20


def _workers(core: CoreProcess) -> list[int]:
    """The pids of the core's worker processes (its children, less multiprocessing's resource tracker)."""
    pid = core.process.pid
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    workers = []
    for child in children:
        try:
            cmdline = Path(f"/proc/{child}/cmdline").read_bytes()
        except FileNotFoundError:
            continue
        if b"spawn_main" in cmdline:
            workers.append(int(child))
    return sorted(workers)


def _cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _create(core: CoreProcess, user: str) -> dict[str, object]:
    with httpx.Client(base_url=core.url, timeout=10) as client:  # a new connection each time
        answer = client.post("/recipe/session", json={"userId": user})
    assert answer.status_code == 200 and answer.json()["status"] == "OK", answer.text
    result: dict[str, object] = answer.json()
    return result


def _refresh(core: CoreProcess, created: dict[str, object]) -> str:
    token = created["refreshToken"]["token"]  # type: ignore[index]
    with httpx.Client(base_url=core.url, timeout=10) as client:
        answer = client.post("/recipe/session/refresh", json={"refreshToken": token, "useDynamicSigningKey": True})
    status: str = answer.json()["status"]
    return status


def _wait_for(condition: object, what: str) -> None:
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def test_two_workers_share_the_port_and_the_database(database_url: str, tmp_path: Path) -> None:
    core = start_core(database_url, tmp_path / "core.log", ["--workers", "2"])
    try:
        _wait_for(lambda: len(_workers(core)) == 2, "two workers")
        workers = _workers(core)
        before = {pid: _cpu_s(pid) for pid in workers}
        with ThreadPoolExecutor(16) as pool:
            created = list(pool.map(lambda i: _create(core, f"u{i}"), range(160)))
            statuses = list(pool.map(lambda c: _refresh(core, c), created))
        assert statuses == ["OK"] * len(created)
        assert all(_cpu_s(pid) > before[pid] for pid in workers), "a worker served nothing"
        assert "with 2 worker processes" in core.log()
    finally:
        assert core.stop() == 0
    assert all(not Path(f"/proc/{pid}").exists() for pid in workers)


def test_a_killed_worker_is_replaced_and_sigterm_stops_all(tmp_path: Path) -> None:
    core = start_core(f"sqlite:///{tmp_path / 'w.db'}", tmp_path / "core.log", ["--workers", "2"])
    try:
        _wait_for(lambda: len(_workers(core)) == 2, "two workers")
        _create(core, "before")  # both workers are up and serving
        first = _workers(core)
        os.kill(first[0], signal.SIGKILL)
        _wait_for(lambda: "starting another" in core.log(), "the supervisor to notice")
        _wait_for(lambda: len(_workers(core)) == 2 and first[0] not in _workers(core), "a replacement worker")
        replaced = _workers(core)
        assert first[1] in replaced and first[0] not in replaced
        for i in range(20):
            _create(core, f"after-{i}")
        assert "exited (status" in core.log() and "starting another" in core.log()
        core.process.send_signal(signal.SIGTERM)
        assert core.process.wait(timeout=40) == 0
        assert all(not Path(f"/proc/{pid}").exists() for pid in replaced)
        assert "gatepass core stopped" in core.log()
    finally:
        core.stop()


def test_one_worker_serves_in_the_process_itself(tmp_path: Path) -> None:
    core = start_core(f"sqlite:///{tmp_path / 'one.db'}", tmp_path / "core.log")
    try:
        _create(core, "u")
        assert _workers(core) == []
    finally:
        core.stop()


@pytest.mark.parametrize("bad", ["0", "65", "two"])
def test_workers_out_of_range_is_a_clear_error(bad: str, tmp_path: Path) -> None:
    args = [sys.executable, "-m", "gatepass.cli", "core", "--port", "0", "--database-url"]
    env = {**os.environ, "GATEPASS_WORKERS": bad}
    done = subprocess.run(
        [*args, f"sqlite:///{tmp_path / 'x.db'}"], env=env, capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 2
    assert "workers" in done.stderr and "Traceback" not in done.stderr
