"""Compiler log parsing (documented format) and the compile step with a fake compiler on PATH."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from convert.compiler import parse_log
from convert.errors import ConvertError
from convert.pipeline import compile_if_available

HEADER = """Edge TPU Compiler version 16.0.384591198
Started a compilation timeout timer of 180 seconds.

Model compiled successfully in 92 ms.

Input model: emotion_int8.tflite
Input size: 1.13MiB
Output model: emotion_int8_edgetpu.tflite
Output size: 1.21MiB
On-chip memory used for caching model parameters: 1.15MiB
On-chip memory remaining for caching model parameters: 6.70MiB
Off-chip memory used for streaming uncached model parameters: 0.00B
Number of Edge TPU subgraphs: {subgraphs}
Total number of operations: 12
Operation log: emotion_int8_edgetpu.log
"""
TABLE_OK = """
Operator                       Count      Status

MUL                            1          Mapped to Edge TPU
ADD                            1          Mapped to Edge TPU
QUANTIZE                       2          Mapped to Edge TPU
CONV_2D                        4          Mapped to Edge TPU
MAX_POOL_2D                    2          Mapped to Edge TPU
RESHAPE                        1          Mapped to Edge TPU
FULLY_CONNECTED                1          Mapped to Edge TPU
SOFTMAX                        1          Mapped to Edge TPU
"""
CPU_NOTE = (
    "\nModel successfully compiled but not all operations are supported by the Edge TPU. "
    "A percentage of the model will instead run on the CPU, which is slower. If possible, "
    "consider updating your model to use only operations supported by the Edge TPU. "
    "For details, visit g.co/coral/model-reqs.\n"
    "Number of operations that will run on Edge TPU: 9\n"
    "Number of operations that will run on CPU: 3\n"
)
TABLE_CPU = """
Operator                       Count      Status

QUANTIZE                       1          Mapped to Edge TPU
CONV_2D                        4          Mapped to Edge TPU
LOCAL_RESPONSE_NORMALIZATION   1          Operation not supported
MAX_POOL_2D                    2          More than one subgraph is not supported
DEQUANTIZE                     1          Operation is working on an unsupported data type
"""
OK_LOG = HEADER.format(subgraphs=1) + TABLE_OK
CPU_LOG = HEADER.format(subgraphs=1) + CPU_NOTE + TABLE_CPU
TWO_SUBGRAPHS_LOG = HEADER.format(subgraphs=2) + TABLE_OK


def test_all_mapped_log_is_ok():
    parsed = parse_log(OK_LOG)
    assert parsed.version == "16.0.384591198"
    assert parsed.summary == {"subgraphs": 1, "total_ops": 12}
    assert [(r.op, r.count) for r in parsed.rows][:2] == [("MUL", 1), ("ADD", 1)]
    assert len(parsed.rows) == 8 and parsed.problems() == []


def test_ops_on_cpu_fail_naming_them():
    problems = "; ".join(parse_log(CPU_LOG).problems())
    assert "LOCAL_RESPONSE_NORMALIZATION x1: Operation not supported" in problems
    assert "MAX_POOL_2D x2: More than one subgraph is not supported" in problems
    assert "DEQUANTIZE x1: Operation is working on an unsupported data type" in problems
    assert "3 operation(s) will run on CPU" in problems
    assert "CONV_2D" not in problems


def test_two_subgraphs_fail():
    assert parse_log(TWO_SUBGRAPHS_LOG).problems() == ["2 Edge TPU subgraphs (want exactly 1)"]


def test_log_without_table_or_summary_is_not_ok():
    problems = parse_log("Edge TPU Compiler version 16.0.384591198\n").problems()
    assert len(problems) == 2


def test_old_style_log_with_compiler_15_table():
    log = (
        "Edge TPU Compiler version 15.0.340273435\nInput: mnist4.tflite\n"
        "Output: mnist4_edgetpu.tflite\n"
        "Operator                       Count      Status\n"
        "CONV_2D                        2          Mapped to Edge TPU\n"
        "QUANTIZE                       1          Operation is otherwise supported, but not "
        "mapped due to some unspecified limitation\n"
    )
    parsed = parse_log(log)
    assert parsed.version == "15.0.340273435" and len(parsed.rows) == 2
    assert any("QUANTIZE x1: Operation is otherwise supported" in p for p in parsed.problems())


FAKE = """#!{python}
# A stand-in edgetpu_compiler: prints a documented-format log and copies the model.
import os, shutil, sys
from pathlib import Path
args = sys.argv[1:]
out = Path(args[args.index("-o") + 1]) if "-o" in args else Path.cwd()
model = Path(args[-1])
stem = model.stem + "_edgetpu"
mode = os.environ.get("FAKE_EDGETPU_MODE", "ok")
if os.environ.get("FAKE_EDGETPU_TOUCH"):
    Path(os.environ["FAKE_EDGETPU_TOUCH"]).touch()
logs = {{"ok": {ok!r}, "cpu": {cpu!r}, "two": {two!r}}}
if mode == "crash":
    print("ERROR: Didn't find op for builtin opcode 'CONV_2D' version '6'.")
    print("Invalid model: " + model.name)
    sys.exit(1)
shutil.copy(model, out / (stem + ".tflite"))
text = logs[mode]
(out / (stem + ".log")).write_text(text[text.index("Operator"):])
print(text)
"""


@pytest.fixture
def fake_compiler(tmp_path, monkeypatch) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "edgetpu_compiler"
    script.write_text(
        FAKE.format(python=sys.executable, ok=OK_LOG, cpu=CPU_LOG, two=TWO_SUBGRAPHS_LOG)
    )
    script.chmod(0o755)
    monkeypatch.setenv("PATH", str(bin_dir))
    return script


@pytest.fixture
def model_copy(tmp_path) -> Path:
    out = tmp_path / "models"
    out.mkdir()
    model = out / "emotion_int8.tflite"
    model.write_bytes(b"\x1c\x00\x00\x00TFL3 fake model")
    return model


def test_fake_compiler_all_mapped_writes_edgetpu_model_and_log(fake_compiler, model_copy, capsys):
    out = model_copy.parent
    assert compile_if_available(model_copy, out, require=True) == 0
    compiled = out / "emotion_int8_edgetpu.tflite"
    assert compiled.read_bytes() == model_copy.read_bytes()
    log = (out / "emotion_int8_edgetpu.log").read_text()
    assert "Number of Edge TPU subgraphs: 1" in log and "FULLY_CONNECTED" in log
    assert "all 12 ops mapped" in capsys.readouterr().out
    assert sorted(p.name for p in out.iterdir()) == [
        "emotion_int8.tflite",
        "emotion_int8_edgetpu.log",
        "emotion_int8_edgetpu.tflite",
    ]


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        ("cpu", "LOCAL_RESPONSE_NORMALIZATION x1: Operation not supported"),
        ("two", "2 Edge TPU subgraphs"),
        ("crash", r"failed \(exit 1\): Invalid model: emotion_int8.tflite"),
    ],
)
def test_fake_compiler_failures_name_the_reason_and_leave_no_model(
    fake_compiler, model_copy, monkeypatch, mode, expected
):
    monkeypatch.setenv("FAKE_EDGETPU_MODE", mode)
    out = model_copy.parent
    with pytest.raises(ConvertError, match=expected):
        compile_if_available(model_copy, out, require=False)
    assert not (out / "emotion_int8_edgetpu.tflite").exists()
    assert (out / "emotion_int8_edgetpu.log").is_file()  # kept for the post-mortem
    assert not [p for p in out.iterdir() if p.name.startswith(".")]


def test_no_compiler_prints_one_line_unless_required(model_copy, monkeypatch, capsys):
    monkeypatch.setenv("PATH", str(model_copy.parent))
    assert shutil.which("edgetpu_compiler") is None
    assert compile_if_available(model_copy, model_copy.parent, require=False) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1 and "x86-64" in out[0] and "coral-edgetpu-stable" in out[0]
    with pytest.raises(ConvertError, match="--require-edgetpu"):
        compile_if_available(model_copy, model_copy.parent, require=True)


def test_named_cpu_only_conversion_never_runs_the_compiler(
    fake_compiler, tiny_keras, fer_dir, tmp_path, monkeypatch, capsys
):
    """``--name emotion_fast --no-compile``: the fast CPU model's files, and no compile even
    with a compiler on PATH (the fake one records that it ran)."""
    from convert.cli import main

    ran = tmp_path / "compiler-ran"
    monkeypatch.setenv("FAKE_EDGETPU_TOUCH", str(ran))
    out = tmp_path / "models"
    args = [str(tiny_keras), "--data", str(fer_dir), "--out", str(out), "--calibration-size", "21"]
    assert main([*args, "--name", "emotion_fast", "--no-compile"]) == 0
    assert sorted(p.name for p in out.iterdir()) == [
        "emotion.labels.txt",
        "emotion_fast_int8.parity.json",
        "emotion_fast_int8.tflite",
    ]
    assert "--no-compile: kept the CPU model" in capsys.readouterr().out
    assert not ran.exists()
    # The same fake compiler does run for the default name: the seam above is real.
    assert main([*args, "--name", "emotion"]) == 0
    assert ran.exists() and (out / "emotion_int8_edgetpu.tflite").is_file()
