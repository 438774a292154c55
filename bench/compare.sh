#!/usr/bin/env bash
# Ours vs the `fer` package on the same clip, in the same session, alternating runs so both see
# the same machine load; prints each run's JSON summary line and the medians.
#   bench/compare.sh [CLIP] [RUNS] [-- extra `python -m edge bench` flags]
# Needs the project venv ($VENV, default .venv) and fer's ($FER_VENV, default .venv-fer, made by
# bench/setup_fer_venv.sh), and a clip made with
#   python -m bench.make_clip --fer-val <fer2013>/val --out bench/results/clip --frames 300
# or the harder one (arrivals, departures, expression changes):
#   python -m bench.make_scene --fer-val <fer2013>/val --out bench/results/scene --seed 0
# LIMIT=N: only the first N frames of the clip, on both sides (accuracy then covers those only).
# Both sides decode the clip into memory first (fer_baseline does; ours: --preload), so the
# figures compare the per-frame pipelines, not PNG decoding.
set -euo pipefail
cd "$(dirname "$0")/.."
clip="${1:-bench/results/clip}"
runs="${2:-3}"
venv="${VENV:-.venv}"
fer_venv="${FER_VENV:-.venv-fer}"
fer_limit=() ours_limit=()
if [ -n "${LIMIT:-}" ]; then fer_limit=(--limit "$LIMIT"); ours_limit=(--frames $((LIMIT - 10))); fi
shift $(( $# > 2 ? 2 : $# ))
[ "${1:-}" = "--" ] && shift
out="bench/results/compare-$(date +%Y%m%d-%H%M%S)"
mkdir -p "$out"
for i in $(seq 1 "$runs"); do
    TF_CPP_MIN_LOG_LEVEL=2 "$fer_venv/bin/python" -m bench.fer_baseline "$clip" --warmup 10 "${fer_limit[@]}" \
        2>/dev/null | tail -1 >> "$out/fer.jsonl"
    TF_CPP_MIN_LOG_LEVEL=2 "$venv/bin/python" -m edge bench --backend cpu --source "$clip" --preload --warmup 10 \
        --truth "$clip/truth.json" --json --log-level WARNING "${ours_limit[@]}" "$@" \
        --out "$out/ours.csv" 2>/dev/null | tail -1 >> "$out/ours.jsonl"
done
"$venv/bin/python" - "$out" <<'EOF'
import json, statistics, sys
from pathlib import Path

out = Path(sys.argv[1])
fer = [json.loads(line) for line in (out / "fer.jsonl").read_text().splitlines()]
ours = [json.loads(line) for line in (out / "ours.jsonl").read_text().splitlines()]
med = lambda rows, f: statistics.median(f(r) for r in rows)  # noqa: E731
fer_fps, our_fps = med(fer, lambda r: r["fps"]), med(ours, lambda r: r["fps"])
ratios = [o["fps"] / f["fps"] for f, o in zip(fer, ours)]
f, o = fer[0], ours[0]
print(f"runs: {len(fer)} each, alternating; load1 {[r['load1'] for r in fer + ours]}")
print(f"fer : fps {fer_fps:.1f} (runs {[r['fps'] for r in fer]}), p50 "
      f"{med(fer, lambda r: r['ms_p50']):.2f} ms, recall {f['recall']}, phantoms/100 frames "
      f"{f['phantoms_per_100_frames']} (on faces {f['phantoms_on_faces_per_100_frames']}), label acc {f['label_accuracy']}, change frames "
      f"p50/p95 {f['change_frames_p50']}/{f['change_frames_p95']} "
      f"(unreached {f['changes_unreached']} of {f['changes']}), label changes/100 "
      f"{f['label_changes_per_100']}")
print(f"ours: fps {our_fps:.1f} (runs {[r['fps'] for r in ours]}), p50 "
      f"{med(ours, lambda r: r['frame_ms']['p50_ms']):.2f} ms, recall {o['recall']}, "
      f"phantoms/100 frames {o['phantoms_per_100_frames']} (on faces "
      f"{o['phantoms_on_faces_per_100_frames']}), label acc {o['label_accuracy']} "
      f"(raw {o['label_accuracy_raw']}), change frames p50/p95 {o['change_frames_p50']}/"
      f"{o['change_frames_p95']} (raw {o['change_frames_p50_raw']}/{o['change_frames_p95_raw']}; "
      f"unreached {o['changes_unreached']} of {o['changes']}), label changes/100 "
      f"{o['label_changes_per_100']} (raw {o['label_changes_per_100_raw']}); backend {o['backend']}, "
      f"model {o['model']}")
cpu = [f["cpu_ms_per_frame"] / o["cpu_ms_per_frame"] for f, o in zip(fer, ours)]
print(f"CPU ms per frame (all threads): fer {[r['cpu_ms_per_frame'] for r in fer]}, ours "
      f"{[r['cpu_ms_per_frame'] for r in ours]}; fer/ours {[round(r, 2) for r in cpu]}")
print(f"speed-up: {our_fps / fer_fps:.2f}x (medians; per alternating pair "
      f"{[round(r, 2) for r in ratios]}); results in {out}")
EOF
