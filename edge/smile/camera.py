"""Smile mode: the stage between ``Pipeline.process`` and the sinks that takes group stills.

``SmileCamera.apply(frame, result)`` feeds each face's smoothed happy score (by track id) to
``SmileTrigger``; when it fires, the still (a full-resolution capture from the source when it
has one, else the frame itself) is saved by ``CaptureWriter`` and the result comes back with
``capture`` set, so the events line of that frame carries it.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from edge.smile.capture import CaptureWriter, capture_event
from edge.smile.trigger import SmileTrigger
from edge.types import Face, Frame, FrameResult

log = logging.getLogger(__name__)


def capture_directory(directory: Path, env: Mapping[str, str] = os.environ) -> Path:
    """``directory``, or for a relative one, under systemd's ``$STATE_DIRECTORY`` when set."""
    state = env.get("STATE_DIRECTORY", "").split(":")[0]
    if directory.is_absolute() or not state:
        return directory
    return Path(state) / directory


def source_still(source: object) -> Callable[[], np.ndarray | None]:
    """The source's ``capture_still`` (picamera2's still configuration), else "use the frame"."""
    still = getattr(source, "capture_still", None)
    return still if callable(still) else (lambda: None)


class SmileCamera:
    """``apply(frame, result) -> result``, with ``capture`` set on the frame a still was saved.

    ``still`` returns a full-resolution still or None to save ``frame.bgr``; sidecar boxes are
    scaled to the saved image. ``info`` (a mapping, or a callable giving one at capture time,
    e.g. the backend after a failover) goes into the sidecar.
    """

    def __init__(
        self,
        trigger: SmileTrigger,
        writer: CaptureWriter,
        labels: Sequence[str],
        info: Mapping[str, Any] | Callable[[], Mapping[str, Any]],
        still: Callable[[], np.ndarray | None] = lambda: None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.trigger = trigger
        self.writer = writer
        self.labels = tuple(labels)
        self.happy = self.labels.index("happy")
        self.info = info
        self.still = still
        self.clock = clock

    def apply(self, frame: Frame, result: FrameResult) -> FrameResult:
        happy = {f.id: float(f.smoothed_scores[self.happy]) for f in result.faces}
        if not self.trigger.update(happy, self.clock()):
            return result
        image = self.still()
        image = frame.bgr if image is None else image
        sx = image.shape[1] / frame.bgr.shape[1]
        sy = image.shape[0] / frame.bgr.shape[0]
        faces = [self._face(f, happy[f.id], sx, sy) for f in result.faces]
        info = self.info() if callable(self.info) else self.info
        meta = {"frame": result.frame, "faces": faces, **info}
        path = self.writer.save(image, result.ts, meta)
        if path is None:
            return result
        return dataclasses.replace(result, capture=capture_event(path, result.ts))

    def _face(self, f: Face, happy: float, sx: float, sy: float) -> dict[str, Any]:
        x, y, w, h = f.box
        return {
            "id": f.id,
            "box": [round(x * sx), round(y * sy), round(w * sx), round(h * sy)],
            "happy": round(happy, 4),
            "smoothed": f.smoothed,
            "scores": f.label_scores(self.labels, smoothed=True),
        }
