"""The annotated preview: boxes, ids and labels drawn on the frame, JPEG-encoded on its own
thread at most ``preview_fps`` times a second, and only while a client asks for it; plus the
thumbnails of the last smile captures. Held in memory only, never written to disk.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

    from edge.sinks.http.sink import HttpConfig
    from edge.types import Frame, FrameResult

log = logging.getLogger(__name__)

WANT_S = 2.0  # keep encoding this long after the last preview request


def annotate(bgr: np.ndarray, faces: tuple, width: int) -> np.ndarray:
    """A copy of ``bgr`` at most ``width`` wide with each face's box, id and smoothed label."""
    import cv2

    scale = min(1.0, width / bgr.shape[1])
    out = cv2.resize(bgr, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    for f in faces:
        x, y, w, h = (round(v * scale) for v in f.box)
        cv2.rectangle(out, (x, y), (x + w, y + h), (0, 255, 0), 2)
        text = f"#{f.id} {f.smoothed}"
        cv2.putText(out, text, (x, max(12, y - 6)), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 255, 0), 1)
    return out


def mjpeg_part(jpeg: bytes) -> bytes:
    """One ``multipart/x-mixed-replace; boundary=frame`` part holding ``jpeg``."""
    head = f"--frame\r\nContent-Type: image/jpeg\r\nContent-Length: {len(jpeg)}\r\n\r\n"
    return head.encode() + jpeg + b"\r\n"


class Preview:
    """The latest annotated JPEG, encoded on its own thread, at most ``fps`` per second."""

    def __init__(self, cfg: HttpConfig, clock: Callable[[], float] = time.monotonic) -> None:
        self.cfg = cfg
        self.clock = clock
        self.seq = 0
        self.jpeg = b""
        self.jpeg_at = 0.0
        self.part = b""  # the multipart chunk of ``jpeg`` for /stream.mjpg
        self.thumbnails: deque[tuple[int, bytes]] = deque(maxlen=5)
        self._wanted_until = 0.0
        self._next_due = 0.0
        self._job: tuple | None = None
        self._captures: deque[tuple[int, np.ndarray]] = deque(maxlen=3)
        self._cond = threading.Condition()
        self._stop = False
        self._thread = threading.Thread(target=self._work, name="preview", daemon=True)
        self._thread.start()

    def want(self) -> None:
        """A client wants frames: keep encoding for the next ``WANT_S`` seconds."""
        self._wanted_until = self.clock() + WANT_S

    def offer(self, frame: Frame, result: FrameResult, capture_no: int) -> None:
        """Frame loop: copy the frame if a client wants it and one is due (O(1) otherwise)."""
        now = self.clock()
        due = now < self._wanted_until and now >= self._next_due
        if not due and not capture_no:
            return
        bgr = frame.bgr.copy()  # the source may reuse its buffer
        with self._cond:
            if due:
                self._next_due = now + 1.0 / self.cfg.preview_fps
                self._job = (bgr, result.faces)
            if capture_no:
                self._captures.append((capture_no, bgr))
            self._cond.notify_all()

    def wait_newer(self, seq: int, timeout: float, part: bool = False) -> tuple[int, bytes] | None:
        """The latest JPEG (or its multipart chunk) once its number is above ``seq``; None
        after ``timeout`` s."""
        with self._cond:
            ok = self._cond.wait_for(lambda: self.seq > seq or self._stop, timeout)
            if not ok or self.seq <= seq:
                return None
            return self.seq, self.part if part else self.jpeg

    def latest(self, max_age_s: float, timeout: float) -> bytes | None:
        """A JPEG at most ``max_age_s`` old, waiting up to ``timeout`` s for a new one."""
        self.want()
        seq, fresh = self.seq, self.clock() - self.jpeg_at <= max_age_s
        if fresh and self.jpeg:
            return self.jpeg
        got = self.wait_newer(seq, timeout)
        return got[1] if got else None

    @property
    def closed(self) -> bool:
        return self._stop

    def close(self) -> None:
        with self._cond:
            self._stop = True
            self._cond.notify_all()
        self._thread.join(timeout=5)

    def _work(self) -> None:
        import cv2

        quality = [cv2.IMWRITE_JPEG_QUALITY, self.cfg.jpeg_quality]
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._job or self._captures or self._stop)
                if self._stop:
                    return
                job, self._job = self._job, None
                capture = self._captures.popleft() if self._captures else None
            try:
                if job is not None:
                    image = annotate(job[0], job[1], self.cfg.preview_width)
                    data = cv2.imencode(".jpg", image, quality)[1].tobytes()
                    part = mjpeg_part(data)  # built once, written to every stream client
                    with self._cond:
                        self.seq, self.jpeg, self.jpeg_at = self.seq + 1, data, self.clock()
                        self.part = part
                        self._cond.notify_all()
                if capture is not None:
                    small = annotate(capture[1], (), 240)
                    self.thumbnails.append((capture[0], cv2.imencode(".jpg", small)[1].tobytes()))
            except Exception:  # a bad frame must not end the preview
                log.exception("preview encoding failed")
