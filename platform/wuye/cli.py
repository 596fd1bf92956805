"""The `wuye` command: django-admin with Wuye's settings, plus

wuye dev [--port 8000]        embedded servers + migrate + demo company + web, worker and beat
wuye services -- CMD ...      run CMD with the embedded servers (what `make test` and `make bench` use)
wuye compiletranslations      compile the .po catalogues with polib (no GNU gettext needed)
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from . import devservers


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv if argv is None else argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wuye.settings")
    command = argv[1] if len(argv) > 1 else ""
    if command == "dev":
        return dev(argv[2:])
    if command == "services":
        rest = argv[2:]
        return devservers.run_with_services(rest[1:] if rest[:1] == ["--"] else rest)
    if command == "compiletranslations":
        return compile_translations()
    devservers.adopt_running_services()
    from django.core.management import execute_from_command_line

    execute_from_command_line(argv)
    return 0


def compile_translations() -> int:
    import polib

    compiled = 0
    for po_path in sorted(devservers.REPO_DIR.glob("**/locale/*/LC_MESSAGES/*.po")):
        if ".venv" in po_path.parts:
            continue
        mo_path = po_path.with_suffix(".mo")
        if not mo_path.exists() or mo_path.stat().st_mtime < po_path.stat().st_mtime:
            polib.pofile(str(po_path)).save_as_mofile(str(mo_path))
            compiled += 1
    if compiled:
        print(f"==> compiled {compiled} translation catalogue(s)")
    return 0


def _wuye() -> list[str]:
    return [sys.executable, "-m", "wuye.cli"]


def dev(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="wuye dev", description="Run Wuye for development.")
    parser.add_argument("--port", type=int, default=int(os.environ.get("WUYE_DEV_PORT", "8000")))
    parser.add_argument("--bind", default="127.0.0.1", help="Address the web server listens on.")
    options = parser.parse_args(argv)
    os.environ.setdefault("WUYE_URL_PORT", str(options.port))

    with devservers.services():
        print("==> migrating the public schema, the template, the spares and every company", flush=True)
        subprocess.run([*_wuye(), "migrate", "--noinput", "-v", "0"], check=True)
        subprocess.run([*_wuye(), "demo", "--port", str(options.port)], check=True)
        data = devservers.data_dir()
        children = {
            "web": subprocess.Popen([*_wuye(), "runserver", f"{options.bind}:{options.port}"]),
            "worker": subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "wuye.celery", "worker", "-l", "INFO", "--concurrency", "2"]
            ),
            "beat": subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "wuye.celery",
                    "beat",
                    "-l",
                    "INFO",
                    "-s",
                    str(Path(data) / "celerybeat-schedule"),
                ]
            ),
        }
        code = 0
        try:
            while True:
                finished = [name for name, proc in children.items() if proc.poll() is not None]
                if finished:
                    print(f"==> {', '.join(finished)} stopped; stopping the rest", flush=True)
                    code = 1
                    break
                time.sleep(0.5)
        except KeyboardInterrupt:
            print("\n==> stopping web, worker and beat", flush=True)
        finally:
            _stop(children)
        print("==> stopping the embedded servers", flush=True)
    return code


def _stop(children: dict[str, subprocess.Popen[bytes]]) -> None:
    for proc in children.values():
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
    deadline = time.monotonic() + 15
    for proc in children.values():
        try:
            proc.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


if __name__ == "__main__":
    sys.exit(main())
