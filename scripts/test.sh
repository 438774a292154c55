#!/usr/bin/env bash
# Set up everything the tests need (a venv with the train + edge + dev requirements) and run
# lint and the whole test suite. Extra arguments go to pytest, e.g. `scripts/test.sh -k smile`.
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${VENV:-.venv}"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -m pip install -q --disable-pip-version-check \
    -r requirements-train.txt -r requirements-edge.txt -r requirements-dev.txt
export TF_CPP_MIN_LOG_LEVEL=2
"$venv/bin/ruff" check .
"$venv/bin/ruff" format --check .
exec "$venv/bin/python" -m pytest "$@"
