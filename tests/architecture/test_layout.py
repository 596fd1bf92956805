"""The layout ARCHITECTURE.md fixes: platform/ is a source root, not a package."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
ROOMS = ("models", "services", "selectors", "policies", "api", "views", "tasks", "admin")


def test_import_platform_is_the_standard_library() -> None:
    # A fresh interpreter with the project's source roots on the path, as the running services have.
    code = "import platform, sys; print(platform.__file__); print(platform.python_version())"
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO,
        env={"PYTHONPATH": f"{REPO}:{REPO / 'platform'}", "PATH": "/usr/bin:/bin"},
    ).stdout.splitlines()
    assert not out[0].startswith(str(REPO)), out[0]
    assert out[1] == ".".join(map(str, sys.version_info[:3]))


def test_platform_folder_is_not_a_package() -> None:
    assert not (REPO / "platform" / "__init__.py").exists()
    stray = [p.name for p in (REPO / "platform").glob("*.py")]
    assert stray == [], f"modules directly in the source root can shadow libraries: {stray}"


def test_project_package_imports_from_the_source_root() -> None:
    wuye = importlib.import_module("wuye")
    assert Path(wuye.__file__).parent == REPO / "platform" / "wuye"


def test_every_tenant_module_has_the_same_rooms() -> None:
    modules = [p for p in (REPO / "modules").iterdir() if (p / "apps.py").exists()]
    assert modules, "no tenant modules found"
    for module in modules:
        missing = [room for room in ROOMS if not (module / f"{room}.py").exists()]
        assert missing == [], f"modules/{module.name} lacks {missing}"


def test_top_level_layout() -> None:
    for name in (
        "pyproject.toml",
        "README.md",
        "Makefile",
        "tenants",
        "modules",
        "billing_gateway",
        "infra",
        "helm/wuye",
        "tests",
        ".ci/run",
    ):
        assert (REPO / name).exists(), name


def test_migrations_match_the_models() -> None:
    import os

    result = subprocess.run(
        [sys.executable, "-m", "wuye.cli", "makemigrations", "--check", "--dry-run"],
        cwd=REPO,
        capture_output=True,
        text=True,
        env={**os.environ, "WUYE_ENV": "test"},
        timeout=120,
    )
    assert result.returncode == 0, f"models changed without a migration:\n{result.stdout}{result.stderr}"
