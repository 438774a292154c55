"""``source.uri = "auto"``: the demo falls back to the sample clip; the service never does."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from edge.cli import main
from edge.config import SourceConfig
from edge.errors import SourceUnavailable
from edge.sources import SAMPLE_PATH, camera_required, open_source

SERVICE_ENV = {"INVOCATION_ID": "0123abcd", "NOTIFY_SOCKET": "/run/systemd/notify"}
NUMPY_TRAP = (
    "numpy.dtype size changed, may indicate binary incompatibility. "
    "Expected 96 from C header, got 88 from PyObject"
)


@pytest.fixture
def no_picamera2(monkeypatch):
    monkeypatch.setitem(sys.modules, "picamera2", None)  # import raises ImportError


@pytest.fixture
def trapped_picamera2(monkeypatch, tmp_path):
    """A picamera2 that fails to import the way apt's does next to pip's numpy 2."""
    pkg = tmp_path / "site" / "picamera2"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text(f"raise ValueError({NUMPY_TRAP!r})\n")
    monkeypatch.syspath_prepend(str(pkg.parent))
    monkeypatch.delitem(sys.modules, "picamera2", raising=False)


def test_demo_auto_without_a_camera_plays_the_sample(no_picamera2, tmp_path):
    source = open_source(SourceConfig(uri="auto"), environ={}, dev=tmp_path)
    try:
        assert source.name == str(SAMPLE_PATH) or SAMPLE_PATH.name in source.name
    finally:
        source.close()


def test_a_terminal_with_only_invocation_id_is_still_the_demo():
    assert not camera_required(SourceConfig(), {"INVOCATION_ID": "x"})
    assert camera_required(SourceConfig(), SERVICE_ENV)
    assert camera_required(SourceConfig(require_camera=True), {})


@pytest.mark.parametrize(
    ("cfg", "env", "why"),
    [
        (SourceConfig(require_camera=True), {}, "source.require_camera = true"),
        (SourceConfig(), SERVICE_ENV, "running under systemd"),
    ],
)
def test_service_auto_without_a_camera_is_an_error(no_picamera2, tmp_path, cfg, env, why):
    with pytest.raises(SourceUnavailable) as err:
        open_source(cfg, environ=env, dev=tmp_path)
    text = str(err.value)
    assert "no camera" in text and why in text and "no sample-clip fallback" in text
    assert "picamera2 is not importable" in text and f"no {tmp_path / 'video0'}" in text
    assert "\n" not in text


def test_a_picamera2_broken_by_numpy_names_the_cause(trapped_picamera2, tmp_path):
    with pytest.raises(SourceUnavailable, match="ValueError: numpy.dtype size changed"):
        open_source(SourceConfig(uri="picamera"), environ={}, dev=tmp_path)
    with pytest.raises(SourceUnavailable, match="numpy.dtype size changed.*no sample-clip"):
        open_source(SourceConfig(require_camera=True), environ={}, dev=tmp_path)


def test_service_run_exits_1_with_one_line(no_picamera2, model, tmp_path, capsys):
    if Path("/dev/video0").exists():
        pytest.skip("this machine has a /dev/video0")
    cfg = tmp_path / "config.toml"
    cfg.write_text("[source]\nrequire_camera = true\n")
    rc = main(["run", "--config", str(cfg), "--backend", "cpu", "--model", str(model)])
    err = [ln for ln in capsys.readouterr().err.splitlines() if ln.startswith("edge: error")]
    assert rc == 1 and len(err) == 1
    assert "source auto: no camera" in err[0] and "picamera2 is not importable" in err[0]


def test_a_password_in_an_unopenable_uri_is_not_repeated():
    with pytest.raises(SourceUnavailable) as err:
        open_source(SourceConfig(uri="rtsp://admin:hunter2@cam.local/stream"))
    assert "hunter2" not in str(err.value) and "rtsp://***@cam.local/stream" in str(err.value)
