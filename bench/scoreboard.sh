#!/usr/bin/env bash
# Ours and the `fer` package on each clip, scored against its truth, then one table
# (`python -m bench.table`): recall, phantoms, label accuracy, label changes, change latency.
#   bash bench/scoreboard.sh CLIP [CLIP ...]
# Runs one after the other (accuracy only: the pipelines are deterministic, so these figures do
# not depend on load; speed is bench/compare.sh's, in alternating runs). Needs the project venv
# ($VENV, default .venv) and fer's ($FER_VENV, default .venv-fer, bench/setup_fer_venv.sh).
# Results go to $OUT (default bench/results/scoreboard-DATE): ours/NAME.json, fer/NAME.json.
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 1 ] || { echo "usage: bash bench/scoreboard.sh CLIP [CLIP ...]" >&2; exit 2; }
venv="${VENV:-.venv}"
fer_venv="${FER_VENV:-.venv-fer}"
out="${OUT:-bench/results/scoreboard-$(date +%Y%m%d-%H%M%S)}"
mkdir -p "$out/ours" "$out/fer"
names=()
run() {  # SIDE NAME CMD...: the run's last stdout line to SIDE/NAME.json, its stderr to .log
    local side="$1" name="$2"
    shift 2
    if ! TF_CPP_MIN_LOG_LEVEL=2 "$@" 2>"$out/$side/$name.log" | tail -1 >"$out/$side/$name.json.part"; then
        echo "scoreboard: error: $side on $name failed: $(tail -1 "$out/$side/$name.log")" >&2
        exit 1
    fi
    mv "$out/$side/$name.json.part" "$out/$side/$name.json"
}
for clip in "$@"; do
    clip="${clip%/}"
    name="$(basename "$clip")"
    [ -f "$clip/truth.json" ] || { echo "scoreboard: error: no $clip/truth.json" >&2; exit 1; }
    names+=("$name")
    run ours "$name" "$venv/bin/python" -m edge bench --backend cpu --source "$clip" \
        --preload --truth "$clip/truth.json" --json --log-level ERROR
    run fer "$name" "$fer_venv/bin/python" -m bench.fer_baseline "$clip"
    echo "scoreboard: $name done" >&2
done
"$venv/bin/python" -m bench.table "$out" "${names[@]}"
