"""The README's first Quick start command (``scripts/run``) from a clean checkout: a fresh clone of this commit,
its own virtualenv and npm packages, the demo up and answering, and a clean stop. (The second command,
``scripts/test``, is what CI runs on a clean clone, so it is exercised by every CI run.)"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from tests.helpers import free_port

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_scripts_run_sets_up_and_runs_the_demo_from_a_clean_clone(tmp_path: Path) -> None:
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
    port, fauna_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "PYTHONPATH"))}
    log = (tmp_path / "run.log").open("w")
    process = subprocess.Popen(
        ["scripts/run", "--port", str(port), "--fauna-port", str(fauna_port), "--data-dir", str(tmp_path / "data")],
        cwd=clone,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 600  # a fresh virtualenv and npm install
        while time.monotonic() < deadline:
            assert process.poll() is None, (tmp_path / "run.log").read_text()
            try:
                if httpx.get(url + "/", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(1)
        else:
            raise AssertionError("the demo did not start:\n" + (tmp_path / "run.log").read_text())
        assert httpx.get(url + "/static/supertokens.js").status_code == 200
        assert httpx.get(url + "/static/faunadb.js").status_code == 200
        signup = httpx.post(url + "/signup", json={"email": "quick@example.com", "password": "start"})
        assert signup.status_code == 200 and signup.json()["userId"].isdigit()
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGINT)
            process.wait(timeout=30)
        log.close()
    assert process.returncode == 0, (tmp_path / "run.log").read_text()
    assert (clone / ".venv" / "bin" / "gatepass").exists() and (clone / "frontend" / "build" / "faunadb.js").exists()
    shutil.rmtree(clone, ignore_errors=True)
