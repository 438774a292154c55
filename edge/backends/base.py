"""The classifier seam: anything with ``name`` and ``classify(face48) -> scores``."""

from __future__ import annotations

from typing import Protocol

import numpy as np


class Classifier(Protocol):
    """A face classifier; fakes need no inheritance.

    ``name`` is the backend in use ("cpu", "edgetpu"); it may change mid-run (failover).
    """

    @property
    def name(self) -> str: ...

    def classify(self, face: np.ndarray) -> np.ndarray:
        """Dequantized float32 scores, shape (7,), for one uint8 (48, 48) grey face."""
        ...
