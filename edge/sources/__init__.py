"""``open_source(cfg)``: the configured source, or for ``auto`` the first camera found, else the
bundled sample clip (so ``python -m edge run`` works on a laptop with no camera)."""

from __future__ import annotations

import logging
from pathlib import Path

from edge.config import SourceConfig
from edge.errors import SourceUnavailable
from edge.sources.base import Source
from edge.sources.files import ImageFolderSource, VideoFileSource

log = logging.getLogger(__name__)

SAMPLE_PATH = Path(__file__).resolve().parent.parent / "data" / "sample.mp4"

__all__ = ["SAMPLE_PATH", "Source", "open_source"]


def open_source(cfg: SourceConfig) -> Source:
    """Open ``cfg.uri``: auto | sample | picamera | /dev/videoN | N | video file | image folder."""
    uri = cfg.uri
    if uri == "auto":
        return _open_auto(cfg)
    if uri == "sample":
        return VideoFileSource(SAMPLE_PATH)
    if uri == "picamera":
        from edge.sources.picamera import PicameraSource

        return PicameraSource((cfg.width, cfg.height), (cfg.lores_width, cfg.lores_height))
    if uri.isdigit() or uri.startswith("/dev/video"):
        from edge.sources.opencv import OpenCVSource

        return OpenCVSource(int(uri) if uri.isdigit() else uri, cfg.width, cfg.height)
    path = Path(uri).expanduser()
    if path.is_dir():
        return ImageFolderSource(path)
    if path.exists():
        return VideoFileSource(path)
    raise SourceUnavailable(f"source.uri: no such file, folder or camera: {uri}")


def _open_auto(cfg: SourceConfig) -> Source:
    for uri in ("picamera", "/dev/video0"):
        if uri == "/dev/video0" and not Path(uri).exists():
            log.info("source auto: no %s", uri)
            continue
        try:
            return open_source(SourceConfig(**{**cfg.__dict__, "uri": uri}))
        except SourceUnavailable as exc:
            log.info("source auto: %s", exc)
    log.info("source auto: no camera found; playing the bundled sample %s", SAMPLE_PATH)
    return VideoFileSource(SAMPLE_PATH)
