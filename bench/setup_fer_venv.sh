#!/usr/bin/env bash
# Create the virtualenv for the `fer` baseline (bench/fer_baseline.py), apart from the project's
# venv: fer pins old packages (and pulls in facenet/mtcnn) if installed with its dependencies, so
# it goes in with --no-deps plus what FER(mtcnn=False) imports (fer.utils also needs Pillow).
# Usage: bench/setup_fer_venv.sh [VENV_DIR]   (default .venv-fer, ignored by git via .venv*/)
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${1:-.venv-fer}"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -m pip install -q --disable-pip-version-check \
    tensorflow==2.21.0 "opencv-python-headless<5" requests pandas tqdm pillow "setuptools<81"
"$venv/bin/python" -m pip install -q --disable-pip-version-check --no-deps fer
"$venv/bin/python" -c "import fer, tensorflow as tf; print('fer', fer.__version__, 'tf', tf.__version__)"
