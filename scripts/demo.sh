#!/usr/bin/env bash
# Set up the edge daemon's venv (edge requirements only: no TensorFlow) and run the main job:
# the daemon with the shipped model. With no camera it reads the bundled sample clip, prints one
# JSON line per frame to stdout and exits when the clip ends. Extra arguments go to `edge run`.
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${VENV:-.venv-edge}"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -m pip install -q --disable-pip-version-check -r requirements-edge.txt
exec "$venv/bin/python" -m edge run --events - "$@"
