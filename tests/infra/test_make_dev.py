"""`make dev` as a person runs it: no DATABASE_URL or REDIS_URL, so embedded PostgreSQL and Redis start
from wheels; the demo company answers at demo.localhost; Ctrl-C stops everything; a second start keeps
the data. Runs the real `wuye dev` (what `make dev` calls after the bootstrap)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import psutil
import pytest

REPO = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _get(port: int, host: str, path: str) -> tuple[int, str]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers={"Host": f"{host}:{port}"})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310  (our own local server)
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def _start(data_dir: Path, port: int) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"} and not k.startswith("WUYE_")}
    env.update({"WUYE_DATA_DIR": str(data_dir), "WUYE_ENV": "development", "PYTHONUNBUFFERED": "1"})
    return subprocess.Popen(
        [sys.executable, "-m", "wuye.cli", "dev", "--port", str(port)],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


def _wait_ready(proc: subprocess.Popen[str], port: int, timeout: float = 180) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if proc.poll() is not None:
            raise AssertionError("wuye dev exited:\n" + (proc.stdout.read() if proc.stdout else ""))
        try:
            if _get(port, "demo.localhost", "/healthz")[0] == 200:
                return time.monotonic() - started
        except OSError:
            pass
        time.sleep(0.3)
    raise AssertionError("wuye dev did not answer in time")


def _ctrl_c(proc: subprocess.Popen[str]) -> str:
    os.killpg(proc.pid, signal.SIGINT)  # what the terminal does on Ctrl-C: the whole foreground group
    output, _ = proc.communicate(timeout=90)
    return output


def _processes_using(data_dir: Path) -> list[str]:
    found = []
    for process in psutil.process_iter(["cmdline"]):
        cmdline = " ".join(process.info["cmdline"] or [])
        if str(data_dir) in cmdline:
            found.append(cmdline)
    return found


@pytest.mark.slow
def test_make_dev_from_nothing_then_again(tmp_path_factory: pytest.TempPathFactory) -> None:
    data_dir = Path(tmp_path_factory.mktemp("wuye-dev-data"))
    data_dir.chmod(0o755)  # the embedded PostgreSQL runs as its own system user when we are root
    for parent in data_dir.parents:
        if parent == Path("/tmp"):
            break
        parent.chmod(parent.stat().st_mode | 0o005)
    port = _free_port()

    first = _start(data_dir, port)
    try:
        _wait_ready(first, port)
        status, page = _get(port, "demo.localhost", "/accounts/login/")
        assert status == 200 and "示范物业" in page
        assert _get(port, "localhost", "/accounts/login/")[0] == 200  # the vendor console
        assert _get(port, "nobody.localhost", "/accounts/login/")[0] == 404
        assert _get(port, "demo.localhost", "/readyz")[0] == 200
    finally:
        output = _ctrl_c(first)
    assert "vendor@wuye.localhost" in output and "admin@demo.localhost" in output, output
    assert "provisioned 示范物业" in output
    assert first.returncode == 0, output
    assert _processes_using(data_dir) == []  # web, worker, beat, PostgreSQL and Redis all stopped

    second = _start(data_dir, port)
    try:
        seconds = _wait_ready(second, port)
        assert _get(port, "demo.localhost", "/accounts/login/")[0] == 200
    finally:
        output = _ctrl_c(second)
    assert "provisioned" not in output  # the data was kept: nothing provisioned again
    assert _processes_using(data_dir) == []
    print(f"second start answered after {seconds:.1f} s")
