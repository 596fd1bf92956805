#!/usr/bin/env bash
# make test: bootstrap, lint, then the whole suite against DATABASE_URL/REDIS_URL when set, else against
# embedded servers started for the run. Extra arguments go to pytest (make test ARGS="-k routing").
set -euo pipefail
cd "$(dirname "$0")/.."
infra/bootstrap.sh
infra/lint.sh
echo "==> tests"
export WUYE_ENV=test
exec .venv/bin/wuye services -- .venv/bin/python -m pytest ${ARGS:-} "$@"
