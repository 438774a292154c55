"""bench/model_latency.py: the CPU-flag reader and the alternating rounds (tiny runs)."""

from __future__ import annotations

import json

from bench.model_latency import cpu_flags, main
from tests.edge.conftest import DATA, SHIPPED_FAST, SHIPPED_MODEL

X86 = "processor\t: 0\nflags\t\t: fpu sse avx2 avx512f avx512bw avx512_vnni\n\nprocessor\t: 1\n"
ARM = "processor\t: 0\nFeatures\t: fp asimd asimddp crc32\n"


def test_cpu_flags_read_x86_and_arm(tmp_path):
    (tmp_path / "x86").write_text(X86)
    (tmp_path / "arm").write_text(ARM)
    x86, arm = cpu_flags(tmp_path / "x86"), cpu_flags(tmp_path / "arm")
    assert x86["avx512f"] and x86["avx512_vnni"] and x86["avx2"] and not x86["amx_int8"]
    assert arm["asimddp"] and not any(v for k, v in arm.items() if k != "asimddp")
    assert cpu_flags(tmp_path / "none") == {}


def test_rounds_alternate_and_ratio_is_to_the_last_model(capsys):
    models = [SHIPPED_MODEL, SHIPPED_FAST, SHIPPED_FAST]
    assert main([*map(str, models), "--runs", "5", "--rounds", "2", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    rows = report["models"]
    assert [r["model"] for r in rows] == [str(m) for m in models]
    assert all(len(r["round_medians_ms"]) == 2 for r in rows)
    assert rows[-1]["vs_last"] == 1.0
    expected = rows[0]["median_ms"] / rows[-1]["median_ms"]
    assert abs(rows[0]["vs_last"] - expected) < 0.01


def test_a_missing_model_is_one_line(tmp_path, capsys):
    assert main([str(DATA / "float32.tflite"), str(tmp_path / "nope.tflite")]) == 1
    err = capsys.readouterr().err.strip()
    assert err == f"model_latency: error: {tmp_path / 'nope.tflite'}: no such model file"
