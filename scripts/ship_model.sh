#!/usr/bin/env bash
# Ship a finished training run as the product's model, on the workstation:
#   bash scripts/ship_model.sh runs/NAME ../shared/datasets/fer2013
# 1. export RUN/best.keras -> models/emotion.keras (no optimizer state)
# 2. convert -> models/emotion_int8.tflite, parity JSON, readiness check, Edge TPU compile
#    (when edgetpu_compiler is on PATH)
# 3. score float and int8 on val (RUN/eval-*.txt: table + JSON line), int8 confusion -> models/
# 4. refresh the golden per-face scores the tests hold (tests/data/expected.csv)
# Then update models/README.md and the README figures from RUN/eval-*.txt by hand.
set -euo pipefail
run=${1:?usage: bash scripts/ship_model.sh runs/NAME FER2013_DIR}
data=${2:?usage: bash scripts/ship_model.sh runs/NAME FER2013_DIR}
cd "$(dirname "$0")/.."
py=${PYTHON:-.venv/bin/python}
export TF_CPP_MIN_LOG_LEVEL=2

"$py" -m train export "$run/best.keras" models/emotion.keras
"$py" -m convert models/emotion.keras --data "$data" --out models/
for model in emotion.keras emotion_int8.tflite; do
  extra=()
  [[ $model == *.tflite ]] && extra=(--plot models/confusion_int8.png)
  report="$run/eval-${model%%.*}.txt"  # the table, then one JSON line
  "$py" -m train evaluate --model "models/$model" --data "$data" "${extra[@]}" > "$report.tmp"
  mv "$report.tmp" "$report"
  echo "models/$model:" && cat "$report"
done
"$py" -m tests.edge.test_backends models/emotion_int8.tflite
