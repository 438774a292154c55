"""selftest's Coral and delegate checks, and Coral detection, on a fake sysfs/dev tree."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from edge.backends import load_classifier
from edge.backends.probe import compile_command, find_coral
from edge.config import ModelConfig, from_dict
from edge.selftest import selftest

BROKEN = "Failed to load delegate from libedgetpu.so.1"


def fake_tree(root: Path, usb: tuple[str, str] | None = None, apex: bool = False) -> tuple:
    """``(sysfs_usb, dev)`` with a hub, a keyboard and optionally a Coral."""
    sysfs, dev = root / "sys" / "bus" / "usb" / "devices", root / "dev"
    dev.mkdir(parents=True)
    devices = {"usb1": ("1d6b", "0002"), "1-1.2": ("046d", "c31c")}
    if usb:
        devices["1-1.3"] = usb
    for name, (vendor, product) in devices.items():
        (sysfs / name).mkdir(parents=True)
        (sysfs / name / "idVendor").write_text(vendor + "\n")
        (sysfs / name / "idProduct").write_text(product + "\n")
    (sysfs / "1-1.2:1.0").mkdir()  # an interface: no id files
    if apex:
        (dev / "apex_0").touch()
    return sysfs, dev


@pytest.mark.parametrize(
    ("usb", "apex", "expect"),
    [
        (("1a6e", "089a"), False, "USB Coral 1a6e:089a (before firmware load)"),
        (("18d1", "9302"), False, "USB Coral 18d1:9302 (firmware loaded)"),
        (None, True, "PCIe Coral at"),
        (("18d1", "9303"), False, None),
        (None, False, None),
    ],
)
def test_find_coral(tmp_path, usb, apex, expect):
    found = find_coral(*fake_tree(tmp_path, usb, apex))
    assert found == expect if expect is None else expect in found


def test_find_coral_without_sysfs(tmp_path):
    assert find_coral(tmp_path / "no-sys", tmp_path / "no-dev") is None


def run_selftest(capsys, model: Path, edgetpu: Path, coral: str | None, probe) -> tuple:
    cfg = from_dict(
        {
            "model": {"path": str(model), "edgetpu_path": str(edgetpu)},
            "source": {"uri": "/dev/video97"},
        }
    )
    rc = selftest(cfg, probe=probe, coral=lambda: coral)
    lines = capsys.readouterr().out.splitlines()
    checks = [ln for ln in lines if ln[:4] in ("PASS", "FAIL", "SKIP")]
    return rc, {ln.split(":")[0][6:]: ln for ln in checks}


def never(*_):
    raise AssertionError("the probe must not run")


def test_coral_with_a_model_whose_delegate_fails_is_a_fail(model, tmp_path, capsys):
    coral = find_coral(*fake_tree(tmp_path, ("18d1", "9302")))
    rc, by = run_selftest(capsys, model, model, coral, lambda *_: BROKEN)
    assert by["coral"].startswith("PASS") and "18d1:9302" in by["coral"]
    assert by["edgetpu delegate"].startswith("FAIL") and BROKEN in by["edgetpu delegate"]
    assert rc == 1


def test_coral_without_a_compiled_model_skips_with_the_command(model, tmp_path, capsys):
    coral = find_coral(*fake_tree(tmp_path, ("1a6e", "089a")))
    missing = tmp_path / "emotion_int8_edgetpu.tflite"
    rc, by = run_selftest(capsys, model, missing, coral, never)
    line = by["edgetpu delegate"]
    # The TPU gets the accurate model the compiled name comes from, not the (fast) CPU model.
    source = tmp_path / "emotion_int8.tflite"
    assert line.startswith("SKIP") and compile_command(source, missing) in line
    assert f"edgetpu_compiler -s -o {tmp_path} {source}" in line


def test_no_coral_skips_even_when_the_delegate_fails(model, tmp_path, capsys):
    rc, by = run_selftest(capsys, model, model, None, lambda *_: BROKEN)
    assert by["coral"].startswith("SKIP") and by["edgetpu delegate"].startswith("SKIP")
    assert BROKEN in by["edgetpu delegate"]
    assert "PASS  runtime" in by["runtime"] and "numpy" in by["runtime"]


def test_coral_with_a_working_delegate_passes(model, tmp_path, capsys):
    coral = find_coral(*fake_tree(tmp_path, apex=True))
    rc, by = run_selftest(capsys, model, model, coral, lambda *_: None)
    assert by["edgetpu delegate"].startswith("PASS")


def test_compile_command_renames_when_the_configured_name_differs(tmp_path):
    made = compile_command(tmp_path / "a.tflite", tmp_path / "out" / "b.tflite")
    assert made == (
        f"edgetpu_compiler -s -o {tmp_path / 'out'} {tmp_path / 'a.tflite'}"
        f" && mv {tmp_path / 'out' / 'a_edgetpu.tflite'} {tmp_path / 'out' / 'b.tflite'}"
    )


def test_auto_warns_that_a_present_coral_is_unused_without_a_model(model, tmp_path, caplog):
    coral = find_coral(*fake_tree(tmp_path, ("18d1", "9302")))
    cfg = ModelConfig(path=model, edgetpu_path=tmp_path / "none_edgetpu.tflite")
    with caplog.at_level(logging.WARNING):
        clf = load_classifier(cfg, "auto", probe=never, coral=lambda: coral)
    assert clf.name == "cpu"
    (msg,) = [r.getMessage() for r in caplog.records]
    assert "a Coral is present (USB Coral 18d1:9302" in msg and "but unused" in msg
    assert "no compiled model" in msg and "edgetpu_compiler -s -o" in msg


def test_auto_warns_that_a_present_coral_is_unused_when_the_delegate_fails(model, caplog):
    cfg = ModelConfig(path=model, edgetpu_path=model)
    with caplog.at_level(logging.WARNING):
        clf = load_classifier(cfg, "auto", probe=lambda *_: BROKEN, coral=lambda: "PCIe Coral")
    assert clf.name == "cpu"
    assert [r.getMessage() for r in caplog.records] == [
        f"Edge TPU unavailable, running on CPU: {BROKEN} (a Coral is present but unused: "
        "PCIe Coral)"
    ]
