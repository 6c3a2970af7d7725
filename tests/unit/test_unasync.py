import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_sync_helpers_are_generated_from_the_async_ones() -> None:
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "unasync.py"), "--check"], capture_output=True)
    assert result.returncode == 0, result.stderr.decode()
