"""Finite sources: a video file and a folder of images (CI, benchmarks, the bundled demo)."""

from __future__ import annotations

import logging
from pathlib import Path

import cv2

from edge.errors import SourceUnavailable
from edge.types import Frame

log = logging.getLogger(__name__)

MAX_SKIP = 25  # undecodable frames in a row skipped before a video counts as ended
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp"}


class VideoFileSource:
    """Frames of a video file in order; ``read()`` is None at the end.

    A frame that does not decode (a damaged file) is skipped, up to ``MAX_SKIP`` in a row; a
    file that skipped frames or stopped decoding before its frame count ends with one WARNING
    naming how far it got, not silently as if complete.
    """

    def __init__(self, path: Path) -> None:
        self.name = str(path)
        if not Path(path).is_file():
            raise SourceUnavailable(f"video file not found: {path}")
        self._cap = cv2.VideoCapture(str(path))
        ok, first = self._cap.read() if self._cap.isOpened() else (False, None)
        if not ok:
            self._cap.release()
            raise SourceUnavailable(f"cannot read video {path} (not a video OpenCV can decode)")
        self._first = first
        self.total = max(0, int(self._cap.get(cv2.CAP_PROP_FRAME_COUNT)))  # 0: unknown
        self.decoded = 1
        self.skipped = 0
        self._ended = False

    def read(self) -> Frame | None:
        if self._first is not None:
            bgr, self._first = self._first, None
            return Frame(bgr)
        if self._ended:
            return None
        ok, bgr = self._cap.read()
        failures = 0
        while not ok and failures < MAX_SKIP and self.decoded + self.skipped < self.total:
            failures += 1
            self.skipped += 1
            ok, bgr = self._cap.read()
        if not ok:
            self._end()
            return None
        if failures:  # the total is in the WARNING at the end
            log.debug(
                "video %s: %d undecodable frame(s) skipped after frame %d",
                self.name,
                failures,
                self.decoded,
            )
        self.decoded += 1
        return Frame(bgr)

    def _end(self) -> None:
        self._ended = True
        if self.decoded + self.skipped < self.total or self.skipped:
            log.warning(
                "video %s: decoding stopped after %d of %d frames (%d undecodable skipped); "
                "the file is damaged or cut short",
                self.name,
                self.decoded,
                self.total,
                self.skipped,
            )

    def close(self) -> None:
        self._cap.release()


class ImageFolderSource:
    """The images of a folder in name order; unreadable files are skipped with a warning."""

    def __init__(self, folder: Path) -> None:
        self.name = str(folder)
        # Names as str, made once: ``str(Path)`` caches its text on first use, so a list of
        # Path objects grows by ~80 bytes per frame over a long folder (seen in a soak).
        self._paths = sorted(
            str(p) for p in Path(folder).iterdir() if p.suffix.lower() in IMAGE_SUFFIXES
        )
        if not self._paths:
            raise SourceUnavailable(f"no images ({', '.join(sorted(IMAGE_SUFFIXES))}) in {folder}")
        self._next = 0

    def read(self) -> Frame | None:
        while self._next < len(self._paths):
            path = self._paths[self._next]
            self._next += 1
            bgr = cv2.imread(path, cv2.IMREAD_COLOR)
            if bgr is not None:
                return Frame(bgr)
            log.warning("skipping unreadable image %s", path)
        return None

    def close(self) -> None:
        self._next = len(self._paths)
