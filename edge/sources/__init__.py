"""``open_source(cfg)``: the configured source, or for ``auto`` the first camera found.

``auto`` falls back to the bundled sample clip only for the demo (``python -m edge run`` on a
laptop with no camera). Under systemd, or with ``source.require_camera = true`` (the installed
config), ``auto`` means camera or error: a missing camera, or a picamera2 that fails to import,
raises ``SourceUnavailable`` naming each cause, so the service exits non-zero and is restarted
instead of quietly watching the sample clip.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import re
from collections.abc import Mapping
from pathlib import Path

from edge.config import SourceConfig
from edge.errors import SourceUnavailable
from edge.sources.base import Source
from edge.sources.files import ImageFolderSource, VideoFileSource

log = logging.getLogger(__name__)

SAMPLE_PATH = Path(__file__).resolve().parent.parent / "data" / "sample.mp4"
DEV = Path("/dev")

__all__ = ["SAMPLE_PATH", "Source", "camera_required", "open_camera", "open_source"]


def camera_required(cfg: SourceConfig, environ: Mapping[str, str] | None = None) -> bool:
    """True when ``auto`` must not fall back to the sample: the config says so, or we run as a
    systemd service (``INVOCATION_ID`` and ``NOTIFY_SOCKET`` both set, as for our Type=notify
    unit; a desktop terminal may carry ``INVOCATION_ID`` alone)."""
    env = os.environ if environ is None else environ
    return cfg.require_camera or bool(env.get("INVOCATION_ID") and env.get("NOTIFY_SOCKET"))


def open_source(
    cfg: SourceConfig, environ: Mapping[str, str] | None = None, dev: Path = DEV
) -> Source:
    """Open ``cfg.uri``: auto | sample | picamera | /dev/videoN | N | video file | image folder."""
    uri = cfg.uri
    if uri == "auto":
        return _open_auto(cfg, camera_required(cfg, environ), dev)
    if uri == "sample":
        return VideoFileSource(SAMPLE_PATH)
    if uri == "picamera":
        from edge.sources.picamera import PicameraSource

        return PicameraSource((cfg.width, cfg.height), (cfg.lores_width, cfg.lores_height))
    if uri.isdigit() or uri.startswith(("/dev/video", str(dev / "video"))):
        from edge.sources.opencv import OpenCVSource

        return OpenCVSource(int(uri) if uri.isdigit() else uri, cfg.width, cfg.height)
    path = Path(uri).expanduser()
    if path.is_dir():
        return ImageFolderSource(path)
    if path.exists():
        return VideoFileSource(path)
    raise SourceUnavailable(f"source.uri: no such file, folder or camera: {_without_password(uri)}")


def _without_password(uri: str) -> str:
    """``uri`` with its ``user:password@`` part masked: a URL typed here stays out of logs."""
    return re.sub(r"^([a-zA-Z][a-zA-Z0-9+.-]*://)[^/@]*@", r"\1***@", uri)


def open_camera(cfg: SourceConfig, dev: Path = DEV) -> Source:
    """The first camera that opens, in ``auto``'s order: the Pi camera, then ``/dev/video0``.

    Raises:
        SourceUnavailable: no camera opened; the message names each one's cause.
    """
    causes = []
    for uri in ("picamera", str(dev / "video0")):
        if uri != "picamera" and not Path(uri).exists():
            causes.append(f"no {uri}")
            log.info("source auto: no %s", uri)
            continue
        try:
            return open_source(dataclasses.replace(cfg, uri=uri), dev=dev)
        except SourceUnavailable as exc:
            causes.append(str(exc))
            log.info("source auto: %s", exc)
    raise SourceUnavailable("; ".join(causes))


def _open_auto(cfg: SourceConfig, strict: bool, dev: Path) -> Source:
    try:
        return open_camera(cfg, dev)
    except SourceUnavailable as exc:
        if strict:
            why = "source.require_camera = true" if cfg.require_camera else "running under systemd"
            raise SourceUnavailable(
                f"source auto: no camera ({exc}); {why}, so no sample-clip fallback"
            ) from None
    log.info("source auto: no camera found; playing the bundled sample %s", SAMPLE_PATH)
    return VideoFileSource(SAMPLE_PATH)
