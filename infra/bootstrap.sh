#!/usr/bin/env bash
# Creates .venv with the locked dependencies (requirements/dev.lock, hash-checked) and the project
# installed in editable mode, then compiles the translations. Re-running is cheap: the install is
# skipped while the lock and pyproject.toml are unchanged.
set -euo pipefail
cd "$(dirname "$0")/.."

find_python() {
  for candidate in "${PYTHON:-}" python3 python3.13 python3.12 python3.11 python; do
    [ -n "$candidate" ] || continue
    command -v "$candidate" >/dev/null 2>&1 || continue
    if "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
      echo "$candidate"; return 0
    fi
  done
  return 1
}

if [ ! -x .venv/bin/python ]; then
  py=$(find_python) || { echo "Wuye needs Python >= 3.11 (set PYTHON=/path/to/python3.11)." >&2; exit 1; }
  echo "==> creating .venv with $($py --version)"
  "$py" -m venv .venv
fi

stamp=".venv/.wuye-installed-$(.venv/bin/python - <<'PY'
import hashlib, pathlib
h = hashlib.sha256()
for name in ("requirements/dev.lock", "pyproject.toml"):
    h.update(pathlib.Path(name).read_bytes())
print(h.hexdigest()[:16])
PY
)"
if [ ! -f "$stamp" ]; then
  echo "==> installing locked dependencies (requirements/dev.lock)"
  # (Some machines' pip configuration names local indexes that do not exist; their warnings are noise.)
  { .venv/bin/python -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps \
      -r requirements/dev.lock \
    && .venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
  } 2>&1 | { grep -v "is ignored: it is neither a file nor a directory" || true; }
  [ "${PIPESTATUS[0]}" -eq 0 ] || { echo "dependency installation failed" >&2; exit 1; }
  rm -f .venv/.wuye-installed-*
  touch "$stamp"
fi

.venv/bin/wuye compiletranslations
