"""The unit file: systemd-analyze verify and security (where installed), and the key settings."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys

import pytest

from tests.edge.conftest import REPO

UNIT = REPO / "systemd" / "emotion-edge.service"
RULES = REPO / "systemd" / "60-emotion-edge-coral.rules"
ANALYZE = shutil.which("systemd-analyze")
needs_analyze = pytest.mark.skipif(ANALYZE is None, reason="systemd-analyze not installed")


def settings() -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for line in UNIT.read_text().splitlines():
        if "=" in line and not line.lstrip().startswith("#") and not line.startswith("["):
            key, value = line.split("=", 1)
            out.setdefault(key.strip(), []).append(value.strip())
    return out


def test_unit_has_the_required_settings():
    s = settings()
    assert s["Type"] == ["notify"] and s["Restart"] == ["on-failure"]
    assert int(s["WatchdogSec"][0]) > 0
    assert {"video", "plugdev"} <= set(s["SupplementaryGroups"][0].split())
    assert s["User"] == ["emotion-edge"] and "StateDirectory" in s
    assert "/etc/emotion-edge/config.toml" in s["ExecStart"][0]
    # These would hide or block the camera and the Coral (edge-facts.md).
    for key in ("PrivateDevices", "PrivateUsers", "ProtectClock", "DevicePolicy"):
        assert key not in s, key


def test_udev_rules_cover_both_coral_usb_ids_and_pcie():
    text = RULES.read_text()
    for vendor, product in (("1a6e", "089a"), ("18d1", "9302")):
        assert re.search(rf'idVendor}}=="{vendor}", ATTRS{{idProduct}}=="{product}".*plugdev', text)
    assert 'SUBSYSTEM=="apex"' in text


@needs_analyze
def test_systemd_analyze_verify(tmp_path):
    unit = tmp_path / UNIT.name  # ExecStart must exist here: point it at this interpreter
    unit.write_text(UNIT.read_text().replace("/opt/emotion-edge/.venv/bin/python", sys.executable))
    done = subprocess.run([ANALYZE, "verify", str(unit)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert UNIT.name not in done.stderr, done.stderr


@needs_analyze
def test_security_exposure_is_at_most_2():
    done = subprocess.run(
        [ANALYZE, "security", "--offline=true", str(UNIT)], capture_output=True, text=True
    )
    match = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", done.stdout + done.stderr)
    assert match, done.stdout + done.stderr
    assert float(match.group(1)) <= 2.0
