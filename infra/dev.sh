#!/usr/bin/env bash
# make dev: bootstrap, then embedded servers (unless DATABASE_URL/REDIS_URL are set), migrations, the demo
# company, and web + worker + beat until Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
infra/bootstrap.sh
exec .venv/bin/wuye dev "$@"
