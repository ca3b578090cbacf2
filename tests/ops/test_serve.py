"""`make run` (python -m ops.serve): stopping it stops everything it started, and its logs are redacted."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import psutil
import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _postmaster(pgdata: Path) -> int | None:
    """The pid of the PostgreSQL running on this data directory, if any."""
    pid_file = pgdata / "postmaster.pid"
    try:
        pid = int(pid_file.read_text().splitlines()[0])
    except (OSError, ValueError, IndexError):
        return None
    return pid if psutil.pid_exists(pid) else None


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGINT])
def test_stopping_make_run_stops_the_embedded_postgresql(how: signal.Signals):
    # Under var/ like the tests' own server: the embedded server's user must reach the directory
    # (pytest's tmp_path is private to root).
    tmp_path = ROOT / "var" / f"serve-test-{uuid.uuid4().hex[:8]}"
    tmp_path.mkdir(parents=True)
    port = _free_port()
    env = os.environ | {
        "DATA_DIR": str(tmp_path),
        "PORT": str(port),
        "DEMO_DATA": "false",
        "SECRET_KEY": "serve-test",
    }
    env.pop("DATABASE_URL", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "ops.serve"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group, as `make run` in a terminal
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert proc.poll() is None, proc.stdout.read().decode() if proc.stdout else ""
            time.sleep(0.5)
        postmaster = _postmaster(tmp_path / "pg")
        assert postmaster is not None, "the embedded PostgreSQL should be running"
        os.killpg(proc.pid, how)  # as a service manager (SIGTERM) or Ctrl-C (SIGINT) does
        output = proc.communicate(timeout=90)[0].decode(errors="replace")
        deadline = time.monotonic() + 60
        while psutil.pid_exists(postmaster) and time.monotonic() < deadline:
            if psutil.Process(postmaster).status() == psutil.STATUS_ZOMBIE:
                break
            time.sleep(0.2)
        assert _postmaster(tmp_path / "pg") is None, (
            f"PostgreSQL kept running on the data directory; the app said:\n{output[-3000:]}"
        )
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        leftover = _postmaster(tmp_path / "pg")
        if leftover is not None:
            os.kill(leftover, signal.SIGTERM)
            time.sleep(2)
        shutil.rmtree(tmp_path, ignore_errors=True)


def test_our_own_log_lines_are_redacted_in_every_worker():
    """The logging config uvicorn applies in each worker redacts choso.* records too."""
    script = (
        "import logging, logging.config\n"
        "from core import logging as log_redaction\n"
        "logging.config.dictConfig(log_redaction.uvicorn_log_config('INFO'))\n"
        "log = logging.getLogger('choso.coverage')\n"
        "try:\n"
        "    raise ValueError('duplicate key (phone_e164)=(+84905123456) account 0123456789')\n"
        "except ValueError:\n"
        "    log.exception('coverage re-evaluation failed for 0905 123 456')\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    assert "coverage re-evaluation failed" in out.stderr
    for secret in ("905123456", "0123456789", "0905 123 456"):
        assert secret not in out.stderr, out.stderr
