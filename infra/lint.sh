#!/usr/bin/env bash
# make lint: ruff (style and bugs), mypy with django-stubs (types), import-linter (dependency direction).
set -euo pipefail
cd "$(dirname "$0")/.."
infra/bootstrap.sh >/dev/null
echo "==> ruff"
.venv/bin/ruff check .
.venv/bin/ruff format --check --quiet . || { echo "run: .venv/bin/ruff format ." >&2; exit 1; }
echo "==> mypy"
.venv/bin/mypy platform/wuye tenants modules billing_gateway
echo "==> import-linter"
.venv/bin/lint-imports
