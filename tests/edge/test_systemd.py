"""The unit file: systemd-analyze verify and security (where installed), and the key settings."""

from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
import sys

import pytest

from edge.config import load as config_load
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


# --- issue 12: the drop-in for [mqtt]/[http], install.sh's release check, the Pi requirements

INSTALL = REPO / "systemd" / "install.sh"
SINKS = "[mqtt]\nenabled = true\nhost = {broker!r}\n[http]\nenabled = {http}\nhost = {host!r}\n"
TOKEN = 'token = "0123456789abcdef0"\n'


def load_dropin_module():
    spec = importlib.util.spec_from_file_location("dropin", REPO / "systemd" / "dropin.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def dropin_for(tmp_path, text: str, resolve=None) -> str:
    mod = load_dropin_module()
    (tmp_path / "c.toml").write_text(text)
    (tmp_path / "resolv.conf").write_text("# dhcp\nnameserver 192.168.1.1\nnameserver ::1\n")
    kwargs = {"resolve": resolve} if resolve else {}
    cfg = config_load(tmp_path / "c.toml")
    return mod.dropin(cfg, resolv_conf=tmp_path / "resolv.conf", **kwargs)


def allowed(text: str) -> list[str]:
    return [ln.split("=", 1)[1] for ln in text.splitlines() if ln.startswith("IPAddressAllow=")]


def test_no_sinks_no_dropin(tmp_path):
    assert dropin_for(tmp_path, "[mqtt]\nenabled = false\n") == ""


def test_dropin_opens_only_the_broker_and_loopback(tmp_path):
    text = dropin_for(tmp_path, SINKS.format(broker="192.168.1.10", http="true", host="127.0.0.1"))
    assert allowed(text) == ["192.168.1.10 localhost"]
    assert "RestrictAddressFamilies=\n" in text  # reset, then the full list
    assert "RestrictAddressFamilies=AF_UNIX AF_NETLINK AF_INET AF_INET6" in text
    assert "After=network-online.target" in text


def test_dropin_resolves_a_broker_name_and_allows_the_nameservers(tmp_path):
    text = dropin_for(
        tmp_path,
        "[mqtt]\nenabled = true\nhost = 'broker.lan'\n",
        resolve=lambda host: ["192.168.1.20", "fd00::20", "192.168.1.20"],
    )
    assert allowed(text) == ["192.168.1.20 fd00::20 192.168.1.1 localhost"]


def test_dropin_for_a_lan_status_page_allows_private_ranges_only(tmp_path):
    text = dropin_for(
        tmp_path, "[http]\nenabled = true\nhost = '0.0.0.0'\n" + TOKEN, resolve=lambda h: []
    )
    (entries,) = allowed(text)
    assert "192.168.0.0/16" in entries and "10.0.0.0/8" in entries and "any" not in entries


def test_dropin_refuses_a_broker_that_does_not_resolve(tmp_path):
    def fail(host):
        raise OSError("Name or service not known")

    mod = load_dropin_module()
    with pytest.raises(mod.EdgeError, match="'nowhere.invalid' does not resolve"):
        dropin_for(tmp_path, "[mqtt]\nenabled = true\nhost = 'nowhere.invalid'\n", fail)


def test_default_unit_allows_no_ip():
    s = settings()
    assert s["IPAddressDeny"] == ["any"] and "IPAddressAllow" not in s
    assert s["RestrictAddressFamilies"] == ["AF_UNIX AF_NETLINK"]


def unit_with_dropin(tmp_path) -> tuple:
    """The unit with the drop-in for both sinks on the LAN appended (same semantics)."""
    sinks = SINKS.format(broker="192.168.1.10", http="true", host="0.0.0.0") + TOKEN
    text = dropin_for(tmp_path, sinks)
    body = UNIT.read_text().replace("/opt/emotion-edge/.venv/bin/python", sys.executable)
    unit = tmp_path / "with-sinks" / UNIT.name
    unit.parent.mkdir()
    unit.write_text(body + "\n" + text)
    return unit, text


@needs_analyze
def test_unit_with_the_sinks_dropin_verifies_and_scores_at_most_2(tmp_path):
    unit, _ = unit_with_dropin(tmp_path)
    done = subprocess.run([ANALYZE, "verify", str(unit)], capture_output=True, text=True)
    assert done.returncode == 0 and UNIT.name not in done.stderr, done.stderr
    done = subprocess.run(
        [ANALYZE, "security", "--offline=true", str(unit)], capture_output=True, text=True
    )
    out = done.stdout + done.stderr
    assert "Service may allocate Internet sockets" in out  # the drop-in took effect
    match = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", out)
    assert match and float(match.group(1)) <= 2.0, out


def preflight(tmp_path, codename: str, arch: str) -> subprocess.CompletedProcess:
    (tmp_path / "os-release").write_text(f'ID=debian\nVERSION_CODENAME="{codename}"\n')
    env = {"PATH": "/usr/bin:/bin", "OS_RELEASE": str(tmp_path / "os-release"), "DPKG_ARCH": arch}
    return subprocess.run(
        ["sh", str(INSTALL), "--preflight"], capture_output=True, text=True, env=env
    )


@pytest.mark.parametrize(("codename", "arch"), [("bookworm", "arm64"), ("trixie", "arm64")])
def test_install_accepts_64_bit_bookworm_and_trixie(tmp_path, codename, arch):
    done = preflight(tmp_path, codename, arch)
    assert done.returncode == 0 and f"{codename} {arch}: ok" in done.stdout, done.stderr


@pytest.mark.parametrize(
    ("codename", "arch", "why"),
    [
        ("bookworm", "armhf", "32-bit userland (armhf)"),
        ("bullseye", "arm64", "release 'bullseye' is not supported"),
        ("trixie", "riscv64", "architecture riscv64 is not supported"),
    ],
)
def test_install_refuses_other_systems_in_one_line(tmp_path, codename, arch, why):
    done = preflight(tmp_path, codename, arch)
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.count("\n") == 1 and why in done.stderr, done.stderr


def test_install_refuses_before_changing_anything():
    text = INSTALL.read_text()
    first_change = min(text.index(w) for w in ("apt-get update", "groupadd", "mkdir -p"))
    assert text.index("\npreflight\n") < first_change
    assert "--upgrade" not in text and "requirements-edge.txt" not in text
    assert '-r "$PREFIX/requirements-pi.txt" -c "$PREFIX/constraints-pi-$CODENAME.txt"' in text
    assert "python3-opencv opencv-data" in text  # apt's cv2 ships no Haar cascades
    assert 'chmod 0640 "$ETC/config.toml"' in text
    assert 'chown "root:$SERVICE_USER" "$ETC/config.toml"' in text


def test_installed_config_requires_the_camera(tmp_path):
    """install.sh's sed on the example config: absolute model paths, require_camera = true."""
    text = INSTALL.read_text()
    sed = text[text.index('[ -f "$ETC/config.toml" ] || sed') :].split("\n")
    exprs = [ln.split("-e ", 1)[1].rsplit(" \\", 1)[0] for ln in sed if "-e " in ln]
    cmd = ["sed", *[a for e in exprs for a in ("-e", e.strip('"').replace("$PREFIX", "/opt/e"))]]
    example = REPO / "edge" / "config.example.toml"
    out = subprocess.run([*cmd, str(example)], capture_output=True, text=True, check=True).stdout
    (tmp_path / "c.toml").write_text(out)
    cfg = config_load(tmp_path / "c.toml")
    assert cfg.source.require_camera and cfg.source.uri == "auto"
    assert str(cfg.model.path) == "/opt/e/models/emotion_fast_int8.tflite"
    assert str(cfg.model.edgetpu_path) == "/opt/e/models/emotion_int8_edgetpu.tflite"
    assert str(cfg.model.tpu_source) == "/opt/e/models/emotion_int8.tflite"


def requirement_names(path) -> list[str]:
    lines = [ln.split("#")[0].strip() for ln in path.read_text().splitlines()]
    return [re.split(r"[<>=!~ ;\[]", ln)[0].lower() for ln in lines if ln]


def test_pi_requirements_leave_numpy_and_opencv_to_apt():
    names = requirement_names(REPO / "requirements-pi.txt")
    assert "ai-edge-litert" in names
    for banned in ("numpy", "opencv-python", "opencv-python-headless", "pycoral", "tensorflow"):
        assert banned not in names


@pytest.mark.parametrize(("release", "series"), [("bookworm", "<2"), ("trixie", "<2.3")])
def test_constraints_pin_each_release(release, series):
    path = REPO / f"constraints-pi-{release}.txt"
    lines = [ln.split("#")[0].strip() for ln in path.read_text().splitlines()]
    pins = [ln for ln in lines if ln]
    numpy = [p for p in pins if p.startswith("numpy")]
    assert len(numpy) == 1 and numpy[0].endswith(series)
    assert all("==" in p for p in pins if not p.startswith("numpy")), pins
    pinned = {re.split("==", p)[0].lower() for p in pins}
    assert set(requirement_names(REPO / "requirements-pi.txt")) <= pinned
