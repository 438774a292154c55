#!/usr/bin/env bash
# Ship a finished training run as one of the product's two models, on the workstation:
#   bash scripts/ship_model.sh runs/NAME ../shared/datasets/fer2013 [accurate|fast]
# accurate (default): models/emotion.keras -> emotion_int8.tflite, compiled for the Edge TPU
# fast: models/emotion_fast.keras -> emotion_fast_int8.tflite, the CPU model (never compiled)
# 1. export RUN/best.keras -> models/STEM.keras (no optimizer state)
# 2. convert -> models/STEM_int8.tflite, parity JSON, readiness check, Edge TPU compile
#    (accurate only, when edgetpu_compiler is on PATH)
# 3. score float and int8 on val (RUN/eval-*.txt: table + JSON line), int8 confusion -> models/
# 4. refresh that model's golden per-face scores the tests hold (tests/data/expected*.csv)
# Then update models/README.md and the README figures from RUN/eval-*.txt by hand.
set -euo pipefail
usage="usage: bash scripts/ship_model.sh runs/NAME FER2013_DIR [accurate|fast]"
run=${1:?$usage}
data=${2:?$usage}
kind=${3:-accurate}
case "$kind" in
  accurate) stem=emotion; convert_flags=(); plot=models/confusion_int8.png ;;
  fast) stem=emotion_fast; convert_flags=(--no-compile); plot=models/confusion_fast_int8.png ;;
  *) echo "ship_model.sh: error: model kind '$kind' is not accurate or fast" >&2; exit 2 ;;
esac
[ -f "$run/best.keras" ] || { echo "ship_model.sh: error: $run/best.keras: no such checkpoint" >&2; exit 1; }
cd "$(dirname "$0")/.."
py=${PYTHON:-.venv/bin/python}
export TF_CPP_MIN_LOG_LEVEL=2

"$py" -m train export "$run/best.keras" "models/$stem.keras"
"$py" -m convert "models/$stem.keras" --data "$data" --out models/ --name "$stem" "${convert_flags[@]}"
for model in "$stem.keras" "${stem}_int8.tflite"; do
  extra=()
  [[ $model == *.tflite ]] && extra=(--plot "$plot")
  report="$run/eval-${model%.*}.txt"  # the table, then one JSON line
  "$py" -m train evaluate --model "models/$model" --data "$data" "${extra[@]}" > "$report.tmp"
  mv "$report.tmp" "$report"
  echo "models/$model:" && cat "$report"
done
"$py" -m tests.edge.test_backends "models/${stem}_int8.tflite"
