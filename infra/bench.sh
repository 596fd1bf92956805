#!/usr/bin/env bash
# make bench: the provisioning benchmark (see README, Performance). Uses its own database, dropped after.
set -euo pipefail
cd "$(dirname "$0")/.."
infra/bootstrap.sh
export WUYE_ENV=test
exec .venv/bin/wuye services -- .venv/bin/python infra/bench/provisioning.py "$@"
