#!/usr/bin/env bash
# make bench: the benchmarks of infra/bench/ one after the other (see README, Performance, and
# infra/bench/README.md). Each uses a database of its own, dropped after. Arguments go to the provisioning
# benchmark. Every benchmark runs even when one fails; the exit status is 1 when any failed.
set -euo pipefail
cd "$(dirname "$0")/.."
infra/bootstrap.sh
export WUYE_ENV=test
status=0
.venv/bin/wuye services -- .venv/bin/python infra/bench/provisioning.py "$@" || status=1
.venv/bin/wuye services -- .venv/bin/python infra/bench/imports.py || status=1
.venv/bin/wuye services -- .venv/bin/python infra/bench/unit_list.py || status=1
.venv/bin/wuye services -- .venv/bin/python infra/bench/fees.py || status=1
.venv/bin/wuye services -- .venv/bin/python infra/bench/helpdesk.py || status=1
.venv/bin/wuye services -- .venv/bin/python infra/bench/payments.py || status=1
exit "$status"
