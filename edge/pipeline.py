"""The frame loop: a plain sequence of small stages, no hardware imports.

``Pipeline.process`` turns one ``Frame`` into a ``FrameResult`` (detect → crop → classify →
track); ``run`` reads a source until it ends or ``stop`` is set, retrying failed reads a bounded
number of times. ``clock`` (event timestamps) and ``timer`` (per-stage timing, for ``bench``) are
injectable, so tests don't sleep.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from edge.backdrop import Backdrop
from edge.backends.base import Classifier
from edge.carry import BoxCarry, without_parts
from edge.config import Config, FacesConfig
from edge.detection import FaceDetector, load_detector
from edge.errors import SourceReadError
from edge.preprocess import DetectionImage, crop_box, crop_face, to_grey
from edge.scan import Scan, to_detection
from edge.sources.base import Source
from edge.timing import STAGES, StageTimer  # noqa: F401  (re-exported)
from edge.tracking import Tracker
from edge.types import Box, Face, Frame, FrameResult

log = logging.getLogger(__name__)


class Pipeline:
    """Detect, crop, classify and track the faces of one frame."""

    def __init__(
        self,
        detector: FaceDetector,
        classifier: Classifier,
        tracker: Tracker,
        faces: FacesConfig,
        timer: StageTimer | None = None,
    ) -> None:
        self.detector = detector
        self.classifier = classifier
        self.tracker = tracker
        self.faces = faces
        self.timer = timer or StageTimer()
        self.carry = BoxCarry(
            faces.detect_every,
            faces.carry_min_match,
            faces.max_coast,
            arrival_change=faces.arrival_change,
            windowed=faces.window_scans,
            confirm=faces.confirm_frames,
            confirm_misses=faces.confirm_misses,
            rescan_change=faces.rescan_change,
            whole_every=faces.whole_every,
        )
        self.backdrop = Backdrop(faces.backdrop_match) if faces.backdrop_match > 0 else None
        self.scans: Counter[str] = Counter()  # frames by Haar scan: full, window, none

    @classmethod
    def from_config(
        cls,
        cfg: Config,
        classifier: Classifier,
        labels: Sequence[str],
        timer: StageTimer | None = None,
    ) -> Pipeline:
        """The daemon's pipeline: the ``[faces]`` detector, ``[tracking]``, ``classifier``."""
        f, t = cfg.faces, cfg.tracking
        detector = load_detector(f)
        tracker = Tracker(
            labels, t.iou_min, t.max_missed, t.ema_alpha, t.hysteresis, t.follow_frames
        )
        return cls(detector, classifier, tracker, f, timer)

    def process(self, frame: Frame, index: int, ts: float) -> FrameResult:
        t, carry = self.timer, self.carry
        # The arrival watch reads a grey view: the source's detection image (picamera2's lores
        # plane), else the frame made grey once, which Haar's detection image is then cut from,
        # and the faces' crops too (the same pixels as a crop of the colour frame made grey).
        grey = frame.grey if frame.grey is not None else to_grey(frame.bgr)
        faces_from = frame.bgr if frame.grey is not None else grey
        followed = []
        for face in carry.faces:  # the carried faces' crops, where they moved to
            with t("crop"):
                followed.append(carry.follow_one(faces_from, face))
        scan = carry.scan(frame.bgr, followed, grey)
        self.scans[scan.kind] += 1
        known, confirming = carry.known(followed), carry.confirming(followed)
        with t("detect"):  # one sample per frame: Haar, or ~0 when the faces carry over
            boxes = self._detect(frame.bgr, grey, scan, known, confirming)
            if self.backdrop is not None:  # Haar's boxes on the bare wall are no faces
                width = frame.bgr.shape[1]
                self.backdrop.observe(grey, [*boxes, *(f.box for f in followed)], width)
                boxes = [b for b in boxes if not self.backdrop.shows(grey, b, width)]
        boxes = without_parts(boxes, followed, known)
        found = [(b, r, self._crop(faces_from, r)) for b in boxes for r in [self._region(b)]]
        kept = carry.kept(followed, boxes, scan)
        shown = [k.followed for k in kept if k.shown]  # a face being confirmed may be hidden
        fresh = [not carry.recognised(b, followed) for b in boxes] + [False] * len(shown)
        boxes += [f.box for f in shown]
        crops = [c for _, _, c in found] + [f.crop for f in shown]
        scores = []
        for crop in crops:
            with t("infer"):
                scores.append(self.classifier.classify(crop))
        with t("track"):
            faces = self.tracker.update(boxes, scores, fresh)
        if log.isEnabledFor(logging.DEBUG):
            log.debug("frame %d: %s, %s", index, scan, [(f.id, f.smoothed) for f in faces])
        carry.update(found, kept, scan.full or scan.periodic, followed)
        carry.watch(frame.bgr, scan)
        return FrameResult(index, ts, tuple(faces))

    def _region(self, box: Box) -> Box:
        return crop_box(box, self.faces.crop_margin, self.faces.crop_shift_y)

    def _crop(self, image: np.ndarray, region: Box) -> np.ndarray:
        with self.timer("crop"):
            return crop_face(image, region)

    def _detect(
        self,
        bgr: np.ndarray,
        grey: np.ndarray,
        scan: Scan,
        known: list[Box],
        confirming: list[Box],
    ) -> list[Box]:
        """Haar's boxes in source pixels: on the whole detection image (``grey`` at most
        ``detect_width`` wide), or in each window; ``known``: where the tracked faces are
        (found again on weaker evidence); ``confirming``: where the new faces being confirmed
        are (found again on fewer agreeing detections, still with the second look)."""
        if not scan.windows:
            return []
        image = DetectionImage(grey, self.faces.detect_width)
        factor = bgr.shape[1] / image.width
        known = [b.scaled(1 / factor) for b in known]
        confirming = [b.scaled(1 / factor) for b in confirming]
        if scan.full:
            found = self.detector.detect(image, None, known, None, confirming)
            return [b.scaled(factor) for b in found]
        found = []
        for i, box in enumerate(scan.windows):
            if (c := to_detection(box, factor, image.width, image.height)) is None:
                continue
            sides = scan.sides_of(i)
            if sides is not None:
                sides = (int(sides[0] / factor), math.ceil(sides[1] / factor))
            in_window = self.detector.detect(image, c, known, sides, confirming)
            found += [b.scaled(factor) for b in in_window]
        return found


@dataclass
class RunStats:
    """What ``run`` did, for the exit summary."""

    frames: int = 0
    frames_with_faces: int = 0
    faces: int = 0
    read_failures: int = 0
    ended: bool = False  # the source ran out (as opposed to stop/max_frames)
    seconds: float = 0.0
    tracks: int = 0  # distinct track ids seen (the tracker hands them out in increasing order)
    last_track_id: int = -1  # the highest seen: a count in constant memory, not a set of ids

    def count_tracks(self, faces: Sequence[Face]) -> None:
        """Count the faces whose track id is new, i.e. above every id seen so far."""
        for track_id in sorted(f.id for f in faces):
            if track_id > self.last_track_id:
                self.tracks += 1
                self.last_track_id = track_id


def run(
    source: Source,
    pipeline: Pipeline,
    emit: Callable[[Frame, FrameResult], None],
    stop: threading.Event,
    *,
    clock: Callable[[], float] = time.time,
    read_retries: int = 10,
    retry_delay_s: float = 0.5,
    on_frame: Callable[[], None] = lambda: None,
    max_frames: int | None = None,
    stages_after: Sequence[Callable[[Frame, FrameResult], FrameResult]] = (),
) -> RunStats:
    """Process ``source`` until it ends, ``stop`` is set or ``max_frames`` are done.

    ``stages_after`` run in order between ``process`` and ``emit``, each returning the result
    (possibly replaced, e.g. ``SmileCamera.apply`` sets ``capture``); ``emit(frame, result)``
    hands each frame on (events, network sinks); ``on_frame`` runs after each successful frame
    (the systemd watchdog ping).

    Raises:
        SourceReadError: more than ``read_retries`` consecutive reads failed.
    """
    stats = RunStats()
    started = time.monotonic()
    failures = 0
    while not stop.is_set() and (max_frames is None or stats.frames < max_frames):
        try:
            frame = source.read()
        except SourceReadError as exc:
            failures += 1
            stats.read_failures += 1
            if failures > read_retries:
                raise SourceReadError(
                    f"{source.name}: {failures} reads failed in a row ({exc})"
                ) from exc
            log.warning("read %d/%d failed: %s", failures, read_retries, exc)
            stop.wait(retry_delay_s)
            continue
        failures = 0
        if frame is None:
            stats.ended = True
            log.info("end of source %s", source.name)
            break
        result = pipeline.process(frame, stats.frames, clock())
        for stage in stages_after:
            result = stage(frame, result)
        emit(frame, result)
        on_frame()
        stats.frames += 1
        stats.faces += len(result.faces)
        stats.frames_with_faces += bool(result.faces)
        stats.count_tracks(result.faces)
    stats.seconds = time.monotonic() - started
    return stats
