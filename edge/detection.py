"""The face-detector seam: ``FaceDetector`` and ``load_detector(faces_cfg)``.

Anything with ``detect(grey, window=None, known=(), sides=None, confirming=()) -> list[Box]``
is a detector (fakes need no inheritance): boxes in the grey image's pixels, largest first;
the pipeline hands it an ``edge.preprocess.DetectionImage`` (``whole()``: all of the grey
detection image; ``part(region)``: a block of it, downscaled alone), tests often a plain array;
``window`` limits the search to a part of the image; ``known`` holds the boxes of faces already
tracked (a detector may accept weaker evidence there, see ``faces.known_neighbors``); ``sides``
(min, max), where given, limits the search to faces of those sides (a face looked for again
where it was); ``confirming`` holds the boxes of new faces being confirmed (found on an earlier
frame: a detector may find them again on weaker evidence, but not as weak as a tracked face's).
The Haar cascade (``edge/faces.py``) is the first one. ``load_detector`` builds it from
``[faces]``: the pipeline, ``selftest`` and ``bench/web_load.py`` all call it, so every
``[faces]`` detection key reaches every detector.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Protocol

import numpy as np

from edge.config import FacesConfig
from edge.faces import HaarFaceDetector
from edge.preprocess import DetectionImage
from edge.types import Box

log = logging.getLogger(__name__)


class FaceDetector(Protocol):
    """Faces in a 2-D uint8 grey image, largest first."""

    def detect(
        self,
        grey: np.ndarray | DetectionImage,
        window: Box | None = None,
        known: Sequence[Box] = (),
        sides: tuple[int, int] | None = None,
        confirming: Sequence[Box] = (),
    ) -> list[Box]: ...


def load_detector(cfg: FacesConfig) -> FaceDetector:
    """The ``[faces]`` detector: Haar with the configured cascade, scales and limits.

    Warns when a config from before the second cascade (``min_neighbors = 8``, written out by
    ``systemd/install.sh``, which keeps an existing file) meets it: both together find fewer
    new faces than either."""
    if cfg.verify_cascade and cfg.min_neighbors >= OLD_MIN_NEIGHBORS:
        log.warning(
            "faces.min_neighbors = %d with faces.verify_cascade set finds fewer faces than "
            "either: the defaults are min_neighbors = 4, known_neighbors = 3 (see "
            'edge/config.example.toml); or set verify_cascade = ""',
            cfg.min_neighbors,
        )
    return HaarFaceDetector(
        cfg.cascade,
        cfg.scale_factor,
        cfg.min_neighbors,
        cfg.min_size,
        cfg.max_faces,
        cfg.known_neighbors,
        cfg.verify_cascade,
        cfg.verify_neighbors,
        cfg.sure_neighbors,
    )


OLD_MIN_NEIGHBORS = 8  # the default before the second cascade
